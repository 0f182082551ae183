"""Bad input through the CLI, table-driven: each row is a command a user might type, the exit
code and message fragment it must give, and the check that nothing on disk changed.

The files live in one session folder (``world``); every row snapshots it before and after, so a
refused command that still wrote, replaced or deleted anything fails its row.
"""

from __future__ import annotations

import argparse
import errno
import gc
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from mgproto.build import model_from_config
from mgproto.cli import main
from mgproto.data.annotations import AnnotationFile, load_annotations, save_annotations
from mgproto.engine.checkpoint import save_checkpoint
from mgproto.engine.evaluate import Scores
from mgproto.engine.scores import save_scores
from mgproto.engine.trainer import train


def _scores(path: Path, ids: list[str], fused: np.ndarray, labels=None) -> Path:
    labels = np.zeros(len(ids), int) if labels is None else labels
    return save_scores(Scores(list(ids), np.asarray(labels), {"pose": fused}, fused), path)


@pytest.fixture(scope="module")
def world(tmp_path_factory, tiny_dataset, tiny_settings):
    """A trained tiny pose run, score files, and broken files, all in one folder."""
    w = tmp_path_factory.mktemp("world")
    pose = [*tiny_settings, "data.modalities=[pose]", "train.epochs=1"]
    settings = [f"data.annotations={tiny_dataset}", *pose]
    (w / "settings.txt").write_text("\n".join(settings))
    (w / "cfg.yaml").write_text("name: bad_inputs\n")
    from mgproto.config import load_config

    cfg = load_config(None, settings)
    train(cfg, run_dir=w / "run", device="cpu")
    two = load_config(None, [f"data.annotations={tiny_dataset}", *tiny_settings])
    save_checkpoint(w / "two_stream.pt", cfg=two, model=model_from_config(two))
    rng = np.random.default_rng(0)
    ids = [f"c{i:02d}" for i in range(4)]
    _scores(w / "a.npz", ids, rng.uniform(0, 1, (4, 3)))
    _scores(w / "b.npz", ids, rng.uniform(0, 1, (4, 3)))
    nan = rng.uniform(0, 1, (4, 3))
    nan[2, 1] = np.nan
    _scores(w / "nan.npz", ids, nan)
    _scores(w / "dup.npz", ["c00", "c01", "c01", "c03"], rng.uniform(0, 1, (4, 3)))
    (w / "ids.txt").write_text("\n".join(ids) + "\n")
    (w / "zero.pt").write_bytes(b"")
    (w / "zero.npz").write_bytes(b"")
    data = (w / "a.npz").read_bytes()
    (w / "truncated.npz").write_bytes(data[: len(data) // 2])
    ckpt = (w / "run" / "checkpoints" / "last.pt").read_bytes()
    (w / "truncated.pt").write_bytes(ckpt[: len(ckpt) // 3])
    torch.save({"state_dict": {"foo.weight": torch.zeros(3)}}, w / "foreign.pth")
    torch.save({"args": argparse.Namespace(lr=0.1)}, w / "objects.pt")
    ann = load_annotations(tiny_dataset)
    recs = [dict(r) for r in ann.annotations]
    recs[3]["label"] = -1
    save_annotations(AnnotationFile(recs, ann.split, ann.meta), w / "unlabelled.pkl")
    recs = [dict(r) for r in ann.annotations]
    recs[5]["filename"] = "../../outside.mp4"
    save_annotations(AnnotationFile(recs, ann.split, ann.meta), w / "escape.pkl")
    with open(w / "bad_meta.pkl", "wb") as f:
        pickle.dump({"split": ann.split, "annotations": ann.annotations, "meta": ["x"]}, f)
    (w / "a_file").write_text("not a folder")
    (w / "folder").mkdir()
    os.mkfifo(w / "fifo")
    _issue41_files(w, ann, ids, rng)
    return w


class _Payload:
    """A pickle that would leave a file named ``pwned`` if anything unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _zip_bomb(path: Path, megabytes: int) -> None:
    """An .npz of one float32 member of ``megabytes`` MiB of zeros, ~1000x compressed."""
    header = {"descr": "<f4", "fortran_order": False, "shape": (megabytes << 18,)}
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z,
        z.open("fused.npy", "w", force_zip64=True) as f,
    ):
        np.lib.format.write_array_header_1_0(f, header)
        for _ in range(megabytes):
            f.write(bytes(1 << 20))


def _issue41_files(w: Path, ann: AnnotationFile, ids: list[str], rng) -> None:
    """Files that are not what their name says, damaged checkpoints and label problems."""
    (w / "png.pt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (w / "random.pt").write_bytes(np.random.default_rng(1).bytes(512))
    (w / "json.pt").write_text('{"model": {}}')
    (w / "payload.pt").write_bytes(pickle.dumps(_Payload(w / "pwned"), protocol=4))
    torch.save({"format": "mgproto-checkpoint", "config": "name: x\n"}, w / "no_model.pt")
    state = torch.load(w / "run" / "checkpoints" / "last.pt", weights_only=True)
    weight = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][weight] = torch.full_like(state["model"][weight], float("nan"))
    torch.save(state, w / "nan.pt")
    shutil.copytree(w / "run", w / "run_nan")
    torch.save(state, w / "run_nan" / "checkpoints" / "last.pt")
    _scores(w / "unlabelled_val.npz", ids, rng.uniform(0, 1, (4, 3)), labels=np.full(4, -1))
    _scores(w / "other_labels.npz", ids, rng.uniform(0, 1, (4, 3)), labels=np.arange(4) + 5)
    _scores(w / "big.npz", ids, np.full((4, 3), 1e38))
    _zip_bomb(w / "bomb.npz", 96)  # 96 MiB declared in ~100 kB: over 64 per byte + 64 MiB
    (w / "ids_repeat.txt").write_text("\n".join([*ids, "c01"]) + "\n")
    (w / "bin.yaml").write_bytes(b"\x89PNG\r\n\x1a\nname: x\n")
    (w / "bad.yaml").write_text("data:\n  pose: {sigma: 0.7\nname: x\n")
    (w / "empty_truth.csv").write_text("start,end,label\n")
    (w / "e2.json").write_text("{}")  # the summary beside e2.npz: an existing result
    (w / "e3.json").mkdir()  # ... and beside e3.npz: a folder
    save_annotations(AnnotationFile(ann.annotations, ann.split, {"layout": "bogus"}),
                     w / "bogus_layout.pkl")  # fmt: skip
    save_annotations(AnnotationFile(ann.annotations[:1], {}, ann.meta), w / "pose.pkl")


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_fifo():
            out[str(p)] = "fifo"
        elif p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p)] = "dir" if p.is_dir() else "other"
    return out


def _ensemble(val: str, test: str, *extra: str) -> str:
    return " ".join(["ensemble", "--val", val, "--test", test, *extra])


# (id, command with {w} for the world folder and {set} for the run's --set list, exit code,
#  fragment of the error message)
CASES = [
    # outputs that are inputs
    ("merge-into-input", "merge-init --rgb {w}/run --pose {w}/run -o {w}/run/checkpoints/best.pt",
     2, "is also an input of this command"),
    ("submit-into-input", "submit {w}/a.npz --ids {w}/ids.txt -o {w}/a.npz", 2,
     "is also an input"),
    ("ensemble-into-input", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                                      "-o", "{w}/b.npz", "--force"), 2, "is also an input"),
    ("import-into-input", "import-checkpoint {w}/foreign.pth -o {w}/foreign.pth --force", 2,
     "is also an input"),
    # outputs that are not regular files, existing results, impossible folders
    ("output-fifo", "submit {w}/a.npz --ids {w}/ids.txt -o {w}/fifo --force", 2,
     "is not a regular file"),
    ("output-folder", "submit {w}/a.npz --ids {w}/ids.txt -o {w}/folder", 2,
     "is not a regular file"),
    ("output-exists", "submit {w}/a.npz --ids {w}/ids.txt -o {w}/b.npz", 2,
     "already exists; pass --force"),
    ("output-parent-is-file", "submit {w}/a.npz --ids {w}/ids.txt -o {w}/a_file/s.zip", 2,
     "is a file, not a folder"),
    # resume takes the run's settings
    ("resume-changed", "train --resume --run-dir {w}/run {set} --set train.batch_size=3", 2,
     "train.batch_size: 2 in the run, 3 now"),
    ("resume-changed-lr", "train --resume --run-dir {w}/run {set} --set train.lr=0.5", 2,
     "differ: train.lr"),
    ("new-run-over-old", "train {w}/cfg.yaml --run-dir {w}/run {set}", 2, "already holds a run"),
    # config values out of range
    ("lr-nan", "train {w}/cfg.yaml --run-dir {w}/new {set} --set train.lr=.nan", 2,
     "not a finite number"),
    ("sigma-negative", "train {w}/cfg.yaml --run-dir {w}/new {set} --set data.pose.sigma=-1", 2,
     "data.pose.sigma: -1.0 is out of range, expected > 0"),
    ("epochs-zero", "train {w}/cfg.yaml --run-dir {w}/new {set} --set train.epochs=0", 2,
     "train.epochs: 0 is out of range"),
    ("batch-zero", "train {w}/cfg.yaml --run-dir {w}/new {set} --set train.batch_size=0", 2,
     "train.batch_size: 0 is out of range"),
    ("accum-zero", "train {w}/cfg.yaml --run-dir {w}/new {set} --set train.grad_accum_steps=0", 2,
     "out of range"),
    ("crop-zero", "train {w}/cfg.yaml --run-dir {w}/new {set} --set data.pose.train_size=0", 2,
     "out of range"),
    ("log-every-zero", "train {w}/cfg.yaml --run-dir {w}/new {set} --set train.log_every=0", 2,
     "out of range"),
    # scores and weights
    ("nan-scores-submit", "submit {w}/nan.npz --ids {w}/ids.txt -o {w}/s.zip", 2,
     "non-finite scores (first: 'c02')"),
    ("nan-scores-ensemble", _ensemble("{w}/a.npz {w}/nan.npz", "{w}/a.npz {w}/b.npz",
                                      "-o", "{w}/e.npz"), 2, "non-finite scores"),
    ("one-weight-two-models", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                                        "--weights", "1", "-o", "{w}/e.npz"), 2,
     "1 weights for 2 models"),
    ("nan-weight", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                             "--weights", "1", "nan", "-o", "{w}/e.npz"), 2, "must be finite"),
    ("negative-weight", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                                  "--weights", "1", "-1", "-o", "{w}/e.npz"), 2, ">= 0"),
    ("zero-weights", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                               "--weights", "0", "0", "-o", "{w}/e.npz"), 2, "not all zero"),
    ("duplicate-ids", "submit {w}/dup.npz --ids {w}/ids.txt -o {w}/s.zip", 2,
     "clip id 'c01' appears twice"),
    # useless checkpoints
    ("import-matches-nothing", "import-checkpoint {w}/foreign.pth -o {w}/x.pt {set}", 2,
     "no tensor matches"),
    ("merge-two-stream-runs", "merge-init --rgb {w}/two_stream.pt --pose {w}/two_stream.pt "
     "-o {w}/x.pt {set}", 2, "found no match"),
    # broken files: one line naming the file
    ("zero-byte-checkpoint", "test {w}/zero.pt", 2, "zero.pt: the checkpoint is empty"),
    ("truncated-checkpoint", "test {w}/truncated.pt", 2,
     "truncated.pt: not a readable checkpoint"),
    ("checkpoint-with-objects", "test {w}/objects.pt", 2,
     "objects.pt: not a readable checkpoint (holds Python objects, not only tensors)"),
    ("folder-as-checkpoint", "test {w}/folder", 2, "no checkpoints/best.pt"),
    ("zero-byte-scores", "submit {w}/zero.npz --ids {w}/ids.txt -o {w}/s.zip", 2,
     "zero.npz: the score file is empty"),
    ("truncated-scores", "submit {w}/truncated.npz --ids {w}/ids.txt -o {w}/s.zip", 2,
     "truncated.npz: not a readable .npz"),
    ("missing-scores", "submit {w}/gone.npz --ids {w}/ids.txt -o {w}/s.zip", 2,
     "gone.npz: score file not found"),
    # numbers out of range on the command line, overrides that do not apply
    ("test-zero-clips", "test {w}/run --split val --clips 0", 2,
     "argument --clips: 0 is out of range, expected > 0"),
    ("test-overrides-model", "test {w}/run --split val --set model.preset=paper", 2,
     "test overrides data fields"),
    ("test-override-changes-model", "test {w}/run --split val --set data.num_classes=5", 2,
     "changes the model of the checkpoint (num_classes)"),
    ("stitch-bad-classes", "stitch {w}/run/config.yaml -o {w}/st --classes a,b", 2,
     "expected comma-separated class ids"),
    ("train-zero-steps", "train {w}/cfg.yaml --run-dir {w}/new {set} --max-steps 0", 2,
     "argument --max-steps: 0 is out of range"),
    # skeleton files
    ("bad-init", "train {w}/cfg.yaml --run-dir {w}/new {set} --init {w}/zero.pt", 2,
     "zero.pt: the checkpoint is empty"),
    ("unlabelled-train-clip", "train {w}/cfg.yaml --run-dir {w}/new {set} "
     "--set data.annotations={w}/unlabelled.pkl", 2, "has no label (-1)"),
    ("path-outside-video-root", "inspect {w}/escape.pkl", 2, "record 5 ('c05')"),
    ("meta-not-a-dict", "inspect {w}/bad_meta.pkl", 2, "bad_meta.pkl"),
    ("missing-config", "train {w}/gone.yaml", 2, "config file not found"),
    ("resume-without-config-or-run", "train --resume", 2, "give a config file"),
    # issue 41 -- 2: every output of a verb checked before the first is written
    ("ensemble-summary-exists", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                                          "-o", "{w}/e2.npz"), 2,
     "e2.json: already exists; pass --force"),
    ("ensemble-summary-is-a-folder", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                                               "-o", "{w}/e3.npz", "--force"), 2,
     "e3.json: exists and is not a regular file"),
    # 6: a .pt that is no checkpoint is named for what it is; nothing of it is unpickled
    ("info-png-as-checkpoint", "info {w}/png.pt", 2,
     "png.pt: not a readable checkpoint: a PNG image, not a torch.save file"),
    ("info-random-bytes", "info {w}/random.pt", 2, "random.pt: not a readable checkpoint: bytes"),
    ("info-json-as-checkpoint", "info {w}/json.pt", 2,
     "json.pt: not a readable checkpoint: JSON text"),
    ("info-payload", "info {w}/payload.pt", 2,
     "payload.pt: not a readable checkpoint: a Python pickle without torch's header"),
    ("merge-payload", "merge-init --rgb {w}/payload.pt --pose {w}/run -o {w}/x.pt --trust-file",
     2, "payload.pt: not a readable checkpoint: a Python pickle"),
    # 7: sizes have upper bounds, in the schema and on the command line
    ("pose-train-size-huge", "train {w}/cfg.yaml --run-dir {w}/new {set} "
     "--set data.pose.train_size=100000", 2,
     "data.pose.train_size: 100000 is out of range, expected >= 1 and <= 1024"),
    ("pose-test-size-huge", "test {w}/run --split val --set data.pose.test_size=100000", 2,
     "data.pose.test_size: 100000 is out of range, expected >= 1 and <= 1024"),
    ("classes-huge", "train {w}/cfg.yaml --run-dir {w}/new {set} "
     "--set data.num_classes=2000000000", 2,
     "data.num_classes: 2000000000 is out of range, expected >= 1 and <= 100000"),
    ("test-clips-huge", "test {w}/run --split val --clips 100000", 2,
     "argument --clips: 100000 is out of range, expected > 0 and <= 100"),
    ("predict-smooth-huge", "predict {d}/videos/c00.mp4 --checkpoint {w}/run --pose {w}/pose.pkl "
     "-o {w}/pr --smooth 1e9", 2, "argument --smooth: 1e9 is out of range, expected >= 0 and <="),
    ("predict-clips-huge", "predict {d}/videos/c00.mp4 --checkpoint {w}/run --pose {w}/pose.pkl "
     "-o {w}/pr --clips 100000", 2, "argument --clips: 100000 is out of range"),
    # 8: non-finite results are refused
    ("weights-overflow", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                                   "--weights", "1e308", "1e308", "-o", "{w}/e.npz"), 2,
     "weights must be finite, >= 0 and <= 1e+06"),
    ("fused-overflow", _ensemble("{w}/big.npz {w}/big.npz", "{w}/big.npz {w}/big.npz",
                                 "--weights", "10", "10", "-o", "{w}/e.npz"), 2,
     "the fused scores overflow float32"),
    ("merge-nan-weights", "merge-init --rgb {w}/two_stream.pt --pose {w}/nan.pt -o {w}/x.pt "
     "--allow-partial {set}", 2, "nan.pt: 1 weight tensors hold NaN or inf"),
    # 9: no weight search on nothing
    ("ensemble-val-unlabelled", _ensemble("{w}/unlabelled_val.npz {w}/b.npz",
                                          "{w}/a.npz {w}/b.npz", "-o", "{w}/e.npz"), 2,
     "none of the 4 validation clips has a label"),
    ("ensemble-val-labels-of-other-data", _ensemble("{w}/other_labels.npz {w}/b.npz",
                                                    "{w}/a.npz {w}/b.npz", "-o", "{w}/e.npz"),
     2, "other_labels.npz: clip 'c00' has label 5, but the scores have 3 classes"),
    # 10: one row per clip
    ("submit-repeated-id", "submit {w}/a.npz --ids {w}/ids_repeat.txt -o {w}/s.zip", 2,
     "ids_repeat.txt: line 5: clip id 'c01' is listed twice (first on line 2)"),
    # 11: a zip bomb is refused before anything is decompressed
    ("npz-bomb-info", "info {w}/bomb.npz", 2, "bomb.npz: refusing it: its members would "
     "decompress to 100663424 bytes"),
    ("npz-bomb-submit", "submit {w}/bomb.npz --ids {w}/ids.txt -o {w}/s.zip", 2, "a zip bomb?"),
    ("npz-bomb-ensemble", _ensemble("{w}/a.npz {w}/b.npz", "{w}/bomb.npz {w}/b.npz",
                                    "-o", "{w}/e.npz"), 2, "bomb.npz: refusing it"),
    # 15: previews are bounded
    ("preview-frames-huge", "preview-pose {d}/annotations.pkl -o {w}/p.png --frames 1000", 2,
     "argument --frames: 1000 is out of range, expected > 0 and <= 64"),
    # 17: one line naming the file and what is wrong
    ("checkpoint-without-model", "test {w}/no_model.pt", 2,
     "no_model.pt: an mgproto checkpoint without its model"),
    ("merge-checkpoint-without-model", "merge-init --rgb {w}/no_model.pt --pose {w}/run "
     "-o {w}/x.pt", 2, "no_model.pt: an mgproto checkpoint without its model"),
    ("scores-as-checkpoint", "test {w}/a.npz", 2, "a.npz: not a readable checkpoint: an .npz"),
    ("binary-config", "train {w}/bin.yaml", 2,
     "bin.yaml: not a text file (byte 0x89 at offset 0 is not UTF-8)"),
    ("yaml-error-one-line", "train {w}/bad.yaml", 2,
     "bad.yaml: not valid YAML at line 3, column 5: expected ',' or '}'"),
    ("override-yaml-one-line", "config --set data.pose.sigma=[1", 2,
     "the value is not valid YAML (at line 1, column 3: expected ',' or ']'"),
    ("binary-id-list", "submit {w}/a.npz --ids {w}/png.pt -o {w}/s.zip", 2,
     "png.pt: not a text file (byte 0x89 at offset 0 is not UTF-8); the id list is UTF-8"),
    ("binary-truth", "predict {d}/videos/c00.mp4 --checkpoint {w}/run --pose {w}/pose.pkl "
     "-o {w}/pr --truth {w}/png.pt", 2, "png.pt: not a text file"),
    # 18: the minor ones
    ("empty-truth", "predict {d}/videos/c00.mp4 --checkpoint {w}/run --pose {w}/pose.pkl "
     "-o {w}/pr --truth {w}/empty_truth.csv", 2, "empty_truth.csv: no segments"),
    ("trailing-slash-submit", "submit {w}/a.npz --ids {w}/ids.txt -o {w}/newdir/", 2,
     "newdir/: names a folder"),
    ("trailing-slash-merge", "merge-init --rgb {w}/two_stream.pt --pose {w}/two_stream.pt "
     "-o {w}/newdir/ --allow-partial {set}", 2, "newdir/: names a folder"),
    ("trailing-slash-add-noise", "add-noise {d}/annotations.pkl --level mild -o {w}/newdir/",
     2, "newdir/: names a folder"),
    ("convert-to-txt", "convert utkinect {w}/folder -o {w}/x.txt", 2,
     "x.txt: a skeleton file is .pkl (PYSKL / MMAction2) or .npz (mgproto)"),
    ("yaw-nan", "convert utkinect {w}/folder -o {w}/x.pkl --yaw nan", 2,
     "argument --yaw: nan is out of range"),
    ("train-unknown-meta-layout", "train {w}/cfg.yaml --run-dir {w}/new {set} "
     "--set data.annotations={w}/bogus_layout.pkl", 2, "meta: unknown layout 'bogus'"),
    ("resume-nan-last", "train --resume --run-dir {w}/run_nan {set}", 2,
     "last.pt: 1 weight tensors hold NaN or inf (first: "),
]  # fmt: skip


@pytest.mark.parametrize(("case", "command", "code", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_nothing_changes(
    world, tiny_dataset, capsys, case, command, code, fragment
):
    settings = (world / "settings.txt").read_text().split("\n")
    argv = []
    for token in command.split():
        if token == "{set}":
            for s in settings:
                argv += ["--set", s]
        else:
            argv.append(token.replace("{w}", str(world)).replace("{d}", str(tiny_dataset.parent)))
    before = _snapshot(world)
    capsys.readouterr()
    try:
        got = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        got = exit_.code
    gc.collect()  # a writer's half-closed zip would complain here ("Exception ignored ...")
    assert got == code
    err = capsys.readouterr().err
    assert fragment in err, err
    lines = err.strip().splitlines()
    if lines[0].startswith("usage:"):  # argparse: the usage, then one error line
        lines = lines[-1:]
    assert len(lines) == 1, err  # one line, no traceback
    assert _snapshot(world) == before


def test_device_cuda_without_gpu_names_what_there_is(world, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["test", str(world / "run"), "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "--device cuda: this torch" in err and "available: cpu" in err


def test_partial_merge_is_written_only_when_allowed(world, capsys):
    settings = [x for s in (world / "settings.txt").read_text().split("\n") for x in ("--set", s)]
    two = str(world / "two_stream.pt")
    out = world / "partial" / "x.pt"
    argv = ["merge-init", "--rgb", two, "--pose", two, "-o", str(out), *settings]
    assert main([*argv, "--allow-partial"]) == 0
    assert "coverage" in capsys.readouterr().out and out.is_file()


def test_predict_refuses_the_device_before_extracting_the_pose(world, tiny_dataset, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    video, out = tiny_dataset.parent / "videos" / "c00.mp4", world / "pose_first"
    argv = ["predict", str(video), "--checkpoint", str(world / "run"), "-o", str(out)]
    assert main([*argv, "--device", "cuda"]) == 2  # no --pose: MediaPipe would run first
    assert "--device cuda: this torch" in capsys.readouterr().err
    assert not out.exists()  # no pose.pkl extracted for a command that was refused


def test_preview_shows_a_short_clip_frame_by_frame(tiny_dataset):
    from mgproto.report.pose_preview import pose_preview_figure

    records = load_annotations(tiny_dataset).annotations[:2]  # 12 frames each
    fig = pose_preview_figure(records, layout="imigue22", num_frames=64)
    drawn = [ax for ax in fig.axes if ax.axison and ax.images]
    assert fig.axes[0].get_gridspec().ncols == 12 and len(drawn) == 24


# A script run with a file size limit: every write fails as on a full disk (with EFBIG).
_LIMITED = """
import contextlib, gc, io, json, resource, sys
from mgproto.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (100, resource.RLIM_INFINITY))
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
        gc.collect()
    print(json.dumps([code, err.getvalue()]))
"""


def test_a_failed_write_is_one_line_naming_the_file_and_leaves_nothing(world, tmp_path):
    settings = [x for s in (world / "settings.txt").read_text().split("\n") for x in ("--set", s)]
    w, out = str(world), tmp_path
    two = f"{w}/two_stream.pt"
    commands = [
        ["ensemble", "--val", f"{w}/a.npz", f"{w}/b.npz", "--test", f"{w}/a.npz", f"{w}/b.npz",
         "-o", f"{out}/e.npz"],
        ["submit", f"{w}/a.npz", "--ids", f"{w}/ids.txt", "-o", f"{out}/s.zip"],
        ["merge-init", "--rgb", two, "--pose", two, "-o", f"{out}/m.pt", "--allow-partial",
         *settings],
    ]  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-c", _LIMITED, json.dumps(commands)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]
    for name, (code, err) in zip(["e.npz", "s.zip", "m.pt"], results, strict=True):
        assert code == 2 and err.count("\n") == 1, err  # one line: no "Exception ignored"
        assert f"{out}/{name}: not written: file too large" in err, err
    assert list(out.iterdir()) == []  # no result, no temporary file
    # a full disk says so, also through torch.save's RuntimeError ("unexpected pos")
    from mgproto.fileio import write_failure

    full = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")
    full.__context__ = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert (
        str(write_failure(out / "x.pt", full, tmp=out / ".x.tmp")) == f"{out}/x.pt: not "
        "written: disk full"
    )
