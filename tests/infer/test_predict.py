"""`mgproto predict` end to end on a stitched synthetic video, and its bad inputs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from mgproto.build import model_from_config
from mgproto.cli import main
from mgproto.config import load_config
from mgproto.data.annotations import AnnotationFile, load_annotations, save_annotations
from mgproto.data.video import probe_video, read_frames, write_video
from mgproto.engine.checkpoint import save_checkpoint
from mgproto.infer.predict import PredictOptions, StreamingFrames, predict_video
from mgproto.infer.timeline import match_segments, read_segments


def test_timeline_of_stitched_video_matches_the_truth(interview, tmp_path, capsys):
    out = tmp_path / "pred"
    code = main([
        "predict", str(interview.video), "--checkpoint", str(interview.checkpoint),
        "--pose", str(interview.pose), "-o", str(out), "--truth", str(interview.truth_csv),
        "--window", "1.6", "--stride", "0.4",
    ])  # fmt: skip
    assert code == 0
    predicted = read_segments(out / "timeline.csv")
    ious = match_segments(interview.truth, predicted)
    printed = capsys.readouterr().out
    print(f"temporal IoU per true segment: {np.round(ious, 3)}, mean {np.mean(ious):.3f}")
    # four clips of four classes: each true segment is found with its label and overlaps well
    assert np.mean(ious) >= 0.5, (ious, predicted)
    assert sum(iou >= 0.3 for iou in ious) >= 3, (ious, predicted)
    doc = json.loads((out / "timeline.json").read_text())
    assert doc["truth"]["mean_tiou"] == pytest.approx(np.mean(ious), abs=1e-3)
    assert doc["num_frames"] == probe_video(interview.video).num_frames
    assert [s["label"] for s in doc["segments"]] == [s.label for s in predicted]
    assert "mean temporal IoU" in printed
    # segments are ordered, inside the video, and confident above the threshold
    ends = [(s.start_frame, s.end_frame) for s in predicted]
    assert all(a < b for a, b in ends) and ends == sorted(ends)
    assert ends[-1][1] <= doc["num_frames"]
    assert all(s.confidence >= PredictOptions().min_confidence for s in predicted)
    # the annotated video has every frame, the page embeds it and lists every segment
    annotated = probe_video(out / "annotated.mp4", count=True)
    assert annotated.num_frames == doc["num_frames"] and annotated.height >= 384
    page = (out / "index.html").read_text()
    assert "data:video/mp4;base64," in page
    assert page.count('class="row"') == len(predicted)
    scores = np.load(out / "window_scores.npz")
    assert scores["fused"].shape == (doc["num_windows"], 15)


def test_predict_video_without_a_person_gives_an_empty_timeline(
    interview, interview_pose, tmp_path, capsys
):
    rec = {**interview_pose, "keypoint_score": np.zeros_like(interview_pose["keypoint_score"])}
    pose = save_annotations(AnnotationFile([rec], {}, {"layout": "imigue22"}), tmp_path / "p.pkl")
    out = tmp_path / "pred"
    code = main([
        "predict", str(interview.video), "--checkpoint", str(interview.checkpoint),
        "--pose", str(pose), "-o", str(out), "--no-video",
    ])  # fmt: skip
    assert code == 0
    assert "no person" in capsys.readouterr().out
    doc = json.loads((out / "timeline.json").read_text())
    assert doc["segments"] == [] and doc["num_windows_classified"] == 0
    assert doc["person_share"] == 0.0


def test_predict_on_a_one_frame_video(interview, interview_pose, tmp_path, capsys):
    frames = read_frames(interview.video, [0])
    write_video(tmp_path / "one.mp4", frames, fps=25)
    rec = {**interview_pose, "total_frames": 1, "keypoint": interview_pose["keypoint"][:, :1],
           "keypoint_score": interview_pose["keypoint_score"][:, :1]}  # fmt: skip
    pose = save_annotations(AnnotationFile([rec], {}, {"layout": "imigue22"}), tmp_path / "p.pkl")
    code = main(["predict", str(tmp_path / "one.mp4"), "--checkpoint", str(interview.checkpoint),
                 "--pose", str(pose), "-o", str(tmp_path / "out"), "--no-video"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    doc = json.loads((tmp_path / "out" / "timeline.json").read_text())
    assert doc["num_frames"] == 1 and doc["num_windows_classified"] == 1


def test_predict_keeps_an_extracted_pose(interview, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "pose.pkl").write_bytes(b"an earlier extraction")
    code = main(["predict", str(interview.video), "--checkpoint", str(interview.checkpoint),
                 "-o", str(out)])  # fmt: skip
    assert code == 2 and "reuse it with --pose" in capsys.readouterr().err
    assert (out / "pose.pkl").read_bytes() == b"an earlier extraction"


def test_person_gate_skips_only_the_windows_without_a_person(interview, interview_pose):
    from mgproto.engine.checkpoint import load_model

    model, cfg = load_model(interview.checkpoint)
    score = interview_pose["keypoint_score"].copy()
    score[:, :60] = 0  # the person is absent for the first 2.4 s
    rec = {**interview_pose, "keypoint_score": score}
    opts = PredictOptions(window_s=1.6, stride_s=0.4)
    result = predict_video(
        model, cfg, rec, interview.video, fps=25.0, class_names=[str(k) for k in range(15)],
        options=opts,
    )  # fmt: skip
    classified = np.isfinite(result.window_probs["fused"]).all(1)
    share = np.array([(np.arange(s, e) >= 60).mean() for s, e in result.windows])
    np.testing.assert_array_equal(classified, share >= opts.min_person_share)
    assert all(s.start_frame >= 40 for s in result.segments)  # nothing labelled in the gap


@pytest.mark.parametrize("kind", ["corrupt", "empty", "missing"])
def test_predict_rejects_bad_videos_with_the_file_named(interview, tmp_path, capsys, kind):
    video = tmp_path / f"{kind}.mp4"
    if kind == "corrupt":
        video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    elif kind == "empty":
        video.write_bytes(b"")
    code = main(["predict", str(video), "--checkpoint", str(interview.checkpoint)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(video) in err and err.count("\n") == 1, err


def test_predict_rejects_a_pose_of_another_video(interview, interview_pose, tmp_path, capsys):
    short = {
        **interview_pose,
        "keypoint": interview_pose["keypoint"][:, :50],
        "keypoint_score": interview_pose["keypoint_score"][:, :50],
        "total_frames": 50,
    }
    pose = save_annotations(AnnotationFile([short], {}, {"layout": "imigue22"}), tmp_path / "p.pkl")
    code = main(["predict", str(interview.video), "--checkpoint", str(interview.checkpoint),
                 "--pose", str(pose)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "50 frames" in err and str(interview.video) in err


def test_predict_rejects_a_pose_in_another_layout(interview, interview_pose, tmp_path, capsys):
    coco = {
        **interview_pose,
        "keypoint": interview_pose["keypoint"][:, :, :17],
        "keypoint_score": interview_pose["keypoint_score"][:, :, :17],
    }
    pose = save_annotations(AnnotationFile([coco], {}, {"layout": "coco17"}), tmp_path / "p.pkl")
    code = main(["predict", str(interview.video), "--checkpoint", str(interview.checkpoint),
                 "--pose", str(pose), "--hide", "illustrative"])  # fmt: skip
    assert code == 2 and "layout 'coco17'" in capsys.readouterr().err


def _predict_with_untrained(settings: list[str], interview, tmp_path) -> tuple[dict, dict]:
    """``mgproto predict`` on the interview with a fresh model of ``settings`` (15 classes
    a-o): the window scores and the timeline document."""
    cfg = load_config(None, ["data.num_classes=15", "data.pose.layout=imigue22",
                             "data.pose.clip_len=16", "data.pose.test_size=8",
                             "model.preset=tiny", *settings])  # fmt: skip
    ckpt = save_checkpoint(tmp_path / "model.pt", cfg=cfg, model=model_from_config(cfg),
                           class_names=list("abcdefghijklmno"))  # fmt: skip
    out = tmp_path / "pred"
    code = main(["predict", str(interview.video), "--checkpoint", str(ckpt), "--pose",
                 str(interview.pose), "-o", str(out), "--min-confidence", "0",
                 "--no-video"])  # fmt: skip
    assert code == 0
    scores = dict(np.load(out / "window_scores.npz"))
    return scores, json.loads((out / "timeline.json").read_text())


def test_two_stream_model_reads_rgb_from_one_pass(interview, interview_pose, tmp_path):
    settings = ["data.modalities=[rgb, pose]", "data.rgb.clip_len=4", "data.rgb.test_size=32"]
    scores, doc = _predict_with_untrained(settings, interview, tmp_path)
    assert np.isfinite(scores["rgb"]).all() and np.isfinite(scores["pose"]).all()
    np.testing.assert_allclose(scores["fused"], (scores["rgb"] + scores["pose"]) / 2, atol=1e-6)
    assert doc["modalities"] == ["rgb", "pose"] and doc["segments"]
    assert doc["classes"] == list("abcdefghijklmno")


def test_two_stream_model_with_the_coordinate_stream_and_filled_gaps(interview, tmp_path):
    """The CPU two-stream recipe's model (RGB, heatmaps, coordinates; lost joints filled before
    the frames are sampled) on a video: the RGB frames are read at the sampler's indices, and
    the timeline fuses the three streams 1:1:1."""
    settings = ["data.modalities=[rgb, pose]", "data.rgb.clip_len=4", "data.rgb.test_size=32",
                "data.pose.representation=both", "data.pose.fill_gaps=15"]  # fmt: skip
    scores, doc = _predict_with_untrained(settings, interview, tmp_path)
    streams = ("rgb", "pose", "coords")
    assert all(np.isfinite(scores[s]).all() for s in streams)
    np.testing.assert_allclose(scores["fused"], sum(scores[s] for s in streams) / 3, atol=1e-6)
    assert doc["modalities"] == ["rgb", "pose"] and doc["segments"]


def test_streaming_frames_equal_random_access_reads(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (30, 32, 48, 3), dtype=np.uint8)
    video = write_video(tmp_path / "v.mp4", frames, fps=25)
    needed = {1, 2, 7, 12, 13, 20, 29}
    reader = StreamingFrames(video, needed, size=(32, 48))
    for start, inds in ((0, [1, 2, 7]), (5, [2, 7, 8]), (12, [1, 8, 17])):
        got = reader(video, np.array(inds), start_frame=start)
        np.testing.assert_array_equal(got, read_frames(video, inds, start_frame=start))
        reader.release_before(start + min(inds))
    assert min(reader.frames) >= 13


def test_streaming_frames_name_a_video_shorter_than_its_pose(tmp_path):
    video = write_video(tmp_path / "v.mp4", np.zeros((5, 16, 16, 3), np.uint8), fps=25)
    reader = StreamingFrames(video, {3, 9}, size=(16, 16))
    with pytest.raises(ValueError, match=r"v\.mp4.*ends before frame 9"):
        reader(video, np.array([3, 9]))


def test_stitch_cli_writes_video_pose_and_truth(interview, tmp_path, capsys):
    out = tmp_path / "st"
    assert main(["stitch", str(interview.annotations), "-o", str(out), "--num-clips", "3",
                 "--classes", "8,14", "--seed", "1"]) == 0  # fmt: skip
    truth = read_segments(out / "truth.csv")
    assert len(truth) == 3 and {s.label_id for s in truth} <= {8, 14}
    assert truth[0].start_frame == 0
    assert all(a.end_frame == b.start_frame for a, b in itertools.pairwise(truth))
    assert probe_video(out / "video.mp4", count=True).num_frames == truth[-1].end_frame
    assert Path(out / "pose.pkl").is_file()


def test_predict_extracts_the_pose_itself_and_finds_no_person(interview, tmp_path, capsys):
    pytest.importorskip("mediapipe", reason="the pose extra (MediaPipe) is not installed")
    video = write_video(tmp_path / "empty_room.mp4", np.full((20, 96, 128, 3), 128, np.uint8))
    out = tmp_path / "pred"
    code = main(["predict", str(video), "--checkpoint", str(interview.checkpoint), "-o", str(out),
                 "--no-video"])  # fmt: skip
    assert code == 0
    assert "no person" in capsys.readouterr().out
    pose = load_annotations(out / "pose.pkl")
    assert pose.meta["layout"] == "imigue22" and pose.annotations[0]["total_frames"] == 20
    assert json.loads((out / "timeline.json").read_text())["segments"] == []


def test_pose_model_with_a_coordinate_stream_predicts_a_timeline(interview, tmp_path):
    """The CPU pose recipe's model (data.pose.representation both) on a video: the test
    pipeline gives heatmaps and coords, and the timeline fuses the two streams."""
    settings = ["data.modalities=[pose]", "data.pose.representation=both"]
    scores, doc = _predict_with_untrained(settings, interview, tmp_path)
    assert np.isfinite(scores["pose"]).all() and np.isfinite(scores["coords"]).all()
    np.testing.assert_allclose(scores["fused"], (scores["pose"] + scores["coords"]) / 2, atol=1e-6)
    assert not np.allclose(scores["pose"], scores["coords"]) and doc["modalities"] == ["pose"]


def test_an_empty_timeline_says_why_and_a_run_folder_is_a_checkpoint(interview, tmp_path, capsys):
    """A weak (untrained) model whose confidence never reaches --min-confidence 0.3: the
    console, timeline.json and the page give the highest confidence (when, which class) and the
    threshold; the page plots the confidence over time. ``--checkpoint`` takes a run folder, as
    ``mgproto test`` does (here one with only a last.pt)."""
    cfg = load_config(None, ["data.modalities=[pose]", "data.num_classes=15",
                             "data.pose.layout=imigue22", "data.pose.clip_len=16",
                             "data.pose.test_size=8", "model.preset=tiny"])  # fmt: skip
    run = tmp_path / "run"
    ckpt = save_checkpoint(run / "checkpoints" / "last.pt", cfg=cfg, model=model_from_config(cfg))
    out = tmp_path / "pred"
    code = main(["predict", str(interview.video), "--checkpoint", str(run), "--pose",
                 str(interview.pose), "-o", str(out), "--no-video"])  # fmt: skip
    printed, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads((out / "timeline.json").read_text())
    peak = doc["peak"]
    assert doc["segments"] == [] and 0 < peak["confidence"] < 0.3
    assert doc["checkpoint"] == str(ckpt.resolve())
    expected = (
        f"no frame reaches --min-confidence 0.3: the highest confidence is "
        f"{peak['confidence']:.3f} ({peak['label']!r} at {peak['time_s']:.2f} s)"
    )
    assert doc["no_segments_reason"].startswith(expected)
    assert "0 segments; classified at" in printed and f"no segment: {expected}" in printed
    page = (out / "index.html").read_text()
    assert "No segment: no frame reaches --min-confidence 0.3" in page
    assert "data:image/png;base64," in page
    assert (out / "confidence.png").read_bytes()[:4] == b"\x89PNG"


def test_predict_help_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    options = capsys.readouterr().out.split("options:")[1]
    blocks: list[str] = []  # one per option, its wrapped help joined
    for line in options.splitlines():
        if line.startswith("  -"):
            blocks.append(line)
        elif blocks:
            blocks[-1] += " " + line.strip()
    flags = [b.split()[0] for b in blocks]
    assert {"--window", "--min-confidence", "--hide", "--no-video", "--pose"} <= set(flags)
    missing = [f for f, b in zip(flags, blocks) if "(default: " not in b]
    assert missing == ["-h,", "--checkpoint"], missing  # help, and the one required option
    assert "unlabelled (default: 0.3)" in " ".join(blocks)
