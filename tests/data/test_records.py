import numpy as np

from mgproto.data.records import class_counts, label_doubts


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
