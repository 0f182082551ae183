"""Argument types with ranges: a bad number is argparse's one-line usage error, not a crash."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(kind: type, low: float, *, strict: bool, high: float | None = None) -> Callable:
    bound = f"> {low:g}" if strict else f">= {low:g}"
    if high is not None:
        bound += f" and <= {high:g}"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind.__name__}") from None
        ok = math.isfinite(value) and (value > low if strict else value >= low)
        if not ok or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is out of range, expected {bound}")
        return value

    parse.__name__ = f"{kind.__name__} {bound}"
    return parse


positive_int = _number(int, 0, strict=True)
non_negative_int = _number(int, 0, strict=False)
positive_float = _number(float, 0, strict=True)
non_negative_float = _number(float, 0, strict=False)
unit_float = _number(float, 0, strict=False, high=1)


def key_value(text: str) -> str:
    """One ``--set`` item: ``a.b=value`` (the value is parsed as YAML later)."""
    if "=" not in text or text.startswith("="):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not KEY=VALUE (a config file or run folder goes before --set, "
            "or after --)"
        )
    return text


def add_set_option(p: argparse.ArgumentParser, what: str) -> None:
    """``--set KEY=VALUE [KEY=VALUE ...]``, repeatable: ``--set a=1 b=2`` = ``--set a=1 --set b=2``.

    ``what`` completes the help, e.g. ``"override fields, e.g. train.epochs=5"``.
    """
    p.add_argument(
        "--set",
        nargs="+",
        action="extend",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help=f"{what}; one --set takes several, and may repeat",
    )
