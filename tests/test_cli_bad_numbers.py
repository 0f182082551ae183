"""Numbers and sizes out of range through the CLI, table-driven (as
``tests/test_cli_bad_inputs.py`` for files): config values, command-line numbers, sizes that
would exhaust memory, non-finite weights and results. Each row must exit 2 with one line holding
its fragment and leave every file of the session's ``world`` folder as it was.
"""

from __future__ import annotations

import pytest
from tests.cli_cases import ensemble as _ensemble
from tests.cli_cases import run_limited, run_row, settings_args

# (id, command with {w} for the world folder, {d} for the tiny dataset's and {set} for the run's
#  --set list, exit code, fragment of the error message)
CASES = [
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
    ("one-weight-two-models", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                                        "--weights", "1", "-o", "{w}/e.npz"), 2,
     "1 weights for 2 models"),
    ("nan-weight", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                             "--weights", "1", "nan", "-o", "{w}/e.npz"), 2, "must be finite"),
    ("negative-weight", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                                  "--weights", "1", "-1", "-o", "{w}/e.npz"), 2, ">= 0"),
    ("zero-weights", _ensemble("{w}/a.npz {w}/b.npz", "{w}/a.npz {w}/b.npz",
                               "--weights", "0", "0", "-o", "{w}/e.npz"), 2, "not all zero"),
    # numbers out of range on the command line, overrides that do not apply
    ("test-zero-clips", "test {w}/run --split val --clips 0", 2,
     "argument --clips: 0 is out of range, expected > 0"),
    ("train-zero-steps", "train {w}/cfg.yaml --run-dir {w}/new {set} --max-steps 0", 2,
     "argument --max-steps: 0 is out of range"),
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
    # 15: previews are bounded
    ("preview-frames-huge", "preview-pose {d}/annotations.pkl -o {w}/p.png --frames 1000", 2,
     "argument --frames: 1000 is out of range, expected > 0 and <= 64"),
    # 18: the minor ones
    ("yaw-nan", "convert utkinect {w}/folder -o {w}/x.pkl --yaw nan", 2,
     "argument --yaw: nan is out of range"),

    # the issue-41 sweep: add-noise's numbers have ranges (a huge jitter wrote keypoints that
    # no reader accepts); extract-pose checks --start before MediaPipe starts
    ("noise-jitter-huge", "add-noise {d}/annotations.pkl -o {w}/n.pkl --jitter 1e12", 2,
     "argument --jitter: 1e12 is out of range, expected >= 0 and <= 1"),
    ("noise-seed-negative", "add-noise {d}/annotations.pkl -o {w}/n.pkl --seed -1", 2,
     "argument --seed: -1 is out of range, expected >= 0"),
    ("extract-start-past-the-end", "extract-pose {d}/videos/c00.mp4 -o {w}/x.pkl --start 1e12",
     2, "c00.mp4: --start 1e+12 s is not before the end of the video (0.48 s)"),
    ("noise-drop-joint-huge", "add-noise {d}/annotations.pkl -o {w}/n.pkl --drop-joint 5", 2,
     "argument --drop-joint: 5 is out of range, expected >= 0 and <= 1"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "command", "code", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_number_is_refused_and_nothing_changes(
    world, tiny_dataset, capsys, case, command, code, fragment
):
    run_row(world, tiny_dataset.parent, capsys, command, code, fragment)


def test_sizes_beyond_the_memory_are_one_line_not_an_allocator_traceback(world, tmp_path):
    # within the bounds, yet more than this machine has: (1024 frames of 1024 x 1024) x 22
    # joints per clip (the issue-41 sweep: numpy's MemoryError was a traceback)
    big = ["--set", "data.pose.clip_len=1024", "data.pose.train_size=1024", "train.epochs=1"]
    argv = ["train", str(world / "cfg.yaml"), "--run-dir", str(tmp_path / "run"),
            *settings_args(world), *big]  # fmt: skip
    ((code, err),) = run_limited([argv], limit=6 << 30, what="RLIMIT_AS")
    assert code == 2 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("mgproto train: error: not enough memory ("), err
