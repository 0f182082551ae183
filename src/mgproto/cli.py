"""The ``mgproto`` command line: one entry point; the verbs live in ``mgproto.commands``."""

from __future__ import annotations

import argparse
import sys

from mgproto.commands import data_cmds, infer_cmds, model_cmds, pose_cmds, result_cmds
from mgproto.config import ConfigError
from mgproto.data.annotations import AnnotationError

MODULES = (data_cmds, model_cmds, result_cmds, pose_cmds, infer_cmds)


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
    except (
        ConfigError,
        AnnotationError,
        FileNotFoundError,
        ValueError,
        KeyError,
        RuntimeError,
    ) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"mgproto {args.verb}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
