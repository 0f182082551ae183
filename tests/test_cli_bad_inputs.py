"""Bad input through the CLI, table-driven: each row is a command a user might type, the exit
code and message fragment it must give, and the check that nothing on disk changed.

The files live in one session folder (``world``); every row snapshots it before and after, so a
refused command that still wrote, replaced or deleted anything fails its row.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
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
    return w


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
]  # fmt: skip


@pytest.mark.parametrize(("case", "command", "code", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_nothing_changes(world, capsys, case, command, code, fragment):
    settings = (world / "settings.txt").read_text().split("\n")
    argv = []
    for token in command.split():
        if token == "{set}":
            for s in settings:
                argv += ["--set", s]
        else:
            argv.append(token.replace("{w}", str(world)))
    before = _snapshot(world)
    capsys.readouterr()
    try:
        got = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        got = exit_.code
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
