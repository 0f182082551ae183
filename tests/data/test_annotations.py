import pickle

import numpy as np
import pytest

from mgproto.data.annotations import (
    AnnotationError,
    AnnotationFile,
    load_annotations,
    save_annotations,
    validate_record,
)
from mgproto.data.records import keypoint_dims, require_labels


@pytest.fixture
def ann(make_rec):
    recs = [make_rec(f"0001_{k}", label=k % 3, num_frames=10 + k, seed=k) for k in range(4)]
    recs[1]["keypoint"] = np.concatenate([recs[1]["keypoint"]] * 2)  # two persons
    recs[1]["keypoint_score"] = np.concatenate([recs[1]["keypoint_score"]] * 2)
    recs[2].update(
        video_id="0001", subject_id="7", start_frame=5, end_frame=16, filename="0001_2.mp4"
    )
    return AnnotationFile(
        recs,
        {"train": ["0001_0", "0001_1"], "test": ["0001_2", "0001_3"]},
        {"layout": "coco17", "classes": ["a", "b", "c"]},
    )


@pytest.mark.parametrize("suffix", [".pkl", ".npz"])
def test_round_trip(tmp_path, ann, suffix):
    path = save_annotations(ann, tmp_path / f"ann{suffix}")
    back = load_annotations(path, num_classes=3)
    assert back.split == ann.split and back.meta == ann.meta
    for a, b in zip(ann.annotations, back.annotations):
        assert a["frame_dir"] == b["frame_dir"] and a["label"] == b["label"]
        assert b["keypoint"].dtype == np.float32 and b["keypoint_score"].dtype == np.float32
        np.testing.assert_array_equal(a["keypoint"], b["keypoint"])
        np.testing.assert_array_equal(a["keypoint_score"], b["keypoint_score"])
        assert tuple(b["img_shape"]) == (480, 640)
    assert back.annotations[2]["filename"] == "0001_2.mp4"
    assert back.annotations[2]["subject_id"] == "7"
    assert [r["frame_dir"] for r in back.select("test")] == ["0001_2", "0001_3"]


def test_pickle_is_pyskl_layout(tmp_path, ann):
    path = save_annotations(ann, tmp_path / "ann.pkl")
    with open(path, "rb") as f:
        raw = pickle.load(f)
    assert set(raw) >= {"split", "annotations"}
    assert raw["annotations"][0]["keypoint"].shape == (1, 10, 17, 2)


def test_reads_a_plain_pyskl_pickle_without_optional_fields(tmp_path, make_rec):
    rec = make_rec("S001C001P001R001A001", num_frames=5)
    rec.pop("layout")
    rec.pop("keypoint_score")  # PYSKL: missing scores mean 1
    with open(tmp_path / "ntu.pkl", "wb") as f:
        pickle.dump({"split": {"xsub_train": [rec["frame_dir"]]}, "annotations": [rec]}, f)
    back = load_annotations(tmp_path / "ntu.pkl")
    assert np.all(back.annotations[0]["keypoint_score"] == 1)


def test_missing_joint_nan_with_score_zero_becomes_zero(make_rec):
    rec = make_rec()
    rec["keypoint"][0, 3, 5] = np.nan
    rec["keypoint_score"][0, 3, 5] = 0
    out = validate_record(rec)
    assert np.all(out["keypoint"][0, 3, 5] == 0)


# ---- bad input: one clear error naming the file, the record and its frame_dir --------------


def test_truncated_pickle(tmp_path, ann):
    path = save_annotations(ann, tmp_path / "ann.pkl")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(AnnotationError, match=r"ann\.pkl: not a readable pickle \(truncated"):
        load_annotations(path)


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_that_runs_code_is_refused(tmp_path, capsys):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"split": {}, "annotations": [_Evil()]}))
    with pytest.raises(AnnotationError, match=r"evil\.pkl: refusing to load builtins\.print"):
        load_annotations(path)
    assert "pwned" not in capsys.readouterr().out


def test_missing_file(tmp_path):
    with pytest.raises(AnnotationError, match="nope.pkl: file not found"):
        load_annotations(tmp_path / "nope.pkl")


def _write(tmp_path, records):
    path = tmp_path / "bad.pkl"
    with open(path, "wb") as f:
        pickle.dump({"split": {}, "annotations": records}, f)
    return path


def test_wrong_joint_count(tmp_path, make_rec):
    recs = [make_rec("a"), make_rec("0054_3", num_joints=22)]
    path = _write(tmp_path, recs)
    with pytest.raises(
        AnnotationError,
        match=r"bad\.pkl: record 1 \('0054_3'\): keypoint has 22 joints, "
        r"layout 'coco17' expects 17",
    ):
        load_annotations(path)


def test_nan_keypoints_with_confidence(tmp_path, make_rec):
    rec = make_rec("0002_1")
    rec["keypoint"][0, 4, 2, 0] = np.nan
    with pytest.raises(
        AnnotationError,
        match=r"record 0 \('0002_1'\): non-finite keypoint at "
        r"person 0, frame 4, joint 2",
    ):
        load_annotations(_write(tmp_path, [rec]))


def test_unknown_class_id(tmp_path, make_rec):
    path = _write(tmp_path, [make_rec("x", label=0), make_rec("0003_0", label=40)])
    with pytest.raises(
        AnnotationError,
        match=r"record 1 \('0003_0'\): unknown class id 40; "
        r"valid ids are 0..31",
    ):
        load_annotations(path, num_classes=32)


def test_empty_clip(tmp_path, make_rec):
    rec = make_rec("0004_2", num_frames=0)
    with pytest.raises(AnnotationError, match=r"record 0 \('0004_2'\): empty clip"):
        load_annotations(_write(tmp_path, [rec]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(total_frames=99), "total_frames=99 but keypoint has 20 frames"),
        (lambda r: r.update(keypoint=r["keypoint"][..., :1]), r"shape \(M, T, V, 2\)"),
        (lambda r: r["keypoint_score"].__setitem__((0, 0, 0), 1.5), r"must lie in \[0, 1\]"),
        (lambda r: r.update(keypoint_score=r["keypoint_score"][:, :3]), "does not match"),
        (lambda r: r.update(img_shape=(0, 5)), r"img_shape must be \(H, W\) > 0"),
        (lambda r: r.pop("keypoint"), "missing key 'keypoint'"),
        (lambda r: r.update(label="3"), "label must be an integer"),
        (lambda r: r.update(layout="coco99"), "unknown layout 'coco99'"),
    ],
)
def test_record_checks(tmp_path, make_rec, change, message):
    rec = make_rec("0005_0")
    change(rec)
    with pytest.raises(AnnotationError, match=r"record 0 \('0005_0'\): .*" + message):
        load_annotations(_write(tmp_path, [rec]))


def test_duplicate_frame_dir_and_bad_split(tmp_path, make_rec):
    with pytest.raises(AnnotationError, match="repeats the frame_dir of record 0"):
        load_annotations(_write(tmp_path, [make_rec("a"), make_rec("a")]))
    path = tmp_path / "split.pkl"
    with open(path, "wb") as f:
        pickle.dump({"split": {"train": ["zz"]}, "annotations": [make_rec("a")]}, f)
    with pytest.raises(AnnotationError, match="split 'train' names 1 unknown clips, first 'zz'"):
        load_annotations(path)


def test_corrupt_npz(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(AnnotationError, match=r"x\.npz: not a readable mgproto \.npz"):
        load_annotations(path)


def test_save_is_atomic(tmp_path, ann, monkeypatch):
    path = save_annotations(ann, tmp_path / "ann.pkl")
    before = path.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pickle, "dump", boom)
    with pytest.raises(RuntimeError):
        save_annotations(ann, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ann.pkl"]


def _write_obj(tmp_path, obj, name="bad.pkl"):
    path = tmp_path / name
    path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


@pytest.mark.parametrize("meta", [["coco17"], "coco17", 3])
def test_meta_must_be_a_dict(tmp_path, make_rec, meta):
    path = _write_obj(tmp_path, {"split": {}, "annotations": [make_rec()], "meta": meta})
    with pytest.raises(AnnotationError, match=r"bad\.pkl: 'meta' must be a dict, got "):
        load_annotations(path)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"split": {"train": [["a"]]}, "annotations": []}, "'split' must map split names"),
        ({"annotations": [], "meta": {"layout": "coco99"}}, r"meta: unknown layout 'coco99'"),
    ],
)
def test_file_level_checks(tmp_path, obj, message):
    with pytest.raises(AnnotationError, match=r"bad\.pkl: " + message):
        load_annotations(_write_obj(tmp_path, obj))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("filename", "../../etc/passwd"),
        ("filename", "/abs/clip.mp4"),
        ("filename", "C:\\videos\\clip.mp4"),
        ("filename", "videos\\..\\..\\x.mp4"),
        ("frame_dir", "../0001_0"),
        ("video_id", "/tmp/long"),
    ],
)
def test_paths_outside_the_video_root_are_refused(tmp_path, make_rec, key, value):
    rec = make_rec("0006_0")
    rec[key] = value
    with pytest.raises(AnnotationError, match=rf"record 0 .*: {key} .* points outside the video"):
        load_annotations(_write(tmp_path, [rec]))


def test_relative_paths_inside_the_root_are_kept(make_rec):
    rec = make_rec("a/0006_0")
    rec.update(filename="videos/sub/0006_0.mp4", video_id="0006")
    assert validate_record(rec)["filename"] == "videos/sub/0006_0.mp4"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(label=-5), r"unknown class id -5; valid ids are 0..99999"),
        (lambda r: r.update(label=10**12), r"unknown class id 1000000000000"),
        (lambda r: r.update(keypoint=[[[[1.0, 2.0]]], [[[1.0]]]]), r"keypoint is not an array"),
        (lambda r: r.update(img_shape="ab"), r"img_shape must be \(H, W\) > 0"),
        (lambda r: r.update(img_shape=(float("nan"), 3)), r"img_shape must be \(H, W\) > 0"),
        (lambda r: r.update(filename=3), r"filename must be a string"),
    ],
)
def test_more_record_checks(tmp_path, make_rec, change, message):
    rec = make_rec("0007_0")
    change(rec)
    with pytest.raises(AnnotationError, match=r"bad\.pkl: record 0 \('0007_0'\): " + message):
        load_annotations(_write(tmp_path, [rec]))


def test_require_labels_names_the_first_unlabelled_record(make_rec):
    recs = [make_rec("a", label=2), make_rec("0008_1", label=-1), make_rec("c", label=-1)]
    with pytest.raises(
        AnnotationError,
        match=r"^ann\.pkl: split 'train': record '0008_1' has no label \(-1\), nor do 1 others",
    ):
        require_labels(recs, split="train", source="ann.pkl")
    assert require_labels(recs[:1], split="train", source="ann.pkl") == recs[:1]


# ---- 3-D keypoints (PYSKL's NTU RGB+D 3-D convention) ---------------------------------------
def _record_3d(name="s01_e01_walk", *, frames=4, joints=20, seed=0):
    """A PYSKL-style 3-D record: keypoint (M, T, V, 3) metres, no score, no img_shape."""
    kp = np.random.default_rng(seed).normal([0, 0, 3], 0.3, (1, frames, joints, 3))
    return {"frame_dir": name, "label": 1, "total_frames": frames, "keypoint": kp}


def test_3d_record_without_score_or_img_shape(tmp_path):
    rec = _record_3d()
    rec["keypoint"][0, 1, 3] = 0  # PYSKL marks a missing 3-D joint by zeros
    rec["keypoint"][0, 2, 5] = np.nan
    out = load_annotations(_write(tmp_path, [rec])).annotations[0]
    assert out["keypoint"].shape == (1, 4, 20, 3) and out["keypoint"].dtype == np.float32
    assert "img_shape" not in out and "original_shape" not in out
    expected = np.ones((1, 4, 20), np.float32)
    expected[0, 1, 3] = expected[0, 2, 5] = 0
    np.testing.assert_array_equal(out["keypoint_score"], expected)
    assert np.all(out["keypoint"][0, 2, 5] == 0)


@pytest.mark.parametrize("suffix", [".pkl", ".npz"])
def test_3d_round_trip(tmp_path, suffix):
    ann = AnnotationFile(
        [_record_3d("a"), {**_record_3d("b", seed=1), "img_shape": (480, 640)}],
        {"train": ["a"], "test": ["b"]},
        {"layout": "kinect20"},
    )
    checked = load_annotations(_write(tmp_path, ann.annotations))
    path = save_annotations(checked, tmp_path / f"x{suffix}")
    back = load_annotations(path)
    np.testing.assert_allclose(back.annotations[0]["keypoint"], ann.annotations[0]["keypoint"],
                               rtol=1e-6)  # fmt: skip
    assert back.annotations[1]["img_shape"] == (480, 640)
    assert keypoint_dims(back.annotations) == 3


def test_3d_score_and_coordinate_count_checks(tmp_path, make_rec):
    rec = _record_3d("0009_1")
    rec["keypoint"] = np.concatenate([rec["keypoint"], rec["keypoint"][..., :1]], axis=-1)
    with pytest.raises(
        AnnotationError,
        match=r"bad\.pkl: record 0 \('0009_1'\): keypoint must have shape \(M, T, V, 2\) "
        r"\(x, y pixels\) or \(M, T, V, 3\) \(x, y, z\), got \(1, 4, 20, 4\)",
    ):
        load_annotations(_write(tmp_path, [rec]))
    rec = {**_record_3d("0009_2"), "keypoint_score": np.full((1, 4, 20), 2.0)}
    with pytest.raises(AnnotationError, match=r"record 0 \('0009_2'\): keypoint_score must lie"):
        load_annotations(_write(tmp_path, [rec]))
    rec = make_rec("0009_3")  # 2-D still needs its frame size
    rec.pop("img_shape")
    with pytest.raises(AnnotationError, match=r"record 0 \('0009_3'\): missing key 'img_shape'"):
        load_annotations(_write(tmp_path, [rec]))


def test_mixed_2d_and_3d_in_one_file(tmp_path, make_rec):
    recs = [make_rec("flat", num_joints=20, layout=None), _record_3d("deep")]
    with pytest.raises(
        AnnotationError,
        match=r"bad\.pkl: record 1 \('deep'\): keypoint has 3 coordinates per joint but "
        r"record 0 \('flat'\) has 2; a file holds 2-D or 3-D keypoints, not both",
    ):
        load_annotations(_write(tmp_path, recs))
    assert keypoint_dims(load_annotations(_write(tmp_path, recs[:1])).annotations) == 2
    assert keypoint_dims([]) == 2
