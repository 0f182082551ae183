"""``mgproto info`` on every kind of file the project writes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from mgproto.cli import main
from mgproto.config import load_config
from mgproto.data.annotations import AnnotationFile, save_annotations
from mgproto.engine.checkpoint import VERSION
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
    assert f"mgproto checkpoint (version {VERSION}, training checkpoint)" in out
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
    assert "skeleton file, 16 clips; layout imigue22;" in out and "val 4" in out
    assert "frames per clip" in out and "class   0" not in out  # the per-class list: inspect
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


def test_inspect_of_a_checkpoint_points_to_info(tmp_path, capsys):
    torch.save({"format": "x"}, tmp_path / "best.pt")
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "best.pt")]) == 2
    err = capsys.readouterr().err
    assert "not a skeleton file; `mgproto info" in err and "truncated or corrupt" not in err


def _dump(tmp_path, *, labels: bool, ids: bool):
    """An MMAction2 1.x `--dump` result: per-clip dicts of torch tensors."""
    rows = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]], np.float32)
    items = []
    for i, r in enumerate(rows):
        item = {"pred_score": torch.from_numpy(r), "pred_label": torch.tensor([int(r.argmax())])}
        if labels:
            item["gt_label"] = torch.tensor([1])
        if ids:
            item["frame_dir"] = f"c{i}"
        items.append(item)
    path = tmp_path / f"dump_{labels}_{ids}.pkl"
    path.write_bytes(pickle.dumps(items))
    return path


def test_mmaction2_dump_results(tmp_path, capsys):
    out = _info(capsys, _dump(tmp_path, labels=True, ids=True))
    assert "result pickle (MMAction2 1.x --dump), 3 clips, 3 classes" in out
    assert "labels: in the file for 3 of 3 clips; top-1 against them 0.3333" in out
    assert "clip ids: in the file (c0, c1, c2)" in out
    out = _info(capsys, _dump(tmp_path, labels=False, ids=False))
    assert "labels: not in the file" in out and "clip ids: not in the file" in out


def test_a_failing_path_is_reported_and_the_others_still_described(tiny_dataset, tmp_path,
                                                                   capsys):  # fmt: skip
    dump = _dump(tmp_path, labels=True, ids=False)
    capsys.readouterr()
    assert main(["info", str(tmp_path / "gone.pkl"), str(dump), str(tiny_dataset)]) == 2
    captured = capsys.readouterr()
    assert "gone.pkl: file not found" in captured.err
    assert "1 of 3 paths could not be described" in captured.err
    assert "MMAction2 1.x --dump" in captured.out and "skeleton file, 16 clips" in captured.out


def test_layout_inferred_from_the_joint_count(make_rec, tmp_path, capsys):
    recs = [make_rec(f"v{k}", layout=None) for k in range(2)]  # 17 joints, no layout recorded
    path = save_annotations(AnnotationFile(recs), tmp_path / "p.pkl")
    out = _info(capsys, path)
    assert "layout coco17 (inferred from 17 joints)" in out
    recs = [make_rec(f"v{k}", layout=None, num_joints=25) for k in range(2)]
    path = save_annotations(AnnotationFile(recs), tmp_path / "p25.pkl")
    assert "layout ? (25 joints: openpose25 or kinect25)" in _info(capsys, path)
