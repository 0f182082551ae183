"""Dataset converters: ``mgproto convert <format> ...`` writes the interchange format.

Each converter module offers ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args)``
returning ``(AnnotationFile, ConversionReport)``; the CLI saves the file and prints the report.
The dataset-specific code only reads files into ``Sequence`` / ``Segment`` objects: cutting,
class mapping, validation and skip reporting live in ``mgproto.data.sequences``.
"""

from __future__ import annotations

from types import ModuleType


def converters() -> dict[str, ModuleType]:
    """Format name -> converter module."""
    from mgproto.data.converters import imigue, miga2023, miga2025, smg, utkinect

    return {
        "imigue": imigue,
        "miga2023": miga2023,
        "miga2025": miga2025,
        "smg": smg,
        "utkinect": utkinect,
    }
