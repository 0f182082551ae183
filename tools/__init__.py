"""Developer tools that are neither the package nor its tests: the MMAction2 oracle's scripts
(run by the oracle's own interpreter) and mgproto's client side of the parity checks."""
