import zipfile

import numpy as np
import pytest

from mgproto.cli import main
from mgproto.engine.ensemble import align, read_id_list, search_weights, write_submission
from mgproto.engine.evaluate import Scores
from mgproto.engine.scores import save_pyskl_results, save_scores


def _scores(ids, labels, fused):
    return Scores(list(ids), np.asarray(labels), {"pose": fused}, fused)


def test_weight_search_finds_the_complementary_model():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 200)
    even = labels % 2 == 0
    onehot = np.eye(4)
    # A is sure and right on even labels, unsure and wrong on odd ones; B the reverse;
    # C is confidently wrong everywhere and must be switched off
    a = np.where(even[:, None], onehot[labels], 0.3 * onehot[(labels + 1) % 4])
    b = np.where(~even[:, None], onehot[labels], 0.3 * onehot[(labels + 1) % 4])
    c = 1.2 * onehot[(labels + 2) % 4]
    from mgproto.engine.ensemble import fuse
    from mgproto.engine.metrics import topk_accuracy

    assert topk_accuracy(fuse([a, b, c], [1, 1, 1]), labels) < 0.5
    weights, acc = search_weights([a, b, c], labels)
    assert acc == 1.0 and topk_accuracy(fuse([a, b, c], weights), labels) == 1.0
    assert search_weights([a], labels)[0] == [1.0]


def test_align_names_first_mismatch():
    s = np.eye(3)
    np.testing.assert_array_equal(
        align(["a", "b", "c"], s, ["c", "a", "b"], source="x"), s[[2, 0, 1]]
    )
    with pytest.raises(ValueError, match="x: no scores for clip 'd'"):
        align(["a", "b", "c"], s, ["a", "d", "b", "c"], source="x")
    with pytest.raises(ValueError, match="x: scores for clip 'c', which is not in the list"):
        align(["a", "b", "c"], s, ["a", "b"], source="x")


def test_ensemble_and_submit_cli(tmp_path):
    rng = np.random.default_rng(1)
    val_ids, test_ids = [f"0001_{i}" for i in range(30)], [f"0054_{i}" for i in range(10)]
    labels = rng.integers(0, 3, 30)
    ours_val = np.eye(3)[labels] * 0.6 + rng.uniform(0, 0.5, (30, 3))
    save_scores(_scores(val_ids, labels, ours_val), tmp_path / "a_val.npz")
    save_scores(
        _scores(test_ids, -np.ones(10, int), rng.uniform(0, 1, (10, 3))), tmp_path / "a_test.npz"
    )
    other_val = rng.uniform(0, 1, (30, 3))  # a PYSKL result pickle, in split order
    save_pyskl_results(other_val[::-1], tmp_path / "b_val.pkl")
    save_pyskl_results(rng.uniform(0, 1, (10, 3)), tmp_path / "b_test.pkl")
    from mgproto.data.annotations import AnnotationFile, save_annotations

    recs = [
        {
            "frame_dir": x,
            "label": int(lab) if x in val_ids else -1,
            "img_shape": (8, 8),
            "total_frames": 1,
            "keypoint": np.zeros((1, 1, 17, 2), np.float32),
            "keypoint_score": np.zeros((1, 1, 17), np.float32),
        }
        for x, lab in zip(val_ids[::-1] + test_ids, [*labels[::-1], *[0] * 10])
    ]
    save_annotations(
        AnnotationFile(recs, {"val": val_ids[::-1], "test": test_ids}), tmp_path / "ann.pkl"
    )
    out = tmp_path / "ens.npz"
    assert (
        main(
            [
                "ensemble",
                "--val",
                str(tmp_path / "a_val.npz"),
                str(tmp_path / "b_val.pkl"),
                "--test",
                str(tmp_path / "a_test.npz"),
                str(tmp_path / "b_test.pkl"),
                "--annotations",
                str(tmp_path / "ann.pkl"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    summary = __import__("json").loads(out.with_suffix(".json").read_text())
    assert summary["val_top1"] >= max(summary["val_top1_single"])
    (tmp_path / "test_id.txt").write_text("\n".join(test_ids[::-1]) + "\n")
    sub = tmp_path / "sub.zip"
    assert main(["submit", str(out), "--ids", str(tmp_path / "test_id.txt"), "-o", str(sub)]) == 0
    with zipfile.ZipFile(sub) as z:
        lines = z.read("prediction.csv").decode().splitlines()
    assert lines[0] == "Id,Target" and lines[1].startswith("0054_9,") and len(lines) == 11
    (tmp_path / "bad.txt").write_text("0054_0\n0099_1\n")
    assert main(["submit", str(out), "--ids", str(tmp_path / "bad.txt"), "-o", str(sub)]) == 2


def test_codalab_format_and_list_files(tmp_path):
    (tmp_path / "l.txt").write_text("0004_0.mp4 31\n0004_1.mp4 2\n")
    assert read_id_list(tmp_path / "l.txt") == ["0004_0", "0004_1"]
    path = write_submission(
        tmp_path / "Submission.zip",
        ["a", "b"],
        np.eye(2)[[1, 0]],
        header=False,
        csv_name="Submission.csv",
    )
    with zipfile.ZipFile(path) as z:
        assert z.read("Submission.csv").decode() == "a,1\nb,0\n"


def test_mmaction2_1x_dumps_with_tensors_are_read_safely(tmp_path):
    import os
    import pickle

    import torch

    from mgproto.engine.scores import load_scores
    from mgproto.fileio import UnsafeFileError

    rows = np.array([[0.1, 0.9], [0.7, 0.3]], np.float32)
    dump = [
        {"pred_score": torch.from_numpy(r), "pred_label": torch.tensor([int(r.argmax())]),
         "gt_label": torch.tensor([1]), "frame_dir": f"c{i}"}
        for i, r in enumerate(rows)
    ]  # fmt: skip
    (tmp_path / "dump.pkl").write_bytes(pickle.dumps(dump))
    _, scores = load_scores(tmp_path / "dump.pkl", ids=["c0", "c1"])
    np.testing.assert_allclose(scores, rows)

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps([{"pred_score": torch.zeros(2)}, Evil()]))
    with pytest.raises(UnsafeFileError, match="refusing to load posix.system"):
        load_scores(tmp_path / "evil.pkl", ids=["a", "b"])

    class Huge:  # a tensor view of 2**30 floats over a storage of 2
        def __reduce__(self):
            from collections import OrderedDict

            storage = torch.zeros(2).storage()
            return (torch._utils._rebuild_tensor_v2,
                    (storage, 0, (2**30,), (1,), False, OrderedDict()))  # fmt: skip

    (tmp_path / "big.pkl").write_bytes(pickle.dumps([{"pred_score": Huge()}]))
    with pytest.raises(
        UnsafeFileError, match=r"big.pkl: refusing a tensor of size \(1073741824,\)"
    ):
        load_scores(tmp_path / "big.pkl", ids=["a"])


def test_ensemble_reports_test_top1_when_the_test_clips_are_labelled(tmp_path, capsys):
    """A benchmark (the demo's synthetic test split): members' and ensemble's test top-1."""
    rng = np.random.default_rng(2)
    onehot = np.eye(4)
    paths = {}
    for split, n in (("val", 80), ("test", 60)):
        ids = [f"{split}_{i}" for i in range(n)]
        y = rng.integers(0, 4, n)
        even = (y % 2 == 0)[:, None]
        a = np.where(even, onehot[y], 0.3 * onehot[(y + 1) % 4])  # right on even labels only
        b = np.where(~even, onehot[y], 0.3 * onehot[(y + 1) % 4])  # right on odd labels only
        for name, s in (("a", a), ("b", b)):
            paths[name, split] = save_scores(_scores(ids, y, s), tmp_path / f"{name}_{split}.npz")
    out = tmp_path / "ens.npz"
    argv = ["ensemble", "--val", str(paths["a", "val"]), str(paths["b", "val"]),
            "--test", str(paths["a", "test"]), str(paths["b", "test"]), "-o", str(out)]  # fmt: skip
    assert main(argv) == 0
    summary = __import__("json").loads(out.with_suffix(".json").read_text())
    assert summary["test_top1"] == 1.0 > max(summary["test_top1_single"])
    assert (np.load(out)["labels"] >= 0).all()
    assert "ensemble: val top-1 1.0000, test top-1 1.0000" in capsys.readouterr().out


def test_ensemble_refuses_a_pickle_without_annotations(tmp_path, capsys):
    """A .pkl (MMAction2 --dump / PYSKL --out) holds no clip ids: without --annotations its
    rows would silently take the clip order of another file, so nothing is fused."""
    rng = np.random.default_rng(3)
    ids, y = [f"c{i}" for i in range(6)], rng.integers(0, 3, 6)
    npz = save_scores(_scores(ids, y, rng.uniform(0, 1, (6, 3))), tmp_path / "a.npz")
    pkl = save_pyskl_results(rng.uniform(0, 1, (6, 3)), tmp_path / "b.pkl")
    out = tmp_path / "ens.npz"
    argv = ["ensemble", "--val", str(npz), str(pkl), "--test", str(npz), str(pkl), "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{pkl}: a .pkl score file holds no clip ids" in err and "--annotations" in err
    assert not out.exists() and not out.with_suffix(".json").exists()
