import json
import pickle

import numpy as np
import pytest
import torch

from mgproto.cli import main
from mgproto.engine.checkpoint import load_checkpoint, load_model
from mgproto.engine.scores import load_scores


def _sets(cfg_args):
    return [x for a in cfg_args for x in ("--set", a)]


@pytest.fixture(scope="module")
def runs(tiny_dataset, tiny_settings, tmp_path_factory):
    """A pose-only, an RGB-only and a two-stream run on the tiny dataset, via the CLI."""
    root = tmp_path_factory.mktemp("runs")
    ann = f"data.annotations={tiny_dataset}"
    out = {}
    extra = {"both": ["model.prototype.enabled=true", "model.prototype.embed_dim=8"]}
    for name, modalities in (("pose", "[pose]"), ("rgb", "[rgb]"), ("both", "[rgb,pose]")):
        settings = [
            *tiny_settings,
            "train.epochs=1",
            ann,
            f"data.modalities={modalities}",
            *extra.get(name, []),
        ]
        args = ["train", "--run-dir", str(root / name), "--device", "cpu", *_sets(settings)]
        # train needs a config file argument: use an empty YAML
        cfg = root / "empty.yaml"
        cfg.write_text("{}\n")
        assert main([args[0], str(cfg), *args[1:]]) == 0
        out[name] = root / name
    return out


def test_test_verb_writes_metrics_scores_and_figures(runs, tmp_path):
    out = tmp_path / "eval"
    assert (
        main(
            [
                "test",
                str(runs["both"]),
                "--split",
                "val",
                "--out",
                str(out),
                "--device",
                "cpu",
                "--flip",
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) >= {"rgb", "pose", "fused", "clips", "split"}
    for stream in ("rgb", "pose", "fused"):
        m = metrics[stream]
        assert 0 <= m["top1"] <= m["top5"] <= 1 and m["num_samples"] == 4
        assert len(m["per_class_precision"]) == 3 and np.asarray(m["confusion"]).sum() == 4
        low, high = m["top1_interval95"]  # 4 clips: wide unless all are right (or wrong)
        assert 0 <= low <= m["top1"] <= high <= 1
        assert (low < m["top1"] < high) or m["top1"] in (0, 1)
        assert (out / f"confusion_{stream}.png").read_bytes()[:4] == b"\x89PNG"
    ids, fused = load_scores(out / "scores.npz")
    assert ids == ["c12", "c13", "c14", "c15"] and fused.shape == (4, 3)
    np.testing.assert_allclose(fused.sum(1), 1, rtol=1e-5)
    rows = pickle.loads((out / "fused_result.pkl").read_bytes())
    assert len(rows) == 4 and rows[0].shape == (3,)
    _, pkl_scores = load_scores(out / "fused_result.pkl", ids=ids)
    np.testing.assert_allclose(pkl_scores, fused, rtol=1e-6)


def test_merge_init_reproduces_the_single_stream_models(runs, tmp_path):
    init = tmp_path / "init.pt"
    assert (
        main(
            ["merge-init", "--rgb", str(runs["rgb"]), "--pose", str(runs["pose"]), "-o", str(init)]
        )
        == 0
    )
    merged, cfg = load_model(init)
    assert cfg.data.modalities == ("rgb", "pose")
    rgb, _ = load_model(runs["rgb"] / "checkpoints" / "last.pt")
    pose, _ = load_model(runs["pose"] / "checkpoints" / "last.pt")
    for m in (merged, rgb, pose):
        m.eval()
    imgs, maps = torch.randn(2, 3, 4, 32, 32), torch.randn(2, 22, 8, 8, 8)
    with torch.no_grad():
        out = merged(imgs, maps)
        # the laterals enter only through zero-padded weights: each stream starts out
        # computing exactly what its single-stream model computes
        torch.testing.assert_close(out.logits["pose"], pose(heatmaps=maps).logits["pose"])
        torch.testing.assert_close(out.logits["rgb"], rgb(imgs=imgs).logits["rgb"])
    sd = merged.state_dict()
    w = sd["backbone.rgb_path.layer3.0.conv1.conv.weight"]
    src = rgb.state_dict()["backbone.layer3.0.conv1.conv.weight"]
    torch.testing.assert_close(w[:, : src.shape[1]], src)
    assert torch.count_nonzero(w[:, src.shape[1] :]) == 0
    state = load_checkpoint(init)
    assert state["source"]["rgb"] == str(runs["rgb"])


def test_train_resume_via_cli(runs, tiny_settings, capsys):
    cfg = runs["pose"].parent / "empty.yaml"
    assert (
        main(
            [
                "train",
                str(cfg),
                "--run-dir",
                str(runs["pose"]),
                "--device",
                "cpu",
                *_sets(tiny_settings),
            ]
        )
        == 2
    )
    assert "already holds a run" in capsys.readouterr().err


def test_report_verb(runs, tmp_path):
    run = tmp_path / "both"
    import shutil

    shutil.copytree(runs["both"], run)
    assert main(["report", str(run), "--device", "cpu"]) == 0
    page = (run / "report" / "index.html").read_text()
    # curves, confusion, per-class accuracy, and the embeddings of both streams
    assert page.count("data:image/png;base64") == 5 and "fused" in page
    assert (run / "report" / "embeddings_rgb.png").is_file()
    md = (run / "report" / "report.md").read_text()
    assert "| fused |" in md and "curves.png" in md


def test_test_refuses_non_finite_weights(runs, tmp_path, capsys):
    state = load_checkpoint(runs["pose"] / "checkpoints" / "best.pt")
    key = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][key] = torch.full_like(state["model"][key], float("nan"))
    torch.save(state, tmp_path / "nan.pt")
    assert main(["test", str(tmp_path / "nan.pt"), "--split", "val"]) == 2
    assert "hold NaN or inf" in capsys.readouterr().err
    assert not (tmp_path / "nan_test_val").exists()


def test_report_re_evaluates_metrics_of_another_checkpoint(runs, tmp_path, capsys):
    import shutil

    run = tmp_path / "pose"
    shutil.copytree(runs["pose"], run)
    other = tmp_path / "other"
    shutil.copytree(runs["rgb"], other)
    assert main(["test", str(other), "--split", "val", "--out", str(run / "test_val")]) == 0
    capsys.readouterr()
    assert main(["report", str(run), "--device", "cpu"]) == 0
    assert "no metrics of this checkpoint yet" in capsys.readouterr().out
    metrics = json.loads((run / "test_val" / "metrics.json").read_text())
    assert "pose" in metrics and "rgb" not in metrics
    assert main(["report", str(run), "--device", "cpu"]) == 0  # now it matches: no re-run
    assert "no metrics of this checkpoint yet" not in capsys.readouterr().out


def test_merge_init_carries_the_coordinate_stream(runs, tiny_dataset, tiny_settings, tmp_path,
                                                  capsys):  # fmt: skip
    """A two-stream model with a coordinate stream (``representation: both``) takes it from the
    pose run: each of the merged model's three streams starts as its single-stream model. A pose
    run without one cannot fill it, and the merge is refused."""
    cfg = tmp_path / "empty.yaml"
    cfg.write_text("{}\n")
    pose_run = tmp_path / "pose_both"
    settings = [*tiny_settings, "train.epochs=1", f"data.annotations={tiny_dataset}",
                "data.modalities=[pose]", "data.pose.representation=both"]  # fmt: skip
    args = ["train", str(cfg), "--run-dir", str(pose_run), "--device", "cpu", *_sets(settings)]
    assert main(args) == 0
    init = tmp_path / "init.pt"
    assert (
        main(["merge-init", "--rgb", str(runs["rgb"]), "--pose", str(pose_run), "-o", str(init)])
        == 0
    )
    merged, merged_cfg = load_model(init)
    assert merged_cfg.data.modalities == ("rgb", "pose")
    assert merged.streams == ("rgb", "pose", "coords")
    pose, _ = load_model(pose_run / "checkpoints" / "last.pt")
    for m in (merged, pose):
        m.eval()
    imgs, maps = torch.randn(2, 3, 4, 32, 32), torch.randn(2, 22, 8, 8, 8)
    coords = torch.randn(2, 1, 8, 22, 3)
    with torch.no_grad():
        out, alone = merged(imgs, maps, coords), pose(heatmaps=maps, coords=coords)
    for stream in ("pose", "coords"):
        torch.testing.assert_close(out.logits[stream], alone.logits[stream])
    two = tmp_path / "two"  # and it trains: RGB frames, heatmaps and coordinates in each batch
    settings = [*settings, "data.modalities=[rgb,pose]"]
    args = ["train", str(cfg), "--run-dir", str(two), "--device", "cpu", "--init", str(init)]
    assert main([*args, *_sets(settings)]) == 0
    records = [json.loads(line) for line in (two / "metrics.jsonl").read_text().splitlines()]
    val = [r for r in records if r["kind"] == "val"][-1]
    assert {"rgb_top1", "pose_top1", "coords_top1", "fused_top1"} <= set(val)
    refused = tmp_path / "refused.pt"
    two_both = [*tiny_settings, "data.modalities=[rgb,pose]", "data.pose.representation=both"]
    args = ["merge-init", "--rgb", str(runs["rgb"]), "--pose", str(runs["pose"]), "-o",
            str(refused), "--config", str(cfg), *_sets(two_both)]  # fmt: skip
    assert main(args) == 2
    assert "coord_backbone" in capsys.readouterr().err and not refused.exists()


def test_merge_init_is_reproducible(runs, tmp_path):
    """The tensors no input fills (laterals, fusions) start from the config's seed, so the same
    command writes the same initialisation twice (and the two-stream run trains the same)."""
    cfg = tmp_path / "two.yaml"
    cfg.write_text((runs["pose"] / "config.yaml").read_text())
    states = []
    for name in ("a.pt", "b.pt"):
        args = ["merge-init", "--rgb", str(runs["rgb"]), "--pose", str(runs["pose"]),
                "-o", str(tmp_path / name), "--config", str(cfg),
                "--set", "data.modalities=[rgb,pose]",
                "--set", "model.fusion.enabled=true"]  # fmt: skip
        assert main(args) == 0
        states.append(torch.load(tmp_path / name, weights_only=True)["model"])
    assert any("lateral" in k for k in states[0]) and any("fusions" in k for k in states[0])
    for key, value in states[0].items():
        assert torch.equal(value, states[1][key]), key


def test_merge_init_refuses_a_head_of_another_shape(runs, tmp_path, capsys):
    """A pose run with the global-average head cannot fill a two-stream model whose pose head
    reads 2 temporal bins: the classifier is never zero-padded like a lateral."""
    cfg = tmp_path / "two.yaml"
    cfg.write_text((runs["pose"] / "config.yaml").read_text())
    args = ["merge-init", "--rgb", str(runs["rgb"]), "--pose", str(runs["pose"]),
            "-o", str(tmp_path / "init.pt"), "--config", str(cfg),
            "--set", "data.modalities=[rgb,pose]",
            "--set", "model.head_temporal_bins=[1,2]"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "head.pose.fc.weight" in err and "head_temporal_bins" in err
    assert not (tmp_path / "init.pt").exists()


def test_compare_pairs_two_recipes_and_gives_intervals(runs, capsys):
    pose, rgb = str(runs["pose"]), str(runs["rgb"])
    assert main(["compare", pose, "--vs", rgb, "--split", "val", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "| pose | pose |" in out and "| rgb | rgb |" in out
    assert "A - B, paired:" in out and "sign test p = " in out
    assert main(["compare", pose, pose, "--vs", rgb, "--split", "val", "--device", "cpu"]) == 2
    assert "pairs runs by position" in capsys.readouterr().err


def test_compare_last_reads_the_last_checkpoint_beside_the_best(runs, tmp_path):
    """``--last`` evaluates checkpoints/last.pt into test_<split>_last and leaves the best
    checkpoint's test_<split> as it was; a run whose test_<split> already holds the last
    checkpoint's outputs (no best.pt) is read, not evaluated again."""
    import shutil

    run = tmp_path / "pose"
    shutil.copytree(runs["pose"], run)
    for name in ("test_val", "test_val_last"):
        shutil.rmtree(run / name, ignore_errors=True)
    best_pt = run / "checkpoints" / "best.pt"
    state = torch.load(best_pt, weights_only=False)  # one epoch: best.pt is last.pt; make
    head = next(k for k in state["model"] if k.endswith("fc.weight"))  # it another model
    state["model"][head] = -state["model"][head]
    torch.save(state, best_pt)
    common = ["--split", "val", "--device", "cpu"]
    assert main(["compare", str(run), *common]) == 0
    best = json.loads((run / "test_val" / "metrics.json").read_text())
    assert best["checkpoint"].endswith("best.pt")
    assert main(["compare", str(run), "--vs", str(run), "--last", *common]) == 0
    last = json.loads((run / "test_val_last" / "metrics.json").read_text())
    assert last["checkpoint"].endswith("last.pt")
    assert json.loads((run / "test_val" / "metrics.json").read_text()) == best

    (run / "checkpoints" / "best.pt").unlink()
    shutil.rmtree(run / "test_val_last")
    assert main(["compare", str(run), *common]) == 0  # resolves to last.pt, in test_val
    assert main(["compare", str(run), "--last", *common]) == 0
    assert not (run / "test_val_last").exists()
    (run / "checkpoints" / "last.pt").unlink()
    assert main(["compare", str(run), "--last", *common]) == 2


@pytest.fixture(scope="module")
def xsub_run(tiny_dataset, tiny_settings, tmp_path_factory):
    """A pose-only run on the tiny dataset renamed as PYSKL names its splits (xsub_train /
    xsub_val, no test split), trained with its split names in the config."""
    from mgproto.data.annotations import AnnotationFile, load_annotations, save_annotations

    root = tmp_path_factory.mktemp("xsub")
    ann = load_annotations(tiny_dataset)
    split = {"xsub_train": ann.split["train"], "xsub_val": ann.split["val"]}
    path = save_annotations(AnnotationFile(ann.annotations, split, ann.meta), root / "xsub.pkl")
    cfg = root / "empty.yaml"
    cfg.write_text("{}\n")
    settings = [*tiny_settings, "train.epochs=1", f"data.annotations={path}",
                "data.modalities=[pose]", "data.train_split=xsub_train",
                "data.val_split=xsub_val", "data.test_split=xsub_val"]  # fmt: skip
    run = root / "run"
    assert (
        main(["train", str(cfg), "--run-dir", str(run), "--device", "cpu", *_sets(settings)]) == 0
    )
    return run, path


def test_verbs_read_the_run_s_own_split_names(xsub_run, tmp_path, capsys):
    """test, report, compare and ensemble find xsub_val in the run's config (or in the ids.json
    its test wrote) without a flag; an explicit --split still wins."""
    run, ann = xsub_run
    assert (run / "checkpoints" / "best.pt").is_file()  # train validated on xsub_val
    assert main(["test", str(run), "--device", "cpu"]) == 0
    metrics = json.loads((run / "test_xsub_val" / "metrics.json").read_text())
    assert metrics["split"] == "xsub_val" and metrics["pose"]["num_samples"] == 4
    assert main(["report", str(run), "--device", "cpu"]) == 0
    assert "(xsub_val split)" in (run / "report" / "report.md").read_text()
    assert main(["compare", str(run), "--device", "cpu"]) == 0
    assert "| run | pose |" in capsys.readouterr().out
    out = tmp_path / "train_split"
    assert main(["test", str(run), "--split", "xsub_train", "--out", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["split"] == "xsub_train"
    scores = [str(run / "test_xsub_val" / n) for n in ("scores.npz", "pose_result.pkl")]
    ens = tmp_path / "ens.npz"
    argv = ["ensemble", "--val", *scores, "--test", *scores, "--annotations", str(ann), "-o",
            str(ens)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    summary = json.loads(ens.with_suffix(".json").read_text())
    assert summary["annotations"]["val_split"] == summary["annotations"]["test_split"] == "xsub_val"
    assert main(["test", str(run), "--split", "test"]) == 2
    err = capsys.readouterr().err
    assert "no split 'test'" in err and "xsub_val" in err and "--split" in err


def test_without_validation_the_report_shows_the_test_split(xsub_run, tmp_path):
    """data.val_split "" (no validation): report falls back on the run's data.test_split."""
    import dataclasses

    from mgproto.engine.checkpoint import save_checkpoint
    from mgproto.engine.testing import default_split

    last = xsub_run[0] / "checkpoints" / "last.pt"
    model, cfg = load_model(last)
    assert default_split(last, "val") == "xsub_val" == default_split(last, "test")
    data = dataclasses.replace(cfg.data, val_split="", test_split="xsub_train")
    ckpt = save_checkpoint(tmp_path / "no_val.pt", cfg=dataclasses.replace(cfg, data=data),
                           model=model)  # fmt: skip
    assert default_split(ckpt, "val") == "xsub_train"
