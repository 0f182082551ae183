"""Two CPU processes (gloo, launched by torchrun) match one process with the same global batch."""

import os
import socket
import subprocess
import sys

import pytest
import torch

from mgproto.engine.checkpoint import load_checkpoint
from mgproto.engine.logging import read_metrics

SETTINGS = [
    "data.modalities=[pose]",
    "data.pose.layout=imigue22",
    "data.num_classes=3",
    "data.pose.clip_len=8",
    "data.pose.train_size=8",
    "data.pose.test_size=8",
    "data.pose.pre_crop_size=10",
    "model.preset=tiny",
    "model.dropout=0.0",
    "train.batch_size=2",
    "train.num_workers=0",
    "train.epochs=1",
    "train.tensorboard=false",
    "train.val_every=0",
    "train.log_every=1",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args, env_extra=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _train(tmp_path, name, settings, *, nproc):
    cfg = tmp_path / "empty.yaml"
    cfg.write_text("{}\n")
    sets = [x for s in settings for x in ("--set", s)]
    base = [
        "-m",
        "mgproto",
        "train",
        str(cfg),
        "--run-dir",
        str(tmp_path / name),
        "--device",
        "cpu",
        *sets,
    ]
    if nproc == 1:
        return _run([sys.executable, *base])
    launcher = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={nproc}",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
    ]
    return _run([*launcher, *base])


@pytest.mark.slow
def test_two_gloo_processes_match_one_with_the_same_global_batch(tiny_dataset, tmp_path):
    settings = [*SETTINGS, f"data.annotations={tiny_dataset}"]
    _train(tmp_path, "ddp", settings, nproc=2)
    _train(tmp_path, "single", [*settings, "train.grad_accum_steps=2"], nproc=1)
    a = load_checkpoint(tmp_path / "ddp" / "checkpoints" / "last.pt")
    b = load_checkpoint(tmp_path / "single" / "checkpoints" / "last.pt")
    steps = a["train_state"]["global_step"], b["train_state"]["global_step"]
    assert steps == (3, 3)  # 12 clips / (2 x 2)
    params = [k for k in a["model"] if "running_" not in k and "num_batches" not in k]
    for key in params:
        torch.testing.assert_close(a["model"][key], b["model"][key], atol=1e-5, rtol=1e-4)
    # only rank 0 wrote: one metrics file, one checkpoint folder
    assert len(read_metrics(tmp_path / "ddp")) > 0


@pytest.mark.slow
@pytest.mark.parametrize("centres", ["batch", "memory"])
def test_prototypes_stay_identical_across_ranks(tiny_dataset, tmp_path, centres):
    settings = [
        *SETTINGS,
        f"data.annotations={tiny_dataset}",
        "model.prototype.enabled=true",
        "model.prototype.embed_dim=8",
        f"model.prototype.centres={centres}",
    ]
    _train(tmp_path, "ddp_pr", settings, nproc=2)
    sync = [r for r in read_metrics(tmp_path / "ddp_pr") if r["kind"] == "sync"]
    assert sync and all(r["prototype_max_diff"] == 0 for r in sync)  # centres included
    state = load_checkpoint(tmp_path / "ddp_pr" / "checkpoints" / "last.pt")["model"]
    assert ("head.pose.fn_centres" in state) == (centres == "memory")


@pytest.mark.slow
def test_video_swin_with_adamw_under_torchrun_matches_one_process(tiny_dataset, tmp_path):
    """The Swin member through DDP: AdamW parameter groups, a dense RGB window."""
    swin = [
        "data.modalities=[rgb]", "data.rgb.clip_len=4", "data.rgb.frame_interval=2",
        "data.rgb.train_size=32", "data.rgb.test_size=32", "data.rgb.pre_crop_size=36",
        "model.arch=swin", "model.swin.arch=tiny", "model.swin.embed_dim=12",
        "model.swin.depths=[1,1,1,1]", "model.swin.num_heads=[1,1,1,1]",
        "model.swin.window_size=[2,4,4]", "model.swin.drop_path=0.0",
        "train.optimizer=adamw", "train.lr=0.001", "train.weight_decay=0.05",
        "train.no_decay_norm=true", "train.backbone_lr_mult=0.1",
    ]  # fmt: skip
    settings = [*SETTINGS, *swin, f"data.annotations={tiny_dataset}"]
    _train(tmp_path, "ddp", settings, nproc=2)
    _train(tmp_path, "single", [*settings, "train.grad_accum_steps=2"], nproc=1)
    a = load_checkpoint(tmp_path / "ddp" / "checkpoints" / "last.pt")
    b = load_checkpoint(tmp_path / "single" / "checkpoints" / "last.pt")
    assert a["train_state"]["global_step"] == b["train_state"]["global_step"] == 3
    for key in a["model"]:
        torch.testing.assert_close(a["model"][key], b["model"][key], atol=1e-5, rtol=1e-4)
