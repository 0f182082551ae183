import numpy as np

from mgproto.data.records import (
    class_counts,
    file_layout,
    keypoints_outside,
    label_doubts,
    layouts_with_joints,
)


def _rec(name, label, frames, video=None, start=None):
    r = {"frame_dir": name, "label": label, "total_frames": frames}
    if video is not None:
        r.update(video_id=video, start_frame=start, end_frame=start + frames - 1)
    return r


def test_label_doubts_flags_overlaps_and_overlong_clips_only():
    recs = [
        _rec("v1_a", 0, 10, "v1", 0),
        _rec("v1_b", 1, 6, "v1", 9),  # shares frame 9 with v1_a: a boundary, fine
        _rec("v1_c", 0, 12, "v1", 15),  # shares 4 frames with v1_d
        _rec("v1_d", 1, 10, "v1", 23),
        _rec("v2_a", 0, 50, "v2", 0),  # 50 > 4 x the class-0 median 12
        _rec("x", 1, 100),  # class 1 median 10; no video: only the length counts
        _rec("y", 2, 500),  # class 2 has one clip: no median to compare with
        _rec("u", -1, 900),  # unlabelled
        {**_rec("n", 2, 1, "v1", 0), "start_frame": None},  # no range: not compared
    ]
    doubts = label_doubts(recs)
    assert doubts[0] == "v1_c (frames 15..26) shares 4 frames with v1_d (23..32)"
    assert doubts[1:] == [
        "v2_a: 50 frames, 4.2 x its class's median 12",
        "x: 100 frames, 10.0 x its class's median 10",
    ]
    assert label_doubts(recs, length_ratio=5.0) == doubts[::2]
    assert label_doubts([r for r in recs if r["frame_dir"] in ("v1_a", "v1_b")]) == []


def test_class_counts_skips_unlabelled():
    recs = [_rec("a", 0, 1), _rec("b", 2, 1), _rec("c", -1, 1)]
    np.testing.assert_array_equal(class_counts(recs, 3), [1, 0, 1])


def test_keypoints_outside_the_frame_hand_computed():
    """A 100 x 200 (H x W) frame: x in [0, 200], y in [0, 100]; joints with score 0 are ignored."""
    kp = np.full((2, 4, 3, 2), 50.0, np.float32)  # (M, T, V, 2), all inside
    score = np.ones((2, 4, 3), np.float32)
    kp[0, 1, 2] = [210, 50]  # x 10 px past the width
    kp[1, 1, 0] = [50, 130]  # y 30 px past the height: the worst
    kp[0, 3, 1] = [-5, 50]  # x 5 px before 0
    kp[1, 2, 1] = [50, 900]  # far outside, but a missing joint
    score[1, 2, 1] = 0
    edge = np.full((1, 2, 3, 2), 100.0, np.float32)  # (100, 100): on the edge is inside
    inside = {"frame_dir": "in", "keypoint": edge, "keypoint_score": np.ones((1, 2, 3)),
              "img_shape": (100, 200)}  # fmt: skip
    rec = {"frame_dir": "out", "keypoint": kp, "keypoint_score": score, "img_shape": (100, 200)}
    (found,) = keypoints_outside([inside, rec])
    assert (found.index, found.frame_dir, found.num_frames, found.num_points) == (1, "out", 2, 3)
    assert (found.axis, found.value, found.size, found.frame) == ("y", 130, 100, 1)
    assert found.beyond == 30
    assert found.worst == "y = 130 (frame height 100)"
    kp[1, 1, 0] = [50, 50]
    kp[0, 3, 1] = [-50, 50]
    (found,) = keypoints_outside([rec])
    assert found.worst == "x = -50 (the frame starts at 0)" and found.beyond == 50


def test_file_layout_recorded_inferred_or_unknown():
    def recs(v, layout=None):
        return [{"keypoint": np.zeros((1, 2, v, 2)), "layout": layout}]

    assert file_layout({"layout": "imigue22"}, recs(22)) == ("imigue22", "")
    assert file_layout({}, recs(22, "imigue22")) == ("imigue22", "")
    assert file_layout({}, recs(17)) == ("coco17", "inferred from 17 joints")
    assert file_layout({}, recs(137)) == ("openpose137", "inferred from 137 joints")
    assert file_layout({}, recs(25)) == (None, "25 joints: openpose25 or kinect25")
    assert file_layout({}, recs(5)) == (None, "5 joints: no known layout")
    assert file_layout({}, recs(17) + recs(22)) == (None, "joint counts [17, 22]")
    assert layouts_with_joints(36) == ["imigue36"]
