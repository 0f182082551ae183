"""The ``mgproto`` command line: one entry point; the verbs live in ``mgproto.commands``."""

from __future__ import annotations

import argparse
import sys

from mgproto.commands import data_cmds, infer_cmds, info, model_cmds, pose_cmds, result_cmds
from mgproto.config import ConfigError
from mgproto.data.annotations import AnnotationError

MODULES = (data_cmds, info, model_cmds, result_cmds, pose_cmds, infer_cmds)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mgproto", description="Micro-gesture recognition: data, training, evaluation."
    )
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for module in MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, AnnotationError, ValueError, KeyError, RuntimeError, OSError) as err:
        print(f"mgproto {args.verb}: error: {_message(err)}", file=sys.stderr)
        return 2


def _message(err: BaseException) -> str:
    """One line for the user: the file and the reason for OS errors, the message otherwise."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        return f"{err.filename}: {err.strerror}"
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    text = str(err).strip() or type(err).__name__
    return text


if __name__ == "__main__":
    raise SystemExit(main())
