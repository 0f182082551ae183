"""The timeline page (embedded or linked video, clickable segments) and the annotated video."""

from __future__ import annotations

import numpy as np

from mgproto.data.video import probe_video, read_frames, write_video
from mgproto.infer.timeline import Segment
from mgproto.report.plots import plot_confidence
from mgproto.report.timeline_page import write_timeline_page
from mgproto.report.timeline_video import MIN_SIDE, class_colors, render_annotated_video

NAMES = ["rub hand", "touch <chin>"]
SEGMENTS = [
    Segment(0.0, 0.4, 0, 10, "rub hand", 0, 0.9),
    Segment(0.4, 0.8, 10, 20, NAMES[1], 1, 0.7),
]


def _video(tmp_path, n=20, size=(48, 64)):
    return write_video(tmp_path / "v.mp4", np.full((n, *size, 3), 40, np.uint8), fps=25)


def test_page_embeds_small_videos_and_escapes_names(tmp_path):
    page = write_timeline_page(
        tmp_path / "out" / "index.html", video=_video(tmp_path), segments=SEGMENTS,
        info={"video": "v.mp4", "duration_s": 0.8}, class_names=NAMES,
    )  # fmt: skip
    text = page.read_text()
    assert "data:video/mp4;base64," in text
    assert "touch &lt;chin&gt;" in text and "<chin>" not in text
    assert text.count('class="seg"') == 2 and text.count('class="row"') == 2
    assert 'data-t="0.4"' in text  # clicking the second segment seeks to 0.4 s
    assert "http" not in text  # nothing fetched from the network


def test_page_links_large_videos_relative_to_itself(tmp_path):
    page = write_timeline_page(
        tmp_path / "out" / "index.html", video=_video(tmp_path), segments=[],
        info={"duration_s": 0.8}, class_names=NAMES, embed_limit_mb=0,
    )  # fmt: skip
    text = page.read_text()
    assert 'src="../v.mp4"' in text and "base64" not in text and "no segments" in text


def test_an_empty_page_says_why_and_shows_the_confidence_over_time(tmp_path):
    """The model's confidence is plotted (a PNG embedded in the page) whether or not segments
    passed; an empty timeline's reason is shown above its lanes."""
    probs = np.full((20, 2), 0.5)
    probs[:4] = np.nan  # the first window was not classified
    windows = np.array([[0, 10], [10, 20]])
    window_probs = np.array([[np.nan, np.nan], [0.6, 0.4]])
    png = plot_confidence(probs, windows, window_probs, tmp_path / "c.png", fps=25,
                          min_confidence=0.7)  # fmt: skip
    assert png.read_bytes()[:4] == b"\x89PNG"
    reason = "no frame reaches --min-confidence 0.7: the highest confidence is 0.500 (<b>)"
    info = {"duration_s": 0.8, "no_segments_reason": reason}
    for segments in ([], SEGMENTS):
        page = write_timeline_page(
            tmp_path / "index.html", video=_video(tmp_path), segments=segments, info=info,
            class_names=NAMES, confidence_plot=png,
        )  # fmt: skip
        text = page.read_text()
        assert text.count("data:image/png;base64,") == 1 and "Confidence over time" in text
        assert ("No segment: no frame reaches --min-confidence 0.7" in text) == (not segments)
        assert "(&lt;b&gt;)" in text or segments


def test_annotated_video_draws_label_strip_and_skeleton(tmp_path):
    video = _video(tmp_path)
    kp = np.zeros((1, 20, 22, 2), np.float32)
    kp[..., 0], kp[..., 1] = 32, 24
    kp[:, :, 1] = (40, 40)  # a limb from the centre to the lower right
    record = {"img_shape": (48, 64), "total_frames": 20, "keypoint": kp,
              "keypoint_score": np.ones((1, 20, 22), np.float32)}  # fmt: skip
    probs = np.zeros((20, 2))
    probs[:10, 0], probs[10:, 1] = 0.9, 0.7
    out = render_annotated_video(
        tmp_path / "a.mp4", video, record, SEGMENTS, probs, fps=25, layout="imigue22",
        num_classes=2,
    )  # fmt: skip
    info = probe_video(out, count=True)
    assert info.num_frames == 20 and max(info.height, info.width) == MIN_SIDE  # scaled up
    first, last = read_frames(out, [2, 17]).astype(int)
    color0, color1 = (np.array(c) for c in class_colors(2))
    assert np.abs(first[3, 3] - color0).max() < 40  # banner in the class colour
    assert np.abs(last[3, 3] - color1).max() < 40
    assert np.abs(first[-2, -4] - color1).max() < 40  # strip: the second segment at the end
    # the limbs from joint 1 at (40, 40) to the others at (32, 24), scaled x6: green at the middle
    assert first[189:196, 213:220, 1].max() > 180
    assert np.abs(first[200, 40] - 40).max() < 20  # the background stays as it was
