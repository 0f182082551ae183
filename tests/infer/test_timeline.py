"""Windows, per-frame probabilities, smoothing, segments and temporal IoU (hand-computed)."""

from __future__ import annotations

import numpy as np
import pytest

from mgproto.infer.timeline import (
    Segment,
    frame_probs,
    make_windows,
    match_segments,
    peak_confidence,
    read_segments,
    segment_iou,
    segments_from_probs,
    smooth_probs,
    why_no_segments,
    write_timeline,
)

NAMES = ["a", "b", "c"]


def seg(start: int, end: int, label: int, fps: float = 10.0) -> Segment:
    return Segment(start / fps, end / fps, start, end, NAMES[label], label, 1.0)


def test_windows_cover_the_video_and_align_the_last_with_its_end():
    w = make_windows(100, 25.0, length_s=2.0, stride_s=0.5)  # 50 frames every 12 or 13
    assert w[0].tolist() == [0, 50] and w[-1].tolist() == [50, 100]
    assert (w[:, 1] - w[:, 0] == 50).all() and (np.diff(w[:, 0]) > 0).all()
    assert make_windows(30, 25.0, length_s=2.0, stride_s=0.5).tolist() == [[0, 30]]
    assert make_windows(60, 10.0, length_s=2.0, stride_s=2.0).tolist() == [
        [0, 20], [20, 40], [40, 60],
    ]  # fmt: skip
    with pytest.raises(ValueError, match="no frames"):
        make_windows(0, 25.0, length_s=1, stride_s=1)


def test_frame_probs_weight_window_centres_and_skip_unclassified_windows():
    windows = np.array([[0, 4], [2, 6], [4, 8]])
    probs = np.array([[1.0, 0, 0], [0, 1.0, 0], [np.nan, np.nan, np.nan]])
    out = frame_probs(probs, windows, 10)
    # frame 0 and 1: only window 0
    np.testing.assert_allclose(out[:2], [[1, 0, 0], [1, 0, 0]])
    # frame 3: window 0 at its position 3.5/4 (weight 0.25+eps), window 1 at 1.5/4 (0.75+eps)
    w0, w1 = 0.25 + 1e-3, 0.75 + 1e-3
    np.testing.assert_allclose(out[3], [w0 / (w0 + w1), w1 / (w0 + w1), 0])
    assert np.isnan(out[6:]).all()  # only the NaN window covers them


def test_smoothing_averages_neighbours_and_keeps_gaps():
    p = np.array([[1.0, 0], [0, 1.0], [1.0, 0], [np.nan, np.nan], [0, 1.0]])
    s = smooth_probs(p, 3)
    np.testing.assert_allclose(s[1], [2 / 3, 1 / 3])
    np.testing.assert_allclose(s[2], [0.5, 0.5])  # the NaN neighbour does not count
    assert np.isnan(s[3]).all()
    np.testing.assert_allclose(smooth_probs(p, 1)[:3], p[:3])
    short = smooth_probs(p[:2], 9)  # a clip shorter than the smoothing window
    assert short.shape == (2, 2)
    np.testing.assert_allclose(short, [[0.5, 0.5], [0.5, 0.5]])


def test_segments_threshold_drop_short_runs_and_merge_across_them():
    probs = np.zeros((30, 3))
    probs[:10, 0] = 0.9  # a: 0-10
    probs[10:12, 1] = 0.9  # b: 2 frames, shorter than min_duration -> dropped
    probs[12:20, 0] = 0.8  # a again: merges with 0-10 across the dropped run
    probs[20:25, 2] = 0.2  # c below min_confidence -> unlabelled
    probs[25:, 2] = 0.7
    probs[probs.sum(1) == 0, 1] = 0.1
    segs = segments_from_probs(probs, 10.0, NAMES, min_confidence=0.3, min_duration_s=0.4)
    assert [(s.label, s.start_frame, s.end_frame) for s in segs] == [("a", 0, 20), ("c", 25, 30)]
    assert segs[0].start == 0.0 and segs[0].end == 2.0 and segs[1].end == 3.0
    assert segs[0].confidence == pytest.approx((10 * 0.9 + 8 * 0.8 + 2 * 0) / 20)
    hidden = segments_from_probs(probs, 10.0, NAMES, min_confidence=0.3, hide=[0])
    assert [s.label for s in hidden] == ["b", "c"]


def test_segments_of_no_evidence_are_empty():
    assert segments_from_probs(np.full((10, 3), np.nan), 10.0, NAMES) == []


def test_temporal_iou_known_values():
    assert segment_iou(seg(0, 10, 0), seg(5, 15, 0)) == pytest.approx(5 / 15)
    assert segment_iou(seg(0, 10, 0), seg(10, 20, 0)) == 0.0
    assert segment_iou(seg(0, 10, 0), seg(0, 10, 1)) == 1.0  # labels are the caller's concern
    truth = [seg(0, 10, 0), seg(10, 20, 1)]
    pred = [seg(0, 8, 0), seg(8, 20, 0)]
    assert match_segments(truth, pred) == [pytest.approx(0.8), 0.0]  # b was never predicted


def test_timeline_files_round_trip(tmp_path):
    segs = [seg(0, 12, 0), seg(15, 30, 2)]
    json_path, csv_path = write_timeline(tmp_path, segs, {"fps": 10.0, "video": "v.mp4"})
    assert read_segments(csv_path) == segs
    assert read_segments(json_path) == segs
    truth = tmp_path / "truth.csv"
    truth.write_text("start,end,label\n0.0,1.2,a\n")
    assert read_segments(truth, fps=10.0)[0].end_frame == 12
    with pytest.raises(ValueError, match=r"truth\.csv: segment 0: .*frame rate"):
        read_segments(truth)


def test_an_empty_timeline_says_why_and_names_the_setting_to_change():
    """A weak model: the top class peaks at 0.4 ('b', frame 5 = 0.5 s at 10 fps), below the
    threshold; then above it but too briefly; then every frame's top class hidden."""
    probs = np.full((10, 3), 0.3)
    probs[5] = [0.3, 0.4, 0.3]
    probs[:2] = np.nan  # no evidence: never the peak
    peak = peak_confidence(probs, 10.0, NAMES)
    assert (peak.frame, peak.time_s, peak.label, peak.label_id) == (5, 0.5, "b", 1)
    assert peak.confidence == pytest.approx(0.4)
    options = {"min_confidence": 0.5, "min_duration_s": 0.3}
    assert segments_from_probs(probs, 10.0, NAMES, **options) == []
    reason = why_no_segments(probs, 10.0, NAMES, **options)
    assert "highest confidence is 0.400 ('b' at 0.50 s)" in reason
    assert "--min-confidence 0.5" in reason and "e.g. 0.4" in reason
    reason = why_no_segments(probs, 10.0, NAMES, min_confidence=0.35, min_duration_s=0.3)
    assert "last at most 0.10 s" in reason and "--min-duration 0.3" in reason
    assert peak_confidence(probs, 10.0, NAMES, hide=[1]).label == "a"  # first of the ties
    all_b = np.tile([0.1, 0.8, 0.1], (10, 1))
    assert peak_confidence(all_b, 10.0, NAMES, hide=[1]) is None
    assert "--hide" in why_no_segments(all_b, 10.0, NAMES, hide=[1], **options)
    nothing = np.full((10, 3), np.nan)
    assert peak_confidence(nothing, 10.0, NAMES) is None
    assert "--min-person" in why_no_segments(nothing, 10.0, NAMES, **options)
