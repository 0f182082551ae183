"""How verbs treat their outputs (the policy of ``mgproto.fileio``, applied to CLI arguments)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from mgproto.fileio import check_output


def add_force(parser: argparse.ArgumentParser) -> None:
    """The ``--force`` flag of a verb that writes one result file."""
    parser.add_argument(
        "--force", action="store_true", help="replace the output file if it already exists"
    )


def _path_args(args: argparse.Namespace, skip: str) -> list[str]:
    """Every string argument except ``skip``: the candidate inputs of the command."""
    out: list[str] = []
    for key, value in vars(args).items():
        if key == skip or key == "func":
            continue
        values = value if isinstance(value, list | tuple) else [value]
        out += [v for v in values if isinstance(v, str) and v]
    return out


def output_of(
    args: argparse.Namespace, key: str = "output", *, inputs: Iterable[str | Path] = ()
) -> Path:
    """The checked output path ``args.<key>``: never one of the command's inputs, never a
    non-regular file, and (for verbs with ``--force``) never an existing file unless forced."""
    force = getattr(args, "force", None)
    return check_output(
        getattr(args, key),
        inputs=[*_path_args(args, key), *inputs],
        force=None if force is None else bool(force),
    )
