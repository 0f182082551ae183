"""The skeleton interchange format (PYSKL / MMAction2 pickle) and our pickle-free twin.

A file holds ``{'split': {name: [frame_dir, ...]}, 'annotations': [record, ...]}`` where each
record is a dict with

=================  ===========================  ==============================================
key                type                         meaning
=================  ===========================  ==============================================
frame_dir          str                          clip id, e.g. ``0054_3``
label              int                          class index (-1 = unlabelled test clip)
img_shape          (H, W)                       frame size the keypoints refer to
original_shape     (H, W)                       frame size of the source video
total_frames       int                          T
keypoint           float32 (M, T, V, 2)         x, y in pixels; missing joint = score 0
                   or float32 (M, T, V, 3)      x, y, z (3-D skeletons, any unit, e.g. metres)
keypoint_score     float32 (M, T, V)            confidence in [0, 1]
=================  ===========================  ==============================================

3-D skeletons follow PYSKL's NTU RGB+D 3-D files: ``keypoint`` has 3 coordinates per joint and
``keypoint_score`` and ``img_shape`` may be absent. A missing score means every joint is valid
(score 1) where its coordinates are finite and not all zero (PYSKL marks a missing 3-D joint, and
an absent second person, by zeros); a 2-D file without scores counts every finite joint as valid.
A file holds 2-D or 3-D keypoints, not both.

Optional keys of ours (ignored by PYSKL / MMAction2): ``video_id``, ``subject_id``,
``start_frame``, ``end_frame`` (inclusive, in the source video), ``layout`` and ``filename``
(the matching RGB clip; MMAction2 reads the same key). An optional top-level ``meta`` dict holds
``layout``, ``classes`` and ``dataset``.

Loading is safe: pickles go through an unpickler that admits only numpy arrays, builtin
containers and scalars, and no more array memory than the file holds; ``.npz`` files (our own
format: arrays plus one JSON document) never unpickle anything (:mod:`mgproto.fileio.safe_pickle`).
Records may not name files outside the video root (``filename`` / ``frame_dir`` / ``video_id``
that are absolute or contain ``..``).

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

import json
import pickle
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

import numpy as np

from mgproto.data.layouts import get_layout
from mgproto.fileio import (
    NPZ_ERRORS,
    UnsafeFileError,
    atomic_write,
    atomic_write_npz,
    check_npz,
    safe_unpickle,
)

# Labels must lie in -1..MAX_CLASSES-1 when the class count is not given (counting classes
# allocates one slot per id).
MAX_CLASSES = 100_000


class AnnotationError(ValueError):
    """A skeleton file or record that is malformed; the message names file, record and key."""


@dataclass
class AnnotationFile:
    """The content of one interchange file.

    Attributes:
        annotations: records (dicts, see the module docstring).
        split: split name -> list of frame_dir.
        meta: optional dataset-level facts (``layout``, ``classes``, ``dataset``).
    """

    annotations: list[dict[str, Any]]
    split: dict[str, list[str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def select(self, split: str | None) -> list[dict[str, Any]]:
        """Records of ``split`` in split-list order (all records if ``split`` is None)."""
        if split is None:
            return list(self.annotations)
        if split not in self.split:
            raise KeyError(f"no split {split!r}; splits in the file: {sorted(self.split)}")
        by_id = {r["frame_dir"]: r for r in self.annotations}
        missing = [f for f in self.split[split] if f not in by_id]
        if missing:
            raise AnnotationError(
                f"split {split!r} names {len(missing)} clips that have no record, "
                f"first {missing[0]!r}"
            )
        return [by_id[f] for f in self.split[split]]


def _unpickle(data: bytes, *, source: str) -> Any:
    """:func:`mgproto.fileio.safe_unpickle`, its errors as AnnotationError."""
    try:
        return safe_unpickle(data, source=source)
    except UnsafeFileError as err:
        raise AnnotationError(str(err)) from None


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _where(source: str, index: int, record: Any) -> str:
    name = record.get("frame_dir", "?") if isinstance(record, dict) else "?"
    return f"{source}: record {index} ({name!r})"


def _array(value: Any, key: str, where: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as err:  # e.g. ragged nested lists
        raise AnnotationError(f"{where}: {key} is not an array ({err})") from None


def _inside_root(name: str) -> bool:
    """Whether a relative file name stays inside the folder it is joined to."""
    path = PureWindowsPath(name)  # splits on "/" and backslash alike; sees drives and UNC hosts
    return not (path.drive or path.root or ".." in path.parts or "\0" in name)


def validate_record(
    record: dict[str, Any],
    *,
    index: int = 0,
    source: str = "<memory>",
    num_classes: int | None = None,
    num_joints: int | None = None,
    joints_of: str | None = None,
) -> dict[str, Any]:
    """Check one record and return it normalised (float32 arrays, tuples, NaNs of missing joints
    set to 0). Raises AnnotationError naming the file, the record index and its frame_dir.

    Args:
        record: the record dict.
        num_classes: if given, labels must lie in [0, num_classes) (or be -1 = unlabelled).
        num_joints: if given, V must equal it (e.g. the layout's joint count).
        joints_of: what ``num_joints`` is the joint count of, for the message (e.g.
            ``"the file's layout 'coco17'"``).
    """
    where = _where(source, index, record)
    if not isinstance(record, dict):
        raise AnnotationError(f"{where}: a record must be a dict, got {type(record).__name__}")
    for key in ("frame_dir", "keypoint", "total_frames"):
        if key not in record:
            raise AnnotationError(f"{where}: missing key {key!r}")
    out = dict(record)
    if not isinstance(out["frame_dir"], str) or not out["frame_dir"]:
        raise AnnotationError(f"{where}: frame_dir must be a non-empty string")

    kp = _array(out["keypoint"], "keypoint", where)
    if kp.ndim != 4 or kp.shape[-1] not in (2, 3):
        raise AnnotationError(
            f"{where}: keypoint must have shape (M, T, V, 2) (x, y pixels) or (M, T, V, 3) "
            f"(x, y, z), got {kp.shape}"
        )
    is_3d = kp.shape[-1] == 3
    if "img_shape" not in out and not is_3d:
        raise AnnotationError(f"{where}: missing key 'img_shape' (2-D keypoints need it)")
    if not np.issubdtype(kp.dtype, np.floating):
        raise AnnotationError(f"{where}: keypoint must be floating point, got {kp.dtype}")
    m, t, v, _ = kp.shape
    if m < 1 or v < 1:
        raise AnnotationError(f"{where}: keypoint has no persons or joints, shape {kp.shape}")
    if t < 1:
        raise AnnotationError(f"{where}: empty clip (0 frames)")
    if num_joints is not None and v != num_joints:
        what = f"{joints_of} has" if joints_of else "expected"
        raise AnnotationError(f"{where}: keypoint has {v} joints, {what} {num_joints}")
    if "keypoint_score" in out and out["keypoint_score"] is not None:
        score = _array(out["keypoint_score"], "keypoint_score", where)
        if score.shape != (m, t, v):
            raise AnnotationError(
                f"{where}: keypoint_score shape {score.shape} does not match keypoint {(m, t, v)}"
            )
        if not np.issubdtype(score.dtype, np.floating):
            raise AnnotationError(f"{where}: keypoint_score must be floating point")
        if not np.all(np.isfinite(score)):
            raise AnnotationError(f"{where}: keypoint_score has NaN or infinite values")
        if score.min() < 0 or score.max() > 1:
            raise AnnotationError(
                f"{where}: keypoint_score must lie in [0, 1], found [{score.min()}, {score.max()}]"
            )
    else:
        score = np.ones((m, t, v), np.float32)  # PYSKL convention: no score = fully confident
        score[~np.all(np.isfinite(kp), axis=-1)] = 0
        if is_3d:  # PYSKL's 3-D files mark missing joints (and absent persons) by zeros
            score[np.all(kp == 0, axis=-1)] = 0
    bad = ~np.all(np.isfinite(kp), axis=-1) & (score > 0)
    if bad.any():
        mi, ti, vi = (int(x[0]) for x in np.nonzero(bad))
        raise AnnotationError(
            f"{where}: non-finite keypoint at person {mi}, frame {ti}, joint {vi} with score "
            f"{float(score[mi, ti, vi]):.3g} > 0 (a missing joint must have score 0)"
        )
    kp = np.where(np.isfinite(kp), kp, 0).astype(np.float32)
    out["keypoint"], out["keypoint_score"] = kp, score.astype(np.float32)

    total = out["total_frames"]
    if isinstance(total, bool) or not isinstance(total, int | np.integer) or int(total) != t:
        raise AnnotationError(f"{where}: total_frames={total!r} but keypoint has {t} frames")
    out["total_frames"] = int(total)
    for key in ("img_shape", "original_shape"):
        if out.get(key) is None and is_3d:  # optional for 3-D keypoints (no image plane)
            out.pop(key, None)
            continue
        if key not in out:
            continue
        try:
            values = np.asarray(out[key]).reshape(-1)
            shape = tuple(int(x) for x in values) if values.size == 2 else ()
        except (TypeError, ValueError, OverflowError):
            shape = ()
        if len(shape) != 2 or min(shape) <= 0:
            raise AnnotationError(f"{where}: {key} must be (H, W) > 0, got {out[key]!r}")
        out[key] = shape
    if "img_shape" in out:
        out.setdefault("original_shape", out["img_shape"])

    label = out.get("label", -1)
    if isinstance(label, bool) or not isinstance(label, int | np.integer):
        raise AnnotationError(f"{where}: label must be an integer, got {label!r}")
    label, top = int(label), MAX_CLASSES if num_classes is None else num_classes
    if not -1 <= label < top:
        raise AnnotationError(
            f"{where}: unknown class id {label}; valid ids are 0..{top - 1} (-1 = none)"
        )
    out["label"] = label
    for key in ("frame_dir", "filename", "video_id"):
        value = out.get(key)
        if key == "filename" and value is not None and not isinstance(value, str):
            raise AnnotationError(f"{where}: filename must be a string, got {value!r:.60}")
        if isinstance(value, str) and not _inside_root(value):
            raise AnnotationError(
                f"{where}: {key} {value!r:.80} points outside the video root "
                "(absolute paths and '..' are refused)"
            )
    if "layout" in out and out["layout"] is not None:
        try:
            layout_v = get_layout(str(out["layout"])).num_joints
        except KeyError as err:
            raise AnnotationError(f"{where}: {err.args[0]}") from None
        if layout_v != v:
            raise AnnotationError(
                f"{where}: keypoint has {v} joints, layout {out['layout']!r} expects {layout_v}"
            )
    return out


def validate_file(
    ann: AnnotationFile,
    *,
    source: str,
    num_classes: int | None = None,
    num_joints: int | None = None,
) -> AnnotationFile:
    """Validate every record and the split lists; returns the normalised file."""
    joints_of = None
    if num_joints is None and ann.meta.get("layout"):
        try:
            num_joints = get_layout(str(ann.meta["layout"])).num_joints
        except KeyError as err:
            raise AnnotationError(f"{source}: meta: {err.args[0]}") from None
        joints_of = f"the file's layout {ann.meta['layout']!r} (meta)"
    checks = dict(num_classes=num_classes, num_joints=num_joints, joints_of=joints_of)
    records = [
        validate_record(r, index=i, source=source, **checks) for i, r in enumerate(ann.annotations)
    ]
    for i, r in enumerate(records):
        dims, first = r["keypoint"].shape[-1], records[0]["keypoint"].shape[-1]
        if dims != first:
            raise AnnotationError(
                f"{_where(source, i, r)}: keypoint has {dims} coordinates per joint but record 0 "
                f"({records[0]['frame_dir']!r}) has {first}; a file holds 2-D or 3-D "
                "keypoints, not both"
            )
    seen: dict[str, int] = {}
    for i, r in enumerate(records):
        if r["frame_dir"] in seen:
            raise AnnotationError(
                f"{source}: record {i} ({r['frame_dir']!r}) repeats the frame_dir of record "
                f"{seen[r['frame_dir']]}"
            )
        seen[r["frame_dir"]] = i
    for name, ids in ann.split.items():  # each clip once: a repeat would weigh it twice
        missing = [x for x in ids if x not in seen]
        twice = [x for x, n in Counter(ids).items() if n > 1]
        if missing or twice:
            what = (f"names {len(missing)} unknown clips, first {missing[0]!r}" if missing else
                    f"lists clip {twice[0]!r} twice (a split holds a clip once)")  # fmt: skip
            raise AnnotationError(f"{source}: split {name!r} {what}")
    return AnnotationFile(records, {k: list(v) for k, v in ann.split.items()}, dict(ann.meta))


# --------------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------------


def _from_object(obj: Any, source: str) -> AnnotationFile:
    if isinstance(obj, list):  # a bare list of records (also accepted by MMAction2)
        return AnnotationFile(obj)
    if not isinstance(obj, dict) or "annotations" not in obj:
        raise AnnotationError(
            f"{source}: expected a dict with 'split' and 'annotations' (or a list of records)"
        )
    split = {} if obj.get("split") is None else obj["split"]
    if not isinstance(split, dict) or not all(
        isinstance(v, list | tuple) and all(isinstance(x, str) for x in v) for v in split.values()
    ):
        raise AnnotationError(f"{source}: 'split' must map split names to lists of frame_dir")
    if not isinstance(obj["annotations"], list):
        raise AnnotationError(f"{source}: 'annotations' must be a list of records")
    meta = {} if obj.get("meta") is None else obj["meta"]
    if not isinstance(meta, dict):
        raise AnnotationError(f"{source}: 'meta' must be a dict, got {type(meta).__name__}")
    return AnnotationFile(
        list(obj["annotations"]), {str(k): list(v) for k, v in split.items()}, dict(meta)
    )


def load_annotations(
    path: str | Path, *, num_classes: int | None = None, num_joints: int | None = None
) -> AnnotationFile:
    """Read and validate a ``.pkl`` (PYSKL / MMAction2) or ``.npz`` (ours) skeleton file."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: file not found")
    source = str(path)
    if path.suffix == ".npz":
        ann = _from_object(_read_npz(path), source)
    else:
        try:
            data = path.read_bytes()
        except OSError as err:
            raise AnnotationError(f"{path}: cannot read the file ({err})") from None
        ann = _from_object(_unpickle(data, source=source), source)
    return validate_file(ann, source=source, num_classes=num_classes, num_joints=num_joints)


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _read_npz(path: Path) -> Any:
    """The JSON document of our ``.npz``, each record dict given its two arrays."""
    try:
        check_npz(path)
        with np.load(path, allow_pickle=False) as z:
            doc = json.loads(z["__doc__"].tobytes().decode("utf-8"))
            for i, rec in enumerate(doc.get("annotations") if isinstance(doc, dict) else ()):
                if isinstance(rec, dict):
                    rec["keypoint"] = z[f"{i}/keypoint"]
                    if f"{i}/keypoint_score" in z:  # absent: 3-D records without scores
                        rec["keypoint_score"] = z[f"{i}/keypoint_score"]
    except UnsafeFileError as err:
        raise AnnotationError(f"{path}: {err}") from None
    except NPZ_ERRORS as err:
        raise AnnotationError(
            f"{path}: not a readable mgproto .npz ({type(err).__name__}: {err})"
        ) from None
    return doc


def save_annotations(ann: AnnotationFile, path: str | Path) -> Path:
    """Write ``ann`` atomically: ``.pkl`` in the PYSKL layout, ``.npz`` in our safe format."""
    path = Path(path)
    if path.suffix == ".npz":
        doc = {"split": ann.split, "meta": _plain(ann.meta), "annotations": []}
        arrays: dict[str, np.ndarray] = {}
        for i, rec in enumerate(ann.annotations):
            doc["annotations"].append(
                {k: _plain(v) for k, v in rec.items() if k not in ("keypoint", "keypoint_score")}
            )
            arrays[f"{i}/keypoint"] = np.asarray(rec["keypoint"], np.float32)
            if rec.get("keypoint_score") is not None:
                arrays[f"{i}/keypoint_score"] = np.asarray(rec["keypoint_score"], np.float32)
        arrays["__doc__"] = np.frombuffer(json.dumps(doc).encode("utf-8"), dtype=np.uint8)
        atomic_write_npz(path, arrays, compressed=True)
    else:
        obj: dict[str, Any] = {"split": ann.split, "annotations": ann.annotations}
        if ann.meta:
            obj["meta"] = ann.meta
        atomic_write(path, lambda f: pickle.dump(obj, f, protocol=4))
    return path
