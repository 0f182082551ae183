"""Argument types with ranges: a bad number is argparse's one-line usage error, not a crash.

Every count or size a verb allocates memory or time by has an upper bound too (a typo such as
``--clips 100000`` is refused in a line instead of exhausting memory); the bounds are generous
for real use and each flag's help states its own.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from mgproto.data.corruption import MAX_JITTER
from mgproto.schema import MAX_BATCH, MAX_CLIPS, MAX_WORKERS  # the config's bounds

# Upper bounds of the other flags that size work (each flag's help states its own).
MAX_PIXELS = 4096  # a rendered side, pixels
MAX_WINDOW_SECONDS = 60.0  # a window or window step of `predict`, seconds
MAX_SMOOTH_SECONDS = 10.0  # the smoothing width of `predict`, seconds (its cost grows with it)
MAX_PREVIEW_FRAMES = 64  # frames per clip of a preview sheet (fewer for shorter clips)
MAX_PREVIEW_CLIPS = 100  # rows of a preview sheet


def number_type(
    kind: type, low: float, *, strict: bool, high: float | None = None
) -> Callable[[str], float]:
    """An argparse ``type``: ``kind(text)``, finite, above ``low`` (``> low`` when ``strict``,
    else ``>= low``) and at most ``high``; else a one-line ``ArgumentTypeError``."""
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


positive_int = number_type(int, 0, strict=True)
non_negative_int = number_type(int, 0, strict=False)
positive_float = number_type(float, 0, strict=True)
non_negative_float = number_type(float, 0, strict=False)
unit_float = number_type(float, 0, strict=False, high=1)
degrees = number_type(float, -360, strict=False, high=360)
num_clips = number_type(int, 0, strict=True, high=MAX_CLIPS)
batch_size = number_type(int, 0, strict=True, high=MAX_BATCH)
pixels = number_type(int, 0, strict=True, high=MAX_PIXELS)
window_seconds = number_type(float, 0, strict=True, high=MAX_WINDOW_SECONDS)
smooth_seconds = number_type(float, 0, strict=False, high=MAX_SMOOTH_SECONDS)
preview_frames = number_type(int, 0, strict=True, high=MAX_PREVIEW_FRAMES)
preview_clips = number_type(int, 0, strict=True, high=MAX_PREVIEW_CLIPS)
workers = number_type(int, 0, strict=True, high=MAX_WORKERS)
jitter = number_type(float, 0, strict=False, high=MAX_JITTER)


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
