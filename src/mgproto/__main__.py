"""``python -m mgproto`` (also ``torchrun -m mgproto``)."""

from mgproto.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
