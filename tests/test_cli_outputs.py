"""No verb destroys an input, and no result comes from other data (issue 41, defects 1, 3, 4, 5,
12 and 13): every file a verb writes, inside its output folder too, is checked against every
input before the first is written; test results are reused only for the same checkpoint,
annotation file, split and settings; a new run starts its own metrics log; a rerun of synth
removes the temporary files of a killed one.

Each data-loss case checks the SHA-256 of every input file before and after the command.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mgproto.build import model_from_config
from mgproto.cli import main
from mgproto.config import load_config
from mgproto.data.annotations import AnnotationFile, load_annotations, save_annotations
from mgproto.data.video import write_video
from mgproto.engine.checkpoint import save_checkpoint
from mgproto.engine.logging import read_metrics
from mgproto.engine.testing import metrics_match
from mgproto.engine.trainer import train

POSE_MODEL = [
    "data.modalities=[pose]", "data.num_classes=3", "data.pose.layout=imigue22",
    "data.pose.clip_len=8", "data.pose.test_size=8", "model.preset=tiny",
]  # fmt: skip


def _digests(*roots: Path) -> dict[str, str]:
    """SHA-256 of every file under ``roots`` (files, or folders walked)."""
    files = [p for r in roots for p in ([r] if r.is_file() else sorted(r.rglob("*")))]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def _refused(argv: list[str], capsys, *fragments: str) -> str:
    """Run a command that must be refused: exit 2, one error line holding ``fragments``."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert all(f in err for f in fragments), err
    return err


def _pose_record(name: str, num_frames: int, label: int = -1) -> dict:
    rng = np.random.default_rng(len(name) + num_frames)
    return {
        "frame_dir": name, "label": label, "img_shape": (32, 32), "original_shape": (32, 32),
        "total_frames": num_frames, "layout": "imigue22", "subject_id": "1",
        "keypoint": rng.uniform(4, 28, (1, num_frames, 22, 2)).astype(np.float32),
        "keypoint_score": np.ones((1, num_frames, 22), np.float32),
    }  # fmt: skip


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """An untrained pose checkpoint, an 8-frame video, its pose and a truth CSV (predict), and
    two clips with their annotation file (stitch)."""
    w = tmp_path_factory.mktemp("media")
    cfg = load_config(None, POSE_MODEL)
    frames = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)
    clips = [_pose_record("c0", 8, label=0), _pose_record("c1", 8, label=1)]
    for rec in clips:
        rec["filename"] = f"{rec['frame_dir']}.mp4"
        write_video(w / rec["filename"], frames, fps=25)
    meta = {"layout": "imigue22", "classes": ["a", "b"]}
    return {
        "checkpoint": save_checkpoint(w / "model.pt", cfg=cfg, model=model_from_config(cfg)),
        "video": write_video(w / "video.mp4", frames, fps=25),
        "pose": save_annotations(
            AnnotationFile([_pose_record("video", 8)], {}, {"layout": "imigue22"}), w / "p.pkl"
        ),
        "truth": _write(w / "truth.csv", "start,end,label\n0.0,0.2,class 0\n"),
        "clips": save_annotations(AnnotationFile(clips, {"test": ["c0", "c1"]}, meta), w / "a.pkl"),
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---- defect 1: predict and stitch never write over an input in their output folder ----------

PREDICT_CASES = {  # which input sits in the output folder, under which output name
    "video-as-annotated.mp4": ("video", "annotated.mp4"),
    "truth-as-timeline.csv": ("truth", "timeline.csv"),
    "checkpoint-as-window_scores.npz": ("checkpoint", "window_scores.npz"),
}


@pytest.mark.parametrize("case", PREDICT_CASES)
def test_predict_refuses_an_output_folder_holding_an_input(media, tmp_path, capsys, case):
    role, name = PREDICT_CASES[case]
    d = tmp_path / "d"
    d.mkdir()
    inputs = {k: media[k] for k in ("video", "checkpoint", "pose", "truth")}
    inputs[role] = Path(shutil.copy(media[role], d / name))
    before = _digests(tmp_path, *inputs.values())
    argv = ["predict", str(inputs["video"]), "--checkpoint", str(inputs["checkpoint"]),
            "--pose", str(inputs["pose"]), "--truth", str(inputs["truth"]),
            "-o", str(d)]  # fmt: skip
    _refused(argv, capsys, f"{d / name}: is also an input of this command", "(-o)")
    assert _digests(tmp_path, *inputs.values()) == before
    assert sorted(os.listdir(d)) == [name]  # refused before anything was written


def test_predict_replaces_its_own_earlier_outputs(media, tmp_path, capsys):
    d = tmp_path / "d"
    argv = ["predict", str(media["video"]), "--checkpoint", str(media["checkpoint"]),
            "--pose", str(media["pose"]), "-o", str(d), "--window", "0.2",
            "--stride", "0.1"]  # fmt: skip
    assert main(argv) == 0
    written = {Path(p).name for p in _digests(d)}
    assert written == {"timeline.json", "timeline.csv", "window_scores.npz", "confidence.png",
                       "annotated.mp4", "index.html"}  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err  # a rerun replaces them, unasked
    assert not [p for p in os.listdir(d) if p.startswith(".")]


def test_a_truth_file_of_class_names_is_scored_against_them(media, tmp_path, capsys):
    # a truth CSV with labels but no label_id column scored 0 whatever was predicted (the
    # issue-41 sweep): its labels are the model's class names, matched by index
    argv = ["predict", str(media["video"]), "--checkpoint", str(media["checkpoint"]),
            "--pose", str(media["pose"]), "--window", "0.2", "--stride", "0.1",
            "--min-confidence", "0", "--min-duration", "0", "--no-video", "--no-html"]  # fmt: skip
    assert main([*argv, "-o", str(tmp_path / "a")]) == 0
    rows = (tmp_path / "a" / "timeline.csv").read_text().splitlines()[1:]
    assert rows, "the untrained model predicted no segment"
    truth = "start,end,label\n" + "".join(",".join(r.split(",")[:3]) + "\n" for r in rows)
    _write(tmp_path / "truth.csv", truth)  # the prediction itself, labelled by name only
    assert main([*argv, "-o", str(tmp_path / "b"), "--truth", str(tmp_path / "truth.csv")]) == 0
    doc = json.loads((tmp_path / "b" / "timeline.json").read_text())
    assert doc["truth"]["mean_tiou"] == 1.0, capsys.readouterr().out


def test_stitch_refuses_to_write_over_its_annotation_file(media, tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    ann = load_annotations(media["clips"])
    for rec in ann.annotations:
        shutil.copy(media["clips"].parent / rec["filename"], d / rec["filename"])
    pose = save_annotations(ann, d / "pose.pkl")  # stitch d/pose.pkl -o d
    before = _digests(d)
    _refused(["stitch", str(pose), "-o", str(d), "--num-clips", "2"], capsys,
             f"{pose}: is also an input of this command")  # fmt: skip
    assert _digests(d) == before


def test_stitch_refuses_to_write_over_a_clip_video(media, tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    ann = load_annotations(media["clips"])
    records = [dict(r) for r in ann.annotations]
    shutil.copy(media["video"], d / "video.mp4")
    records[0]["filename"] = "d/video.mp4"  # relative to the annotation file's folder
    shutil.copy(media["clips"].parent / records[1]["filename"], tmp_path)
    clips = save_annotations(AnnotationFile(records, ann.split, ann.meta), tmp_path / "a.pkl")
    before = _digests(d, clips)
    _refused(["stitch", str(clips), "-o", str(d), "--num-clips", "2"], capsys,
             f"{d / 'video.mp4'}: is also an input of this command")  # fmt: skip
    assert _digests(d, clips) == before


# ---- defect 3: train never replaces its config file (or a base of it) with the resolved one ---


def test_ensemble_never_writes_its_summary_over_the_split_record_it_reads(tmp_path, capsys):
    # ensemble reads the ids.json beside each score file (the split); -o d/ids.npz would
    # write its summary there (the issue-41 sweep)
    from mgproto.engine.evaluate import Scores
    from mgproto.engine.scores import save_scores

    d = tmp_path / "d"
    fused = np.random.default_rng(0).uniform(0, 1, (4, 3))
    ids = [f"c{i}" for i in range(4)]
    scores = save_scores(Scores(ids, np.arange(4) % 3, {"pose": fused}, fused), d / "scores.npz")
    _write(d / "ids.json", json.dumps({"split": "val", "frame_dirs": ids}))
    before = _digests(d)
    s = str(scores)
    argv = ["ensemble", "--val", s, s, "--test", s, s, "-o", str(d / "ids.npz"), "--force"]
    _refused(argv, capsys, f"{d / 'ids.json'}: is also an input of this command")
    assert _digests(d) == before and sorted(os.listdir(d)) == ["ids.json", "scores.npz"]


@pytest.mark.parametrize("given", ["config.yaml", "exp.yaml"])
def test_train_refuses_a_run_folder_holding_its_config(tmp_path, tiny_dataset, tiny_settings,
                                                       capsys, given):  # fmt: skip
    d = tmp_path / "d"
    user = _write(d / "config.yaml", "# my settings\nname: mine\n")
    if given == "exp.yaml":  # the config in the folder is the base of the one given
        _write(d / "exp.yaml", "base: config.yaml\ntrain:\n  epochs: 1\n")
    before = _digests(d)
    sets = [x for s in [f"data.annotations={tiny_dataset}", *tiny_settings] for x in ("--set", s)]
    argv = ["train", str(d / given), "--run-dir", str(d), *sets, "--device", "cpu"]
    _refused(argv, capsys, f"{user}: is also an input of this command ({user}); ",
             f"--run-dir than {d}")  # fmt: skip
    assert _digests(d) == before and sorted(os.listdir(d)) == sorted({"config.yaml", given})


# ---- defect 4: convert never replaces a file found under a dataset folder it reads -----------


def _miga_package(root: Path) -> Path:
    """A MiGA 2023 skeleton package of one video: 6 frames, two labelled clips."""
    folder = root / "imigue_skeleton_train" / "0054"
    rows = [[t, *np.tile([10.0 + t, 20.0, 0.5], 35)] for t in range(6)]
    _write(folder / "0054_light_hand.csv", "\n".join(",".join(f"{v:g}" for v in r) for r in rows))
    _write(folder / "0054_label.csv", "5,0,2\n99,3,5\n")
    return folder


@pytest.mark.parametrize("how", ["inside", "through-a-symlinked-folder"])
def test_convert_never_writes_over_a_file_it_reads(tmp_path, capsys, how):
    data = tmp_path / "data"
    folder = _miga_package(tmp_path / "store" if how != "inside" else data)
    if how != "inside":  # the dataset folder links to the video folder kept elsewhere
        (data / "imigue_skeleton_train").mkdir(parents=True)
        (data / "imigue_skeleton_train" / "0054").symlink_to(folder, target_is_directory=True)
    label = folder / "0054_label.csv"
    before = _digests(tmp_path)
    argv = ["convert", "miga2023", str(data), "-o", str(label), "--force"]
    _refused(argv, capsys, f"{label}: is also an input of this command (a file under the "
             f"input folder {data})")  # fmt: skip
    assert _digests(tmp_path) == before
    assert main(["convert", "miga2023", str(data), "-o", str(tmp_path / "out.pkl")]) == 0


# ---- defect 5: compare and report reuse a test only for the same data and settings ----------


@pytest.fixture(scope="module")
def pose_run(tmp_path_factory, tiny_dataset, tiny_settings) -> Path:
    """A one-epoch pose run trained on its own copy of the tiny annotation file."""
    w = tmp_path_factory.mktemp("pose_run")
    ann = shutil.copy(tiny_dataset, w / "annotations.pkl")  # pose only: no video is read
    settings = [*tiny_settings, f"data.annotations={ann}", "data.modalities=[pose]",
                "train.epochs=1"]  # fmt: skip
    return train(load_config(None, settings), run_dir=w / "run", device="cpu").run_dir


def _top1(table: str, stream: str = "pose") -> str:
    """The top-1 column of ``stream``'s row in a one-run ``compare`` table."""
    row = next(line for line in table.splitlines() if f"| {stream} |" in line)
    return row.split("|")[3].strip()


def test_compare_does_not_reuse_a_test_of_other_data(pose_run, tmp_path, capsys):
    common = ["--split", "val", "--device", "cpu"]
    own = tmp_path / "own"
    assert main(["test", str(pose_run), *common[:2], "--out", str(own), *common[2:]]) == 0
    own_top1 = json.loads((own / "metrics.json").read_text())["pose"]["top1"]
    # other data: the same clips, labelled so that the model's top-1 on them is 1.0 or 0.0,
    # whichever differs from its top-1 on its own data
    scores = np.load(own / "scores.npz")
    shift = int(own_top1 == 1.0)
    guess = {str(c): (int(np.argmax(s)) + shift) % 3 for c, s in zip(scores["frame_dirs"],
                                                                      scores["fused"])}  # fmt: skip
    ann = load_annotations(pose_run.parent / "annotations.pkl")
    records = [{**r, "label": guess.get(r["frame_dir"], r["label"])} for r in ann.annotations]
    other = save_annotations(AnnotationFile(records, ann.split, ann.meta), tmp_path / "other.pkl")
    assert main(["test", str(pose_run), *common, "--set", f"data.annotations={other}"]) == 0
    saved = json.loads((pose_run / "test_val" / "metrics.json").read_text())["pose"]["top1"]
    assert saved == 1.0 - shift != own_top1  # RUN/test_val now holds the other data's result
    capsys.readouterr()
    assert main(["compare", str(pose_run), *common]) == 0
    assert _top1(capsys.readouterr().out) == f"{own_top1:.4f}"


def test_test_results_are_keyed_on_settings_and_the_annotation_file(pose_run, capsys):
    ckpt, metrics = pose_run / "checkpoints" / "best.pt", pose_run / "test_val" / "metrics.json"
    assert main(["test", str(pose_run), "--split", "val", "--clips", "3"]) == 0
    assert not metrics_match(metrics, ckpt, split="val")  # other test settings
    assert main(["test", str(pose_run), "--split", "val"]) == 0
    assert metrics_match(metrics, ckpt, split="val")
    assert not metrics_match(metrics, ckpt, split="train")
    annotations = pose_run.parent / "annotations.pkl"
    stamp = annotations.stat()
    os.utime(annotations, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10**9))  # rewritten
    assert not metrics_match(metrics, ckpt, split="val")


# ---- defect 12: a new run starts its own metrics.jsonl ---------------------------------------


def test_a_new_run_replaces_the_metrics_of_a_run_killed_before_its_checkpoint(
    tmp_path, tiny_dataset, tiny_settings
):
    run = tmp_path / "run"  # what a run killed after 3 logged steps, before a checkpoint, leaves
    stale = [{"kind": "train", "epoch": 1, "step": s, "loss": 9.0} for s in (1, 2, 3)]
    _write(run / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in stale))
    settings = [*tiny_settings, f"data.annotations={tiny_dataset}", "data.modalities=[pose]"]
    train(load_config(None, settings), run_dir=run, device="cpu", max_steps=2)
    records = read_metrics(run)
    assert [r["step"] for r in records if r["kind"] == "train"] == [1, 2]
    assert all(r.get("loss") != 9.0 for r in records)


# ---- defect 13: a rerun of synth removes the temporary files of a killed one -----------------


def test_synth_rerun_removes_the_temporary_files_of_a_killed_run(tmp_path, capsys):
    out = tmp_path / "synth"
    videos = out / "videos"
    killed = (  # a writer killed in the middle of a clip, as `kill -9` leaves it
        "import os, signal, sys\nimport numpy as np\nfrom mgproto.data.video import VideoWriter\n"
        "w = VideoWriter(sys.argv[1], fps=25).__enter__()\n"
        "w.write(np.zeros((64, 64, 3), np.uint8))\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", killed, str(videos / "s00_0002.mp4")], check=False)
    left = [p.name for p in videos.iterdir()]
    assert len(left) == 1 and left[0].startswith(".s00_0002."), left
    _write(videos / ".s00_0003.k3j9x0ab.mp4", "half")  # what the writer's old names looked like
    user = [_write(videos / ".s00_0002.mp4.notes", "mine"), _write(videos / ".keep", "")]
    argv = ["synth", "--size", "tiny", "--out", str(out), "--seed", "2", "--workers", "1"]
    assert main(argv) == 0
    assert "removed 2 temporary files of an interrupted run" in capsys.readouterr().out
    hidden = sorted(p for p in videos.iterdir() if p.name.startswith("."))
    assert hidden == sorted(user)  # only synth's own temporary files were removed
