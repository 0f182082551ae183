"""``mgproto inspect``: the record-by-record check of a skeleton file, and how it differs from
``mgproto info``."""

from __future__ import annotations

import numpy as np

from mgproto.cli import main
from mgproto.commands.inspect_file import inspect_skeletons
from mgproto.data.annotations import AnnotationFile, save_annotations


def _file(make_rec, *, layout="coco17", **kwargs):
    recs = [make_rec(f"v_{k}", label=k % 2, num_frames=12, seed=k, layout=layout, **kwargs)
            for k in range(4)]  # fmt: skip
    return recs


def test_keypoints_outside_the_frame_are_a_warning_naming_the_record(tmp_path, make_rec, capsys):
    """The iMiGUE case: a joint at y = 781 in a 720-high frame."""
    recs = _file(make_rec, img_shape=(720, 1280))
    recs[2]["keypoint"][0, 5, 3] = [640, 781]  # record 2, frame 5
    recs[2]["keypoint"][0, 6, 3] = [-4, 300]  # frame 6: 4 px left of the frame
    recs[3]["keypoint"][0, 0, 0] = [2000, 100]  # score 0 below: a missing joint, not counted
    recs[3]["keypoint_score"][0, 0, 0] = 0
    path = save_annotations(AnnotationFile(recs, {}, {"layout": "coco17"}), tmp_path / "x.pkl")
    capsys.readouterr()
    assert main(["inspect", str(path)]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    assert (
        "warning: valid keypoints outside the frame (img_shape) in 1 of 4 records, 2 frames; "
        "worst y = 781 (frame height 720) in record 2 ('v_2'), frame 5"
    ) in out
    assert "  record 2 ('v_2'): 2 frames, 2 keypoints; worst y = 781" in out
    assert out.rstrip().endswith("1 warning (the file loads; warnings are doubts to check, not "
                                 "errors)")  # fmt: skip


def test_a_clean_file_has_no_warnings_and_lists_clips_per_class(tmp_path, make_rec):
    recs = _file(make_rec)
    ann = AnnotationFile(recs, {"train": ["v_0", "v_1"]}, {"classes": ["a", "b"]})
    lines, warnings = inspect_skeletons(save_annotations(ann, tmp_path / "x.npz"))
    text = "\n".join(lines)
    assert warnings == 0 and lines[-1] == "no warnings"
    assert "4 records, all valid; 2-D keypoints; layout coco17;" in lines[0]
    assert "class   0 a: 2" in text and "split train: 2 clips" in text
    assert "in no split: 2 clips" in text


def test_layout_is_inferred_or_warned_about(tmp_path, make_rec):
    recs = _file(make_rec, layout=None)  # 17 joints: coco17 only
    lines, warnings = inspect_skeletons(save_annotations(AnnotationFile(recs), tmp_path / "a.pkl"))
    assert "layout coco17 (inferred from 17 joints)" in lines[0] and warnings == 0
    recs = _file(make_rec, layout=None, num_joints=25)  # openpose25 or kinect25
    lines, warnings = inspect_skeletons(save_annotations(AnnotationFile(recs), tmp_path / "b.pkl"))
    assert warnings == 1 and "layout ? (25 joints: openpose25 or kinect25)" in lines[0]
    assert any(x.startswith("warning: the layout is not recorded") for x in lines)


def test_info_and_inspect_say_different_things(tmp_path, make_rec, capsys):
    """info: a short summary that points to inspect; inspect: the per-record check."""
    recs = _file(make_rec)
    path = save_annotations(AnnotationFile(recs, {}, {"classes": ["a", "b"]}), tmp_path / "x.pkl")
    capsys.readouterr()
    assert main(["info", str(path)]) == 0
    info = capsys.readouterr().out
    assert main(["inspect", str(path)]) == 0
    inspect = capsys.readouterr().out
    assert "skeleton file, 4 clips" in info and "`mgproto inspect` checks every record" in info
    assert "class   0 a" not in info and "class   0 a: 2" in inspect
    assert "all valid" in inspect and "no warnings" in inspect and "skeleton file" not in inspect


def test_3d_records_are_not_checked_against_a_frame(tmp_path):
    rec = {"frame_dir": "c0", "label": 0, "total_frames": 3, "layout": "kinect20",
           "keypoint": np.full((1, 3, 20, 3), 5000.0, np.float32)}  # fmt: skip
    lines, warnings = inspect_skeletons(save_annotations(AnnotationFile([rec]), tmp_path / "d.npz"))
    assert warnings == 0 and "3-D keypoints" in lines[0]
