"""The ``mgproto`` command line: one entry point; the verbs live in ``mgproto.commands``."""

from __future__ import annotations

import argparse
import os
import sys

from mgproto.commands import data_cmds, infer_cmds, info, model_cmds, pose_cmds, result_cmds
from mgproto.commands.errors import USER_ERRORS, user_message

MODULES = (data_cmds, info, model_cmds, result_cmds, pose_cmds, infer_cmds)
# The exit status of a process killed by SIGPIPE (128 + 13), what `cmd | head` leaves a C tool.
BROKEN_PIPE_EXIT = 141


def version() -> str:
    """The installed package's version (its metadata), else ``mgproto.__version__``."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("mgproto")
    except PackageNotFoundError:
        import mgproto

        return getattr(mgproto, "__version__", "unknown")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mgproto",
        description="Micro-gesture recognition: data, training, evaluation. "
        "`mgproto VERB --help` describes each verb.",
    )
    parser.add_argument("--version", action="version", version=f"mgproto {version()}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for module in MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one verb; returns its exit status (2 for a user's mistake, 141 for a closed pipe)."""
    try:
        try:
            return _run(argv)
        finally:  # what is still buffered meets a closed pipe here, not at interpreter exit
            sys.stdout.flush()
    except BrokenPipeError:  # `mgproto info ... | head`: the reader has all it wants
        _silence_stdout()
        return BROKEN_PIPE_EXIT


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        raise
    except USER_ERRORS as err:
        print(f"mgproto {args.verb}: error: {user_message(err)}", file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's last flush at exit does not fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a test harness: nothing to do
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    raise SystemExit(main())
