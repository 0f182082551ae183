"""How verbs treat their outputs (the policy of ``mgproto.fileio``, applied to CLI arguments).

Every file a verb writes, the files inside its output folder too, is checked against every
input of the command before the first one is written: :func:`output_of` for a verb that writes
one file, :func:`outputs_of` for several (an output folder's).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from mgproto.fileio import check_outputs


def add_force(parser: argparse.ArgumentParser) -> None:
    """The ``--force`` flag of a verb that writes one result file."""
    parser.add_argument(
        "--force", action="store_true", help="replace the output file if it already exists"
    )


def _flatten(value: object) -> list[str | Path]:
    """The paths in an argument's value: a string or Path, or lists / tuples of them
    (``--split-root NAME=PATH`` gives ``(name, Path)``)."""
    if isinstance(value, list | tuple):
        return [p for v in value for p in _flatten(v)]
    if isinstance(value, Path) or (isinstance(value, str) and value):
        return [value]
    return []


def path_args(args: argparse.Namespace, *, skip: Iterable[str] = ()) -> list[str | Path]:
    """Every string or Path argument except those named in ``skip``: the candidate inputs of
    the command (a value that names no file matches no output)."""
    skipped = {*skip, "func"}
    return [p for key, value in vars(args).items() if key not in skipped for p in _flatten(value)]


def input_folders(args: argparse.Namespace, *, skip: Iterable[str] = ()) -> list[Path]:
    """The arguments that name existing folders: a verb that scans them (``convert``) reads
    the files found under them, which are then inputs too."""
    return [Path(p) for p in path_args(args, skip=skip) if Path(p).is_dir()]


def outputs_of(
    args: argparse.Namespace,
    paths: Iterable[str | Path],
    *,
    skip: Iterable[str] = (),
    inputs: Iterable[str | Path] = (),
    scans_folders: bool = False,
    replaces: bool = False,
    hint: str = "choose another output",
) -> list[Path]:
    """Every file the verb will write, checked before the first is written.

    An output is never one of the command's inputs: its path arguments other than ``skip``,
    plus ``inputs``, and with ``scans_folders`` any file found under a folder argument. It is
    never a non-regular file, and for a verb with ``--force`` never an existing file unless
    forced; ``replaces`` marks a folder verb, which replaces its own earlier outputs. ``hint``
    ends the message about an output that is an input.
    """
    force = None if replaces else getattr(args, "force", None)
    skip = list(skip)
    return check_outputs(
        paths,
        inputs=[*path_args(args, skip=skip), *inputs],
        input_folders=input_folders(args, skip=skip) if scans_folders else (),
        force=None if force is None else bool(force),
        hint=hint,
    )


def output_of(
    args: argparse.Namespace,
    key: str = "output",
    *,
    inputs: Iterable[str | Path] = (),
    scans_folders: bool = False,
) -> Path:
    """The checked output path ``args.<key>`` (see :func:`outputs_of`)."""
    (path,) = outputs_of(
        args, [getattr(args, key)], skip=[key], inputs=inputs, scans_folders=scans_folders
    )
    return path
