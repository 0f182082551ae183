"""Bad input files through the CLI, table-driven: each row is a command a user might type, the
exit code and message fragment it must give, and the check that nothing on disk changed.

The files live in one session folder (``world``, built by ``tests/cli_cases.py``); every row
snapshots it before and after, so a refused command that still wrote, replaced or deleted
anything fails its row. Numbers and sizes are in ``tests/test_cli_bad_numbers.py``.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from tests.cli_cases import ensemble as _ensemble
from tests.cli_cases import run_limited, run_row, settings_args

from mgproto.cli import main
from mgproto.data.annotations import load_annotations

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
    # scores and weights
    ("nan-scores-submit", "submit {w}/nan.npz --ids {w}/ids.txt -o {w}/s.zip", 2,
     "non-finite scores (first: 'c02')"),
    ("nan-scores-ensemble", _ensemble("{w}/a.npz {w}/nan.npz", "{w}/a.npz {w}/b.npz",
                                      "-o", "{w}/e.npz"), 2, "non-finite scores"),
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
    ("test-overrides-model", "test {w}/run --split val --set model.preset=paper", 2,
     "test overrides data fields"),
    ("test-override-changes-model", "test {w}/run --split val --set data.num_classes=5", 2,
     "changes the model of the checkpoint (num_classes)"),
    ("stitch-bad-classes", "stitch {w}/run/config.yaml -o {w}/st --classes a,b", 2,
     "expected comma-separated class ids"),
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
    # 8: non-finite results are refused
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
    ("train-unknown-meta-layout", "train {w}/cfg.yaml --run-dir {w}/new {set} "
     "--set data.annotations={w}/bogus_layout.pkl", 2, "meta: unknown layout 'bogus'"),
    ("resume-nan-last", "train --resume --run-dir {w}/run_nan {set}", 2,
     "last.pt: 1 weight tensors hold NaN or inf (first: "),

    # the issue-41 sweep: a damaged checkpoint (torch loads it without checking), zips that
    # hold a data.pkl but are no torch files
    ("checkpoint-damaged", "test {w}/damaged.pt", 2,
     "damaged.pt: not a readable checkpoint: damaged (its member archive/data/"),
    ("info-checkpoint-damaged", "info {w}/damaged.pt", 2, "damaged.pt: not a readable checkpoint: "
     "damaged"),
    ("resume-init-damaged", "train {w}/cfg.yaml --run-dir {w}/new {set} --init {w}/damaged.pt", 2,
     "fails its CRC-32 check"),
    ("zip-with-data-pkl", "info {w}/zip_data_pkl.pt", 2, "zip_data_pkl.pt: not a readable "
     "checkpoint: a zip archive with a data.pkl out of torch's layout"),
    ("import-zip-with-data-pkl", "import-checkpoint {w}/zip_folder_data_pkl.pt -o {w}/x.pt {set}",
     2, "zip_folder_data_pkl.pt: not a readable checkpoint: a zip archive with a data.pkl"),
    ("submit-ids-lacking-a-clip", "submit {w}/a.npz --ids {w}/ids_short.txt -o {w}/s.zip", 2,
     "a.npz: scores for clip 'c03', which is not in the list of "),
    ("config-empty", "train {w}/empty.yaml --run-dir {w}/new {set}", 2,
     "empty.yaml: the config file is empty (0 bytes)"),
    ("truth-reversed", "predict {d}/videos/c00.mp4 --checkpoint {w}/run --pose {w}/pose.pkl "
     "-o {w}/pr --truth {w}/truth_reversed.csv", 2,
     "truth_reversed.csv: segment 0: start 2 and end 1 are not seconds with 0 <= start < end"),
    ("truth-unknown-class", "predict {d}/videos/c00.mp4 --checkpoint {w}/run --pose {w}/pose.pkl "
     "-o {w}/pr --truth {w}/truth_unknown.csv", 2,
     "truth_unknown.csv: segment 0: label 'nosuchclass' is no class of the model (3 classes: "),
    ("truth-infinite", "predict {d}/videos/c00.mp4 --checkpoint {w}/run --pose {w}/pose.pkl "
     "-o {w}/pr --truth {w}/truth_infinite.csv", 2,
     "truth_infinite.csv: segment 0: start 0 and end inf are not seconds"),
    ("submit-ids-unknown", "submit {w}/a.npz --ids {w}/ids_unknown.txt -o {w}/s.zip", 2,
     "a.npz: no scores for clip 'zz1' of the list of "),
    ("split-lists-a-clip-twice", "train {w}/cfg.yaml --run-dir {w}/new {set} "
     "--set data.annotations={w}/split_twice.pkl", 2,
     "split_twice.pkl: split 'train' lists clip 'c00' twice"),
    ("merge-empty-checkpoint", "merge-init --rgb {w}/zero.pt --pose {w}/run -o {w}/x.pt", 2,
     "zero.pt: the checkpoint is empty (0 bytes)"),
    ("convert-binary-label-file", "convert utkinect {w} --labels png.pt -o {w}/x.pkl", 2,
     "png.pt: not a text file (byte 0x89 is not UTF-8)"),
    ("merge-zip-with-data-pkl", "merge-init --rgb {w}/zip_data_pkl.pt --pose {w}/run -o {w}/x.pt",
     2, "zip_data_pkl.pt: not a readable checkpoint: a zip archive with a data.pkl"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "command", "code", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_nothing_changes(
    world, tiny_dataset, capsys, case, command, code, fragment
):
    run_row(world, tiny_dataset.parent, capsys, command, code, fragment)


def test_device_cuda_without_gpu_names_what_there_is(world, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["test", str(world / "run"), "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "--device cuda: this torch" in err and "available: cpu" in err


def test_partial_merge_is_written_only_when_allowed(world, capsys):
    settings = settings_args(world)
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


def test_a_failed_write_is_one_line_naming_the_file_and_leaves_nothing(world, tmp_path):
    settings = settings_args(world)
    w, out = str(world), tmp_path
    two = f"{w}/two_stream.pt"
    commands = [
        ["ensemble", "--val", f"{w}/a.npz", f"{w}/b.npz", "--test", f"{w}/a.npz", f"{w}/b.npz",
         "-o", f"{out}/e.npz"],
        ["submit", f"{w}/a.npz", "--ids", f"{w}/ids.txt", "-o", f"{out}/s.zip"],
        ["merge-init", "--rgb", two, "--pose", two, "-o", f"{out}/m.pt", "--allow-partial",
         *settings],
    ]  # fmt: skip
    results = run_limited(commands)
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


def _fill(path: Path, size: int, line: str) -> None:
    """Append copies of ``line`` to ``path`` while it stays under ``size`` bytes."""
    with open(path, "a") as f:
        f.write(line * ((size - path.stat().st_size) // len(line)))


def test_a_failed_log_write_stops_the_run_in_one_line_and_keeps_its_checkpoints(world, tmp_path):
    limit = 1 << 20  # a checkpoint fits; the logs, filled to just under it, have no room left
    runs = {}
    for log in ("train.log", "metrics.jsonl"):
        run = shutil.copytree(world / "run", tmp_path / log)
        pad = json.dumps({"kind": "note", "step": 0, "epoch": 0, "pad": "x" * 200}) + "\n"
        _fill(run / log, limit - 100, pad if log == "metrics.jsonl" else "an earlier line\n")
        runs[log] = run
    before = {log: {p.name: p.read_bytes() for p in run.rglob("*") if p.is_file()}
              for log, run in runs.items()}  # fmt: skip
    resume = [["train", "--resume", "--run-dir", str(r), "--set", "train.epochs=2"]
              for r in runs.values()]  # fmt: skip
    results = run_limited(resume, limit=limit)
    for (log, run), (code, err) in zip(runs.items(), results, strict=True):
        lines = err.strip().splitlines()  # the run's INFO lines, then one error
        assert code == 2 and "Traceback" not in err and "Logging error" not in err, err
        assert lines[-1].startswith(f"mgproto train: error: {run / log}: not written: file too "
                                    "large"), err  # fmt: skip
        assert sum("error" in line for line in lines) == 1, err
        files = {p.name: p.read_bytes() for p in run.rglob("*") if p.is_file()}
        for name in ("last.pt", "best.pt", log):  # the checkpoints and the log as they were
            assert files[name] == before[log][name], name
        assert not [n for n in files if n.startswith(".")]  # no temporary file
