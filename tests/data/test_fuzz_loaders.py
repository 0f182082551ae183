"""Property-based fuzzing of ``load_annotations``: every input gives a validated file or one
AnnotationError that names the file, never another exception type."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgproto.data.annotations import (
    AnnotationError,
    AnnotationFile,
    load_annotations,
    save_annotations,
)

# MGPROTO_FUZZ_EXAMPLES=2000 explores further than the few seconds the suite allows.
FUZZ = settings(
    max_examples=int(os.environ.get("MGPROTO_FUZZ_EXAMPLES", 100)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def make_record(name: str, *, label: int = 0, num_frames: int = 4, num_persons: int = 1,
                num_joints: int = 17, seed: int = 0) -> dict:  # fmt: skip
    """A valid coco17 record (conftest's factory is a fixture, which @given cannot take)."""
    rng = np.random.default_rng(seed)
    shape = (num_persons, num_frames, num_joints)
    return {
        "frame_dir": name, "label": label, "img_shape": (480, 640), "total_frames": num_frames,
        "keypoint": rng.uniform(0, 480, (*shape, 2)).astype(np.float32),
        "keypoint_score": rng.uniform(0.3, 1, shape).astype(np.float32), "layout": "coco17",
    }  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check_load(path: Path, **kwargs: int | None) -> AnnotationFile | None:
    """Load ``path``: a validated file, or None after an AnnotationError naming the file."""
    try:
        ann = load_annotations(path, **kwargs)
    except AnnotationError as err:
        assert str(path) in str(err) and "\n" not in str(err), err
        return None
    for rec in ann.annotations:
        m, t, v, _ = rec["keypoint"].shape
        assert rec["keypoint"].dtype == np.float32 and np.all(np.isfinite(rec["keypoint"]))
        assert rec["keypoint_score"].shape == (m, t, v) and rec["total_frames"] == t
        assert isinstance(rec["label"], int) and rec["label"] >= -1
    return ann


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".pkl", ".npz"]))
def test_random_bytes(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"random{suffix}"
    path.write_bytes(data)
    assert check_load(path) is None or suffix == ".pkl"  # a random .npz is never valid


def _valid_file(folder: Path, suffix: str) -> Path:
    recs = [make_record(f"0001_{k}", label=k, num_frames=4, seed=k) for k in range(3)]
    recs[1]["filename"] = "videos/0001_1.mp4"
    ann = AnnotationFile(recs, {"train": ["0001_0"], "test": ["0001_1", "0001_2"]}, {"x": 1})
    return save_annotations(ann, folder / f"valid{suffix}")


@FUZZ
@given(
    suffix=st.sampled_from([".pkl", ".npz"]),
    keep=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=3),
)
def test_truncated_or_damaged_valid_files(
    folder: Path, suffix: str, keep: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(_valid_file(folder, suffix).read_bytes())
    for where, xor in flips:  # flip bits of a few bytes
        data[int(where * len(data))] ^= xor
    path = folder / f"damaged{suffix}"
    path.write_bytes(bytes(data[: int(keep * len(data))]))  # keep=1: the whole file
    check_load(path)


NUMBERS = st.one_of(st.integers(-(10**15), 10**15), st.floats(allow_nan=True, allow_infinity=True))
ODD_VALUES = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=8), st.lists(NUMBERS))


@st.composite
def records(draw: st.DrawFn) -> dict:
    """A record from make_record with a few fields made wrong in fuzzed ways."""
    rec = make_record(
        draw(st.sampled_from(["0001_0", "a/b", "../x", "/abs", "C:\\x", ""])),
        num_frames=draw(st.integers(0, 4)),
        num_joints=draw(st.sampled_from([17, 17, 16, 22])),
        num_persons=draw(st.integers(0, 2)),
    )
    kp, score = rec["keypoint"], rec["keypoint_score"]
    if kp.size and draw(st.booleans()):  # a NaN joint, with or without score 0
        idx = tuple(draw(st.integers(0, n - 1)) for n in kp.shape)
        kp[idx] = np.nan
        if draw(st.booleans()):
            score[idx[:3]] = 0
    if score.size and draw(st.booleans()):
        score[(0,) * score.ndim] = draw(st.floats(width=32))
    for key in ("label", "total_frames", "img_shape", "filename", "video_id", "layout"):
        if draw(st.integers(0, 3)) == 0:
            rec[key] = draw(ODD_VALUES)
    if draw(st.integers(0, 5)) == 0:
        rec["keypoint"] = draw(st.one_of(ODD_VALUES, st.just([[[[1.0, 2.0]]], [[[1.0]]]])))
    if draw(st.integers(0, 5)) == 0:
        del rec[draw(st.sampled_from(sorted(rec)))]
    return rec


FILES = st.fixed_dictionaries(
    {"annotations": st.lists(records(), max_size=3)},
    optional={
        "split": st.one_of(
            ODD_VALUES,
            st.dictionaries(st.text(max_size=5), st.lists(st.sampled_from(["0001_0", 3, None]))),
        ),
        "meta": st.one_of(
            ODD_VALUES, st.dictionaries(st.sampled_from(["layout", "classes"]), ODD_VALUES)
        ),
    },
)


@FUZZ
@given(
    obj=FILES,
    protocol=st.integers(0, pickle.HIGHEST_PROTOCOL),
    num_classes=st.sampled_from([None, 3]),
)
def test_fuzzed_records_in_a_pickle(
    folder: Path, obj: dict, protocol: int, num_classes: int | None
) -> None:
    path = folder / "records.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    ann = check_load(path, num_classes=num_classes)
    if ann is not None:
        for rec in ann.annotations:
            assert ".." not in rec["frame_dir"] and not rec["frame_dir"].startswith("/")


def _write_npz(path: Path, obj: dict) -> None:
    """Our .npz layout written by hand, so that the document can be anything JSON holds."""
    arrays = {}
    doc = {k: v for k, v in obj.items() if k != "annotations"}
    doc["annotations"] = []
    for i, rec in enumerate(obj["annotations"]):
        for key in ("keypoint", "keypoint_score"):
            if isinstance(rec.get(key), np.ndarray):
                arrays[f"{i}/{key}"] = rec[key]
        doc["annotations"].append({k: v for k, v in rec.items() if not isinstance(v, np.ndarray)})
    text = json.dumps(doc, default=str)
    arrays["__doc__"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@FUZZ
@given(obj=FILES)
def test_fuzzed_records_in_an_npz(folder: Path, obj: dict) -> None:
    path = folder / "records.npz"
    _write_npz(path, obj)
    check_load(path)
