"""``mgproto inspect FILE``: check a skeleton file record by record (``mgproto info`` gives the
short summary of any file).

Loading validates every record (shapes, scores, labels, clip ids, splits) and stops at the
first broken one, naming it. What loads may still be doubtful; each doubt is a warning that
names the records concerned, the file stays usable:

- valid keypoints outside the frame the record's ``img_shape`` gives (a wrong ``img_shape``, or
  a pose estimator's guess past the edge: both misplace the heatmaps);
- label ranges that look typed wrong (:func:`mgproto.data.records.label_doubts`);
- a layout that neither the file nor the joint count says.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mgproto.data.sequences import MAX_WARNINGS_SHOWN

HELP = "check a skeleton file record by record: statistics, clips per class, warnings"
DESCRIPTION = (
    "Validate every record of a .pkl or .npz skeleton file (an error names the first broken "
    "record), then print its splits, clip lengths and clips per class, and warn about records "
    "with keypoints outside the frame (img_shape), label ranges that look wrong, and a layout "
    "the file does not record. Warnings do not change the exit status. For a short summary of "
    "any file (checkpoints and score files too), use `mgproto info`."
)


def _listed(lines: list[str], *, indent: str = "  ") -> list[str]:
    """The first MAX_WARNINGS_SHOWN lines, then how many more there are."""
    shown = [indent + x for x in lines[:MAX_WARNINGS_SHOWN]]
    if len(lines) > MAX_WARNINGS_SHOWN:
        shown.append(f"{indent}... and {len(lines) - MAX_WARNINGS_SHOWN} more")
    return shown


def inspect_skeletons(path: str | Path) -> tuple[list[str], int]:
    """The report ``mgproto inspect`` prints for a skeleton file, and its number of warnings."""
    from mgproto.commands.info import layout_text
    from mgproto.data.annotations import load_annotations
    from mgproto.data.records import (
        class_counts,
        file_layout,
        keypoint_dims,
        keypoints_outside,
        label_doubts,
    )

    path = Path(path)
    if path.is_dir() or path.suffix in (".pt", ".pth"):
        raise ValueError(
            f"{path}: a run folder or checkpoint, not a skeleton file; `mgproto info {path}` "
            "describes it"
        )
    ann = load_annotations(path)
    records, meta = ann.annotations, ann.meta
    lines = [
        f"{path}: {len(records)} records, all valid; {keypoint_dims(records)}-D keypoints; "
        f"layout {layout_text(meta, records)}; dataset {meta.get('dataset', '?')}"
    ]
    lines += [f"  split {name}: {len(ids)} clips" for name, ids in ann.split.items()]
    in_split = {x for ids in ann.split.values() for x in ids}
    if ann.split and len(in_split) < len(records):
        lines.append(f"  in no split: {len(records) - len(in_split)} clips")
    warnings: list[list[str]] = []
    if records:
        frames = sorted(r["total_frames"] for r in records)
        shapes = sorted({tuple(r["keypoint"].shape[::2]) for r in records})
        lines.append(f"  frames per clip: min {frames[0]}, median {frames[len(frames) // 2]}, "
                     f"max {frames[-1]}; (persons, joints): {shapes}")  # fmt: skip
        names = meta.get("classes") or []
        num_classes = max(max(r["label"] for r in records) + 1, len(names))
        counts = class_counts(records, num_classes)
        lines += [f"  class {k:3d} {names[k] if k < len(names) else k}: {n}"
                  for k, n in enumerate(counts)]  # fmt: skip
        unlabelled = sum(r["label"] < 0 for r in records)
        if unlabelled:
            lines.append(f"  unlabelled (label -1): {unlabelled} clips")
        warnings += _warnings(
            records,
            outside=keypoints_outside(records),
            doubts=label_doubts(records),
            layout=file_layout(meta, records),
        )
    for block in warnings:
        lines += block
    count = f"{len(warnings)} warning{'s' * (len(warnings) != 1)}"
    lines.append(f"{count} (the file loads; warnings are doubts to check, not errors)"
                 if warnings else "no warnings")  # fmt: skip
    return lines, len(warnings)


def _warnings(
    records: list[dict], *, outside: list, doubts: list[str], layout: tuple[str | None, str]
) -> list[list[str]]:
    """One block of lines per kind of doubt: a ``warning:`` line, then the records."""
    blocks = []
    if outside:
        worst = max(outside, key=lambda o: o.beyond)
        frames = sum(o.num_frames for o in outside)
        frames_text = f"{frames} frame{'s' * (frames != 1)}"
        blocks.append([
            f"warning: valid keypoints outside the frame (img_shape) in {len(outside)} of "
            f"{len(records)} records, {frames_text}; worst {worst.worst} in record "
            f"{worst.index} ({worst.frame_dir!r}), frame {worst.frame}",
            *_listed([o.describe() for o in outside]),
        ])  # fmt: skip
    if doubts:
        blocks.append([f"warning: label ranges to check ({len(doubts)}):", *_listed(doubts)])
    name, why = layout
    if name is None:
        blocks.append(
            [
                f"warning: the layout is not recorded and the joint count does not say "
                f"which ({why}); set it in the file's meta or with data.pose.layout"
            ]
        )
    return blocks


def run(args: argparse.Namespace) -> int:
    lines, _ = inspect_skeletons(args.file)
    print("\n".join(lines))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help=HELP, description=DESCRIPTION)
    p.add_argument("file", help=".pkl or .npz skeleton file")
    p.set_defaults(func=run)
