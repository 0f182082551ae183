"""The verbs of the ``mgproto`` command line, grouped by topic."""
