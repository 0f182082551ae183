"""What the table-driven bad-input tests share: the world of files they run in (a trained
tiny pose run, score files, broken files) and the runner of one row.

``tests/test_cli_bad_inputs.py`` (files) and ``tests/test_cli_bad_numbers.py`` (numbers and
sizes) hold the rows; ``tests/conftest.py`` builds the world once per session.
"""

from __future__ import annotations

import argparse
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


def build_world(w: Path, tiny_dataset: Path, tiny_settings: list[str]) -> Path:
    """A trained tiny pose run, score files, and broken files, all in one folder ``w``."""
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
    _sweep_files(w, tiny_dataset)
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


def _flip_tensor_bytes(src: Path, dst: Path) -> None:
    """Copy a torch file with 8 bytes of its largest tensor inverted (a file damaged on disk)."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    start = info.header_offset + 30 + int.from_bytes(data[info.header_offset + 26 :][:2], "little")
    start += int.from_bytes(data[info.header_offset + 28 :][:2], "little")
    for i in range(start, start + 8):
        data[i] ^= 0xFF
    dst.write_bytes(bytes(data))


def _sweep_files(w: Path, dataset: Path) -> None:
    """Files of the issue-41 sweep: a damaged checkpoint, zips that hold a data.pkl but are no
    torch files, an id list that lacks a clip of the scores, an empty config, truth files that
    would score 0 whatever is predicted, a split that lists a clip twice."""
    _flip_tensor_bytes(w / "run" / "checkpoints" / "last.pt", w / "damaged.pt")
    with zipfile.ZipFile(w / "zip_data_pkl.pt", "w") as z:
        z.writestr("data.pkl", pickle.dumps({"model": {}}))
    with zipfile.ZipFile(w / "zip_folder_data_pkl.pt", "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"model": {}}))
    (w / "ids_short.txt").write_text("c00\nc01\nc02\n")  # a.npz also has c03
    (w / "empty.yaml").write_bytes(b"")
    (w / "truth_reversed.csv").write_text("start,end,label\n2.0,1.0,class 0\n")
    (w / "truth_unknown.csv").write_text("start,end,label\n0.0,0.2,nosuchclass\n")
    (w / "truth_infinite.csv").write_text("start,end,label\n0.0,inf,class 0\n")
    (w / "ids_unknown.txt").write_text("zz1\nc00\nc01\nc02\n")
    raw = pickle.loads(dataset.read_bytes())
    raw["split"]["train"].append(raw["split"]["train"][0])  # a clip listed twice
    (w / "split_twice.pkl").write_bytes(pickle.dumps(raw))


def snapshot(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_fifo():
            out[str(p)] = "fifo"
        elif p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p)] = "dir" if p.is_dir() else "other"
    return out


def ensemble(val: str, test: str, *extra: str) -> str:
    return " ".join(["ensemble", "--val", val, "--test", test, *extra])


def run_row(world: Path, data: Path, capsys, command: str, code: int, fragment: str) -> None:
    """Run one row: ``command`` (with ``{w}`` the world folder, ``{d}`` the tiny dataset's and
    ``{set}`` the run's --set list) must exit with ``code`` and one stderr line holding
    ``fragment``, and leave every file of the world as it was."""
    settings = (world / "settings.txt").read_text().split("\n")
    argv = []
    for token in command.split():
        if token == "{set}":
            for s in settings:
                argv += ["--set", s]
        else:
            argv.append(token.replace("{w}", str(world)).replace("{d}", str(data)))
    before = snapshot(world)
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
    assert snapshot(world) == before


def settings_args(world: Path) -> list[str]:
    """The run's settings as ``--set`` arguments."""
    return [x for s in (world / "settings.txt").read_text().split("\n") for x in ("--set", s)]


# A script run with a file size limit (every write fails as on a full disk, with EFBIG) or a
# memory limit.
LIMITED = """
import contextlib, gc, io, json, resource, sys
from mgproto.cli import main
resource.setrlimit(getattr(resource, sys.argv[3]), (int(sys.argv[2]), resource.RLIM_INFINITY))
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
        gc.collect()
    print(json.dumps([code, err.getvalue()]))
"""


def run_limited(
    commands: list[list[str]], *, limit: int = 100, what: str = "RLIMIT_FSIZE"
) -> list[tuple[int, str]]:
    """Run ``commands`` (argv lists) in one process whose files may not grow past ``limit``
    bytes (``what="RLIMIT_AS"``: whose memory may not); returns each one's exit code and
    stderr."""
    run = subprocess.run(
        [sys.executable, "-c", LIMITED, json.dumps(commands), str(limit), what],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return [tuple(json.loads(line)) for line in run.stdout.splitlines()]
