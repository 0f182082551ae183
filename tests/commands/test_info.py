"""``mgproto info`` on every kind of file the project writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mgproto.cli import main
from mgproto.config import load_config
from mgproto.engine.evaluate import Scores
from mgproto.engine.scores import save_pyskl_results, save_scores
from mgproto.engine.trainer import train


@pytest.fixture(scope="module")
def run(tiny_dataset, tiny_settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("info")
    extra = ["data.modalities=[pose]", "train.epochs=1", "name=info_run"]
    cfg = load_config(None, [f"data.annotations={tiny_dataset}", *tiny_settings, *extra])
    train(cfg, run_dir=root / "run", device="cpu")
    assert main(["test", str(root / "run"), "--split", "val"]) == 0
    return root / "run"


def _info(capsys, *paths) -> str:
    capsys.readouterr()
    assert main(["info", *map(str, paths)]) == 0
    return capsys.readouterr().out


def test_checkpoint_and_run_folder(run, capsys):
    out = _info(capsys, run / "checkpoints" / "best.pt")
    assert "mgproto checkpoint (version 1, training checkpoint)" in out
    assert "M parameters" in out and "config: info_run; model conv3d preset tiny" in out
    assert "data: pose; 3 classes; layout imigue22" in out and "position: epoch 1, step 6" in out
    assert "best (epoch 1)" in out
    out = _info(capsys, run)
    assert "run folder" in out and "last.pt" in out and "test_val: fused top-1" in out


def test_score_files(run, tmp_path, capsys):
    out = _info(capsys, run / "test_val" / "scores.npz")
    assert "score file, 4 clips" in out and "pose: (4, 3)" in out and "split: val" in out
    save_pyskl_results(np.eye(3), tmp_path / "r.pkl")
    assert "result pickle (PYSKL / MMAction2 0.x), 3 clips" in _info(capsys, tmp_path / "r.pkl")
    save_scores(Scores(["a"], np.array([-1]), {}, np.ones((1, 2))), tmp_path / "s.npz")
    assert "labels: 0 of 1 clips labelled" in _info(capsys, tmp_path / "s.npz")


def test_skeleton_files_and_foreign_checkpoints(tiny_dataset, tmp_path, capsys):
    out = _info(capsys, tiny_dataset)
    assert "skeleton file, 16 clips; layout imigue22" in out and "split val: 4 clips" in out
    torch.save({"state_dict": {"backbone.conv1.weight": torch.zeros(1)}}, tmp_path / "mm.pth")
    assert "foreign checkpoint" in _info(capsys, tmp_path / "mm.pth")


def test_bad_paths_are_one_line(tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    (tmp_path / "junk.pkl").write_bytes(b"\x80\x04junk")
    for path, fragment in ((tmp_path / "folder", "not a run folder"),
                           (tmp_path / "junk.pkl", "not a readable pickle"),
                           (tmp_path / "gone.pt", "not found")):  # fmt: skip
        assert main(["info", str(path)]) == 2
        err = capsys.readouterr().err
        assert fragment in err and len(err.strip().splitlines()) == 1


def test_inspect_of_a_checkpoint_says_what_it_is(run, capsys):
    capsys.readouterr()
    assert main(["inspect", str(run / "checkpoints" / "best.pt")]) == 0
    out = capsys.readouterr().out
    assert "mgproto checkpoint" in out and "truncated or corrupt" not in out
