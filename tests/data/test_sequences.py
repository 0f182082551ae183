import numpy as np
import pytest

from mgproto.data.sequences import (
    MAX_GAP_FRAMES,
    ClipRange,
    ConversionError,
    ConversionReport,
    Recording,
    UnknownClassError,
    build_file,
    check_frame_span,
    cut_clips,
    overlapping,
)


def _seq(frame_ids=None, num_frames=10):
    kp = np.arange(num_frames * 3 * 2, dtype=np.float32).reshape(1, num_frames, 3, 2)
    score = np.ones((1, num_frames, 3), np.float32)
    score[0, 8:] = 0  # the last two frames have no person
    return Recording(
        "0007",
        kp,
        score,
        (100, 200),
        "coco17",
        frame_ids=frame_ids,
        subject_id="3",
        fps=25.0,
        source="seq.csv",
    )


def _label(raw):
    if raw not in ("a", "b"):
        raise UnknownClassError(f"unknown class {raw!r}")
    return {"a": 0, "b": 1}[raw]


def test_cut_and_report():
    report = ConversionReport()
    segs = [
        ClipRange("0007_0", "a", 2, 4),
        ClipRange("0007_1", "zz", 0, 3),
        ClipRange("0007_2", "b", None, None),
        ClipRange("0007_3", "b", 5, 3),
        ClipRange("0007_4", "b", 20, 30),
        ClipRange("0007_5", "b", 8, 9),
        ClipRange("0007_6", "b", 7, 100),
    ]
    seq = _seq()
    seq.layout = None  # a 3-joint toy sequence has no layout
    recs = cut_clips(seq, segs, label_of=_label, report=report)
    assert [r["frame_dir"] for r in recs] == ["0007_0", "0007_6"]
    first = recs[0]
    assert first["total_frames"] == 3 and first["label"] == 0
    np.testing.assert_array_equal(first["keypoint"], seq.keypoint[:, 2:5])
    assert (first["start_frame"], first["end_frame"], first["subject_id"]) == (2, 4, "3")
    assert recs[1]["total_frames"] == 3  # frames 7..9 (the range is clipped to the sequence)
    reasons = dict(report.skipped)
    assert "unknown class 'zz'" in reasons["0007_1 (seq.csv)"]
    assert "no valid frame range" in reasons["0007_2 (seq.csv)"]
    assert "ends before it starts" in reasons["0007_3 (seq.csv)"]
    assert "outside the sequence" in reasons["0007_4 (seq.csv)"]
    assert "all scores are 0" in reasons["0007_5 (seq.csv)"]
    assert report.written == 2 and report.per_class == {0: 1, 1: 1}
    assert "skipped 5" in report.summary(["a", "b"])


def test_sparse_frame_ids():
    ids = np.array([10, 12, 14, 16, 18, 20, 22, 24, 26, 28])
    seq = _seq(frame_ids=ids)
    seq.layout = None
    recs = cut_clips(seq, [ClipRange("c", "a", 13, 19)], label_of=_label, report=ConversionReport())
    np.testing.assert_array_equal(recs[0]["keypoint"], seq.keypoint[:, 2:5])  # ids 14, 16, 18


def test_build_file_splits():
    recs = [
        {"frame_dir": "a", "subject_id": "1"},
        {"frame_dir": "b", "subject_id": "2"},
        {"frame_dir": "c", "subject_id": "9"},
    ]
    ann = build_file(
        recs,
        split_of=lambda r: {"1": "train", "2": "test"}.get(r["subject_id"]),
        meta={"dataset": "x"},
    )
    assert ann.split == {"train": ["a"], "test": ["b"]}


def test_negative_start_is_skipped_not_clipped():
    report = ConversionReport()
    seq = _seq()
    seq.layout = None
    recs = cut_clips(seq, [ClipRange("c", "a", -3, 4)], label_of=_label, report=report)
    assert recs == [] and report.skipped == [("c (seq.csv)", "start frame -3 is negative")]


def test_nothing_converted_is_an_error_with_skips_by_reason():
    report = ConversionReport()
    seq = _seq()
    seq.layout = None
    segs = [ClipRange("a", "zz", 0, 1), ClipRange("b", "yy", 0, 1), ClipRange("c", "a", 20, 30)]
    recs = cut_clips(seq, segs, label_of=_label, report=report)
    with pytest.raises(
        ConversionError,
        match=r"^root: nothing was converted: 0 clips written, 3 skipped \(2 x unknown class, "
        r"1 x outside the sequence\); first skipped: a \(seq.csv\): unknown class 'zz'",
    ):
        build_file(recs, split_of=lambda r: None, meta={}, report=report, source="root")
    with pytest.raises(ConversionError, match=r"^root: nothing was converted: the label files"):
        build_file([], split_of=lambda r: None, meta={}, report=ConversionReport(), source="root")


def test_frame_span_is_checked_before_allocation():
    check_frame_span(0, 2 * 10 + MAX_GAP_FRAMES - 1, 10, source="v")  # at the limit
    with pytest.raises(ConversionError, match=r"^v: frame numbers run from 0 to 5000 .* only 2"):
        check_frame_span(0, 5000, 2, source="v")
    with pytest.raises(ConversionError, match=r"^v: frame number 999999999999 is beyond"):
        check_frame_span(0, 999_999_999_999, 10**12, source="v")


def test_overlapping_ranges_are_warned_and_still_written():
    """A range that runs into another (UTKinect's actionLabel.txt has such typos) is written
    with a warning naming both; sharing one boundary frame is normal and not warned."""
    segs = [
        ClipRange("0007_push", "a", 0, 7),  # runs over 0007_pull entirely
        ClipRange("0007_pull", "b", 4, 6),
        ClipRange("0007_next", "a", 7, 9),  # shares frame 7 with 0007_push: a boundary
        ClipRange("0007_none", "b", None, None),
    ]
    assert [(a.name, b.name, n) for a, b, n in overlapping(segs)] == [("0007_push", "0007_pull", 3)]
    report, seq = ConversionReport(), _seq()
    seq.layout = None  # a 3-joint toy sequence has no layout
    recs = cut_clips(seq, segs, label_of=_label, report=report)
    assert [r["frame_dir"] for r in recs] == ["0007_push", "0007_pull", "0007_next"]
    assert len(report.warnings) == 1
    what, concern = report.warnings[0]
    assert what == "0007_push (seq.csv)" and "0007_pull (4..6)" in concern
    assert "share 3 frames" in concern
    assert "warnings (1; the clips were written)" in report.summary()
    assert overlapping(segs, boundary=3) == []
    for i in range(30):
        report.warn(f"clip {i}", "doubt")
    text = report.summary()
    assert "warnings (31;" in text and "clip 18: doubt" in text and "clip 19" not in text
    assert "\n  ... and 11 more\n" in text


def test_summary_counts_clips_as_clips_and_videos_as_videos():
    """358 videos without skeletons are 358 videos (and their clips), not '358 skipped' clips;
    the entries are summarised by reason with the first few, not listed one per line."""
    report = ConversionReport(written=56)
    for v in range(358):
        report.skip(f"video {v:04d}", "no skeleton folder; its 5 clips are skipped",
                    kind="no skeleton folder", unit="video", clips=5)  # fmt: skip
    report.skip("0001_3", "unknown class 40", kind="unknown class")
    report.skip("0002/f_7.json", "corrupt, kept with score 0", kind="corrupt frame file",
                unit="frame file")  # fmt: skip
    assert report.skipped_clips == 358 * 5 + 1
    text = report.summary(full_list="x.skipped.txt")
    lines = text.splitlines()
    assert lines[0] == "wrote 56 clips, skipped 1791 labelled clips"
    assert lines[1:5] == [
        "skipped entries by reason (360 in all):",
        "  358 videos: no skeleton folder (1790 clips)",
        "  1 clip: unknown class",
        "  1 frame file: corrupt frame file (no clip lost)",
    ]
    assert lines[5] == "first 5 of 360 skipped:" and lines[6].startswith("  video 0000: ")
    assert lines[11] == "all 360 skipped entries: x.skipped.txt" and len(lines) == 12
    assert len(report.skip_list().splitlines()) == 360
