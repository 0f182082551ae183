import json
import shutil

import pytest
import torch

from mgproto.config import TrainConfig
from mgproto.engine.checkpoint import load_checkpoint, load_model
from mgproto.engine.logging import read_metrics
from mgproto.engine.trainer import TrainingError, lr_factor, train


def test_lr_schedule():
    cfg = TrainConfig(milestones=(8, 22), gamma=0.1)
    assert lr_factor(0, cfg) == 1 and lr_factor(7.99, cfg) == 1
    assert lr_factor(8, cfg) == pytest.approx(0.1) and lr_factor(22, cfg) == pytest.approx(0.01)
    warm = TrainConfig(warmup_epochs=2, milestones=(8,))
    assert lr_factor(1, warm) == pytest.approx(0.5)
    cos = TrainConfig(schedule="cosine", epochs=10)
    assert lr_factor(0, cos) == 1 and lr_factor(5, cos) == pytest.approx(0.5)
    assert lr_factor(10, cos) == pytest.approx(0)


def _state(run_dir):
    return load_checkpoint(run_dir / "checkpoints" / "last.pt")["model"]


def test_two_stream_run_writes_everything(tiny_dataset, make_cfg, tmp_path):
    cfg = make_cfg(
        tiny_dataset,
        "model.fusion.enabled=true",
        "model.prototype.enabled=true",
        "model.prototype.embed_dim=8",
    )
    result = train(cfg, run_dir=tmp_path / "run", device="cpu")
    run = tmp_path / "run"
    assert result.global_step == 12 and result.best is not None
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"last.pt", "best.pt"}
    env = json.loads((run / "environment.json").read_text())
    assert env["torch"] == torch.__version__ and "git_commit" in env
    records = read_metrics(run)
    train_recs = [r for r in records if r["kind"] == "train"]
    val_recs = [r for r in records if r["kind"] == "val"]
    assert len(train_recs) == 12 and len(val_recs) == 2
    assert {"ce_rgb", "ce_pose", "pr_rgb", "pr_pose", "lr"} <= set(train_recs[0])
    assert all({"pr_rgb", "pr_pose"} <= set(r) for r in train_recs)  # PR from the first step
    assert {"rgb_top1", "pose_top1", "fused_top1", "fused_mean_class_acc"} <= set(val_recs[0])
    model, saved = load_model(run / "checkpoints" / "best.pt")
    assert saved == cfg and "head.rgb.prototypes" in model.state_dict()
    with pytest.raises(TrainingError, match="already holds a run"):
        train(cfg, run_dir=run, device="cpu")


def test_resume_mid_epoch_is_exact(tiny_dataset, make_cfg, tmp_path):
    cfg = make_cfg(
        tiny_dataset,
        "data.modalities=[pose]",
        "model.prototype.enabled=true",
        "model.prototype.embed_dim=8",
        "train.checkpoint_every=1",
    )
    full = tmp_path / "full"
    train(cfg, run_dir=full, device="cpu")
    part = tmp_path / "part"
    stopped = train(cfg, run_dir=part, device="cpu", max_steps=8)  # epoch 1, step 2 of 6
    saved = load_checkpoint(part / "checkpoints/last.pt")["train_state"]
    assert stopped.stopped_early and saved["epoch"] == 1 and saved["step_in_epoch"] == 2
    with pytest.raises(TrainingError, match="nothing to resume"):
        train(cfg, run_dir=tmp_path / "none", device="cpu", resume=True)
    train(cfg, run_dir=part, device="cpu", resume=True)
    a, b = _state(full), _state(part)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_unreadable_clips_are_skipped_then_fatal(tiny_dataset, make_cfg, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(tiny_dataset.parent, root)
    (root / "videos" / "c03.mp4").unlink()
    (root / "videos" / "c05.mp4").write_bytes(b"corrupt")
    cfg = make_cfg(root / "annotations.pkl", "train.max_bad_share=0.5", "train.epochs=1")
    result = train(cfg, run_dir=tmp_path / "ok", device="cpu")
    assert result.global_step == 6
    last = [r for r in read_metrics(tmp_path / "ok") if r["kind"] == "train"][-1]
    assert last["bad_clips"] == 2
    cfg = make_cfg(root / "annotations.pkl", "train.max_bad_share=0.0", "train.epochs=1")
    with pytest.raises(TrainingError, match=r"could not be read \(more than"):
        train(cfg, run_dir=tmp_path / "fatal", device="cpu")


def test_divergence_stops_training_and_keeps_finite_checkpoints(tiny_dataset, make_cfg, tmp_path):
    from mgproto.engine.guard import DivergenceError

    cfg = make_cfg(
        tiny_dataset,
        "data.modalities=[pose]",
        "train.lr=1e30",
        "train.clip_grad=0",
        "train.checkpoint_every=1",
        "train.max_nonfinite_steps=3",
    )
    run = tmp_path / "run"
    # either the guard stops it (3 non-finite steps) or the weights (BN statistics) blow up first
    # and the checkpoint refuses them: never a finished run, never a NaN checkpoint
    with pytest.raises(DivergenceError, match="non-finite"):
        train(cfg, run_dir=run, device="cpu")
    for name in ("last.pt", "best.pt"):
        path = run / "checkpoints" / name
        if path.exists():
            state = load_checkpoint(path)["model"]
            assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_guard_counts_only_once_the_loss_scaler_gives_up():
    from mgproto.engine.guard import DivergenceError, DivergenceGuard

    guard = DivergenceGuard(limit=2)
    step = {"loss": float("nan"), "grad_norm": float("inf"), "step": 0, "epoch": 0}
    for scale in (2.0**15, 2.0**14, 1.0):  # fp16 overflow: the scaler backs off, no count yet
        guard.observe(finite=False, scale=scale, **step)
    guard.observe(finite=True, scale=1.0, loss=1.0, grad_norm=1.0, step=0, epoch=0)
    guard.observe(finite=False, scale=0.5, **step)
    assert guard.in_a_row == 1 and guard.skipped == 4
    with pytest.raises(DivergenceError, match="gradient norm inf"):
        guard.observe(finite=False, scale=0.25, **step)
    unscaled = DivergenceGuard(limit=1)
    with pytest.raises(DivergenceError):
        unscaled.observe(finite=False, scale=None, **step)


def test_resume_refuses_changed_settings_and_replays_metrics_once(tiny_dataset, make_cfg, tmp_path):
    cfg = make_cfg(tiny_dataset, "data.modalities=[pose]", "train.log_every=1")
    run = tmp_path / "run"
    train(cfg, run_dir=run, device="cpu", max_steps=4)
    config_before = (run / "config.yaml").read_text()
    with pytest.raises(TrainingError, match=r"train.batch_size: 2 in the run, 4 now"):
        train(make_cfg(tiny_dataset, "data.modalities=[pose]", "train.log_every=1",
                       "train.batch_size=4"), run_dir=run, device="cpu", resume=True)  # fmt: skip
    assert (run / "config.yaml").read_text() == config_before
    with open(run / "metrics.jsonl", "a") as f:  # logged, then killed before the checkpoint
        f.write(json.dumps({"kind": "train", "epoch": 0, "step": 5, "loss": 9.0}) + "\n")
    longer = make_cfg(tiny_dataset, "data.modalities=[pose]", "train.log_every=1",
                      "train.epochs=3")  # fmt: skip
    result = train(longer, run_dir=run, device="cpu", resume=True)  # epochs may change
    assert result.global_step == 18
    steps = [r["step"] for r in read_metrics(run) if r["kind"] == "train"]
    assert steps == list(range(1, 19))
    assert "epochs: 3" in (run / "config.yaml").read_text()


def test_train_log_holds_the_console_and_periodic_lines(tiny_dataset, make_cfg, tmp_path):
    cfg = make_cfg(tiny_dataset, "data.modalities=[pose]", "train.log_every=2")
    run = tmp_path / "run"
    train(cfg, run_dir=run, device="cpu")
    text = (run / "train.log").read_text()
    assert "epoch 1/2 step 2/12: loss" in text and "samples/s" in text
    assert "epoch 1/2: val fused top1" in text and "\r" not in text
    assert "epoch 2/2 step 12/12: loss" in text  # epochs counted from 1 in both kinds of line
    train(cfg, run_dir=run, device="cpu", resume=True)  # resumed runs append
    assert (run / "train.log").read_text().startswith(text)


def test_train_state_round_trips_and_reads_older_checkpoints():
    from mgproto.engine.state import TrainState

    state = TrainState(epoch=3, step_in_epoch=2, global_step=20, bad=1, seen=90)
    assert state.improves({"fused_top1": 0.5}) and not state.improves({"fused_top1": 0.5})
    assert state.best == {"epoch": 3, "fused_top1": 0.5}
    saved = state.to_checkpoint()
    torch.rand(3)  # move the generator on; restoring the checkpoint puts it back
    assert TrainState.from_checkpoint(saved) == state
    after = torch.rand(2)
    TrainState.from_checkpoint(saved)
    assert torch.equal(torch.rand(2), after)
    old = {"epoch": 1, "step_in_epoch": 0, "global_step": 6, "best": None, "bad": 0, "seen": 12,
           "rng": saved["rng"]}  # fmt: skip
    assert TrainState.from_checkpoint(old) == TrainState(epoch=1, global_step=6, seen=12)


def test_video_swin_with_adamw_groups_resumes_exactly(tiny_dataset, make_cfg, tmp_path):
    """Video Swin + AdamW with parameter groups (no decay on norms, backbone lr x0.1) and a
    dense RGB window: an interrupted run resumes to the same weights."""
    cfg = make_cfg(
        tiny_dataset, "data.modalities=[rgb]", "model.arch=swin", "model.swin.arch=tiny",
        "model.swin.embed_dim=12", "model.swin.depths=[1,1,1,1]",
        "model.swin.num_heads=[1,1,1,1]", "model.swin.window_size=[2,4,4]",
        "train.optimizer=adamw", "train.lr=0.001", "train.weight_decay=0.05",
        "train.no_decay_norm=true", "train.backbone_lr_mult=0.1", "train.warmup_epochs=0.5",
        "train.warmup_start=0.1", "train.schedule=cosine", "data.rgb.frame_interval=2",
        "data.rgb.clip_len=4", "train.checkpoint_every=1",
    )  # fmt: skip
    full = tmp_path / "full"
    train(cfg, run_dir=full, device="cpu")
    part = tmp_path / "part"
    train(cfg, run_dir=part, device="cpu", max_steps=8)
    train(cfg, run_dir=part, device="cpu", resume=True)
    a, b = _state(full), _state(part)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    opt = load_checkpoint(full / "checkpoints/last.pt")["optimizer"]
    assert len(opt["param_groups"]) == 3  # backbone with / without decay; the head (no norm)


def test_init_starts_from_the_trained_fusion_weights(tiny_dataset, make_cfg, tmp_path):
    """--init from a file with trained fusion weights: the fusion modules start from them."""
    from mgproto.engine.trainer import Trainer

    cfg = make_cfg(tiny_dataset, "model.fusion.enabled=true", "train.epochs=1")
    train(cfg, run_dir=tmp_path / "src", device="cpu")
    init = str(tmp_path / "src" / "checkpoints" / "last.pt")
    trained = {k: v for k, v in _state(tmp_path / "src").items() if ".fusions." in k}
    fresh = Trainer(cfg, tmp_path / "fresh", init=None, resume=False, device="cpu",
                    max_steps=None).model.state_dict()  # fmt: skip
    assert any(not torch.equal(fresh[k], v) for k, v in trained.items())  # training moved them
    loaded = Trainer(cfg, tmp_path / "init", init=init, resume=False, device="cpu",
                     max_steps=None).model.state_dict()  # fmt: skip
    for key, value in trained.items():
        assert torch.equal(loaded[key], value), key


def test_two_stream_runs_of_one_config_are_identical(tiny_dataset, make_cfg, tmp_path):
    """Fusion, prototypes, frame differences and two loader workers: the same config trains the
    same weights twice."""
    cfg = make_cfg(
        tiny_dataset, "train.num_workers=2", "model.fusion.enabled=true",
        "model.prototype.enabled=true", "model.prototype.embed_dim=8", "data.rgb.frame_diff=true",
        "model.head_temporal_bins=[1,2]",
    )  # fmt: skip
    for name in ("a", "b"):
        train(cfg, run_dir=tmp_path / name, device="cpu")
    a, b = _state(tmp_path / "a"), _state(tmp_path / "b")
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("val_split", ["", "missing"])
def test_a_run_without_validation_says_so_and_logs_every_epoch(
    tiny_dataset, make_cfg, tmp_path, val_split
):
    """An epoch shorter than log_every still gets its line (console and metrics.jsonl); no val
    split is said once, with the checkpoint to use; a warm-up longer than the run is flagged."""
    cfg = make_cfg(tiny_dataset, "data.modalities=[pose]", f"data.val_split={val_split!r}",
                   "train.log_every=50", "train.epochs=2", "train.warmup_epochs=3")  # fmt: skip
    run = tmp_path / "run"
    train(cfg, run_dir=run, device="cpu")
    text = (run / "train.log").read_text()
    assert "epoch 1/2 step 6/12: loss" in text and "epoch 2/2 step 12/12: loss" in text
    records = read_metrics(run)
    assert [(r["kind"], r["epoch"], r["step"]) for r in records] == [
        ("train", 1, 6), ("train", 2, 12)]  # fmt: skip
    assert not (run / "checkpoints" / "best.pt").exists()
    no_val = [line for line in text.splitlines() if "no validation during training" in line]
    assert len(no_val) == 1 and "WARNING" in no_val[0] and "checkpoints/last.pt" in no_val[0]
    assert ("is empty" in no_val[0]) == (val_split == "")
    assert "train.warmup_epochs (3) is longer than train.epochs (2)" in text
