"""The training loop: the paper's protocol, resumable exactly, single-process or DDP.

``train(cfg, run_dir=...)`` builds data, model and objective from the typed config, then runs
SGD with a step-wise schedule (lr x gamma at each milestone epoch, optional warm-up), gradient
clipping, bf16 (or fp16 with loss scaling) autocast on CUDA, validation every ``val_every``
epochs and a ``best.pt`` by fused Top-1. ``last.pt`` (written atomically after every epoch, and
every ``checkpoint_every`` steps) holds model, prototypes, optimizer, scheduler, loss scaler,
position in the epoch and RNG state, so ``resume=True`` continues exactly where the run
stopped: same batches, same augmentation, same dropout masks.

A clip that cannot be read is skipped with a warning and counted; past ``max_bad_share`` of the
clips seen the run stops with an error.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from mgproto.build import (
    evaluation_loader,
    model_from_config,
    objective_from_config,
    resolve_device,
    training_loader,
)
from mgproto.config import ExperimentConfig
from mgproto.data.annotations import require_labels
from mgproto.data.loader import batch_to_device, load_split, load_val_split
from mgproto.engine.checkpoint import (
    load_checkpoint,
    load_init,
    save_checkpoint,
)
from mgproto.engine.distributed import all_gather_objects, init_distributed, pick_device
from mgproto.engine.evaluate import predict
from mgproto.engine.guard import DivergenceGuard, check_finite_weights
from mgproto.engine.logging import (
    RunLogger,
    attach_log_file,
    detach_log_file,
    progress_line,
    progress_log,
    setup_console,
)
from mgproto.engine.rundir import TrainingError, check_run_dir, write_run_dir
from mgproto.engine.schedule import lr_factor

log = logging.getLogger("mgproto")


@dataclass
class TrainResult:
    run_dir: Path
    best: dict[str, Any] | None
    global_step: int
    stopped_early: bool = False


class Trainer:
    """State and steps of one run; use :func:`train`."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        run_dir: Path,
        *,
        init: str | None,
        resume: bool,
        device: str,
        max_steps: int | None,
    ) -> None:
        self.cfg, self.t = cfg, cfg.train
        self.run_dir, self.max_steps = Path(run_dir), max_steps
        wants_gpu = resolve_device(device).type == "cuda"  # a clear error before any setup
        self.info = init_distributed(torch.device("cuda") if wants_gpu else None)
        self.device = pick_device(self.info, device)
        setup_console(self.info.is_main)
        last = self.run_dir / "checkpoints" / "last.pt"
        state = load_checkpoint(last) if resume and last.is_file() else None
        check_run_dir(self.run_dir, cfg, resume=resume, saved=state)
        if self.t.deterministic:
            torch.use_deterministic_algorithms(True)
        torch.manual_seed(cfg.seed)
        self.records, self.root, meta = load_split(cfg.data, cfg.data.train_split)
        require_labels(self.records, split=cfg.data.train_split, source=cfg.data.annotations)
        self.class_names = meta.get("classes")
        self.val_records, self.val_root = load_val_split(cfg.data)
        self.model = model_from_config(cfg)
        if init:
            load_init(self.model, init)
        self.log_file = None
        if self.info.is_main:
            write_run_dir(self.run_dir, cfg, resume=resume)
            self.log_file = attach_log_file(self.run_dir / "train.log")
        self.objective = objective_from_config(cfg, self.model).to(self.device)
        self.channels_last = self.device.type == "cuda" and self.t.channels_last
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last_3d)
        self.wrapped = self.objective
        if self.info.enabled:
            pr = cfg.model.prototype
            drop = cfg.model.rgb_drop_path > 0 or cfg.model.pose_drop_path > 0
            unused = drop or (pr.enabled and pr.start_epoch > 0)
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.wrapped = DistributedDataParallel(
                self.objective, device_ids=ids, find_unused_parameters=unused
            )
        world = {"world_size": self.info.world_size, "rank": self.info.rank}
        self.loader = training_loader(cfg, self.records, self.root, **world)
        self.steps_per_epoch = self.loader.batch_sampler.steps_per_epoch
        self.optimizer = torch.optim.SGD(
            self.objective.parameters(),
            lr=self.t.lr,
            momentum=self.t.momentum,
            nesterov=self.t.nesterov,
            weight_decay=self.t.weight_decay,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s / self.steps_per_epoch, self.t)
        )
        self.use_amp = self.t.amp and self.device.type == "cuda"
        self.amp_dtype = getattr(torch, self.t.amp_dtype)
        # loss scaling only for float16 autocast; disabled, the scaler is a pass-through
        self.scaler = torch.amp.GradScaler(
            "cuda", enabled=self.use_amp and self.amp_dtype == torch.float16
        )
        self.epoch = self.step_in_epoch = self.global_step = 0
        self.bad = self.seen = 0
        self.best: dict[str, Any] | None = None
        self.logger = RunLogger(
            self.run_dir, enabled=self.info.is_main, tensorboard=self.t.tensorboard
        )
        self.guard = DivergenceGuard(limit=self.t.max_nonfinite_steps)
        if state is not None:
            self._resume(state, last)

    # ---- checkpoints --------------------------------------------------------------------

    def _save(self, name: str) -> None:
        if not self.info.is_main:
            return
        check_finite_weights(self.model, step=self.global_step, name=name)
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        save_checkpoint(
            self.run_dir / "checkpoints" / name,
            cfg=self.cfg,
            model=self.model,
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
            scaler=self.scaler.state_dict(),
            epoch=self.epoch,
            step_in_epoch=self.step_in_epoch,
            global_step=self.global_step,
            best=self.best,
            rng=rng,
            bad=self.bad,
            seen=self.seen,
            class_names=self.class_names,
        )

    def _resume(self, state: dict[str, Any], path: Path) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.step_in_epoch = state["epoch"], state["step_in_epoch"]
        self.global_step, self.best = state["global_step"], state["best"]
        self.bad, self.seen = state["bad"], state["seen"]
        torch.set_rng_state(state["rng"]["torch"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self.logger.drop_after(self.global_step, self.epoch)  # replayed steps log once
        log.info("resumed %s at epoch %d, step %d", path, self.epoch, self.step_in_epoch)

    # ---- steps -----------------------------------------------------------------------------

    def _check_bad(self) -> None:
        if self.bad and self.bad > self.t.max_bad_share * max(self.seen, 1):
            raise TrainingError(
                f"{self.bad} of {self.seen} training clips could not be read (more than "
                f"train.max_bad_share = {self.t.max_bad_share:.0%}); see the warnings above"
            )

    def _micro_batch(self, batch: dict, last: bool, cache: dict) -> dict[str, float]:
        self.bad += batch["num_skipped"]
        self.seen += batch["num_skipped"] + len(batch.get("frame_dir", []))
        weight = 1.0
        if "label" not in batch:  # every clip of it was unreadable
            if not self.info.enabled or "batch" not in cache:
                return {}
            batch, weight = cache["batch"], 0.0  # keep DDP's collectives in step
        cache["batch"] = batch
        inputs = batch_to_device(batch, self.device, channels_last=self.channels_last)
        sync = (
            self.wrapped.no_sync() if self.info.enabled and not last else contextlib.nullcontext()
        )
        amp = torch.autocast("cuda", dtype=self.amp_dtype, enabled=self.use_amp)
        with sync:
            with amp:
                loss, out, terms = self.wrapped(inputs)
            self.scaler.scale(loss * weight / self.t.grad_accum_steps).backward()
        correct = (out.scores.argmax(1) == inputs["label"]).float().mean()
        return {
            "loss": loss.item(),
            "top1": correct.item(),
            **{k: v.item() for k, v in terms.items()},
        }

    def _optimizer_step(self, it, cache: dict) -> dict[str, float]:
        self.optimizer.zero_grad(set_to_none=True)
        stats: dict[str, list[float]] = {}
        for a in range(self.t.grad_accum_steps):
            result = self._micro_batch(next(it), a == self.t.grad_accum_steps - 1, cache)
            for k, v in result.items():
                stats.setdefault(k, []).append(v)
        self._check_bad()
        self.scaler.unscale_(self.optimizer)  # clip the true gradients (no-op without fp16)
        max_norm = self.t.clip_grad if self.t.clip_grad > 0 else math.inf
        norm = torch.nn.utils.clip_grad_norm_(self.objective.parameters(), max_norm)
        loss = sum(stats["loss"]) / len(stats["loss"]) if stats.get("loss") else 0.0
        finite = math.isfinite(loss) and math.isfinite(float(norm))
        scaling = self.scaler.is_enabled()
        if finite or scaling:  # the scaler skips a non-finite step itself
            self.scaler.step(self.optimizer)
        self.scaler.update()
        self.guard.observe(
            finite=finite, loss=loss, grad_norm=float(norm), step=self.global_step,
            epoch=self.epoch, scale=self.scaler.get_scale() if scaling else None,
        )  # fmt: skip
        self.scheduler.step()
        self.global_step += 1
        return {k: sum(v) / len(v) for k, v in stats.items()}

    def _score(self, records: list[dict], root: Path) -> dict[str, dict]:
        loader = evaluation_loader(
            self.cfg, records, root, num_clips=self.t.val_clips,
            world_size=self.info.world_size, rank=self.info.rank,
        )  # fmt: skip
        scores = predict(
            self.model, loader, device=self.device, amp=self.t.amp, amp_dtype=self.amp_dtype
        )
        return scores.report(self.cfg.data.num_classes)

    def _validate(self) -> dict[str, Any] | None:
        if not self.val_records or not self.t.val_every or self.epoch % self.t.val_every:
            return None
        report = self._score(self.val_records, self.val_root)
        summary = {
            f"{s}_{m}": report[s][m] for s in report for m in ("top1", "top5", "mean_class_acc")
        }
        if self.t.eval_train:  # the same test pipeline on the training clips
            report = self._score(self.records, self.root)
            summary.update({f"train_{s}_top1": report[s]["top1"] for s in report})
        return summary

    # ---- the loop --------------------------------------------------------------------------

    def run(self) -> TrainResult:
        t = self.t
        total = t.epochs * self.steps_per_epoch
        bar = tqdm(
            total=total,
            initial=self.global_step,
            disable=None if self.info.is_main else True,  # None: off when not a terminal
            desc="train",
            dynamic_ncols=True,
        )
        window: dict[str, list[float]] = {}
        tic = time.perf_counter()
        try:
            while self.epoch < t.epochs:
                sampler = self.loader.batch_sampler
                sampler.set_epoch(self.epoch, start_step=self.step_in_epoch)
                self.loader.dataset.set_epoch(self.epoch)
                self.objective.pr_active = self.epoch >= self.cfg.model.prototype.start_epoch
                it, cache = iter(self.loader), {}
                self.objective.train()  # validation leaves the model in eval mode
                while self.step_in_epoch < self.steps_per_epoch:
                    stats = self._optimizer_step(it, cache)
                    self.step_in_epoch += 1
                    for k, v in stats.items():
                        window.setdefault(k, []).append(v)
                    bar.update(1)
                    bar.set_postfix(
                        loss=f"{stats.get('loss', math.nan):.3f}",
                        acc=f"{stats.get('top1', math.nan):.2f}",
                    )
                    if self.global_step % t.log_every == 0:
                        self._log_window(window, tic)
                        window, tic = {}, time.perf_counter()
                    if t.checkpoint_every and self.global_step % t.checkpoint_every == 0:
                        self._save("last.pt")
                    if self.max_steps is not None and self.global_step >= self.max_steps:
                        self._save("last.pt")
                        return TrainResult(self.run_dir, self.best, self.global_step, True)
                self.epoch += 1
                self.step_in_epoch = 0
                self._end_epoch()
        finally:
            bar.close()
            self.logger.close()
            detach_log_file(self.log_file)
        return TrainResult(self.run_dir, self.best, self.global_step)

    def _log_window(self, window: dict[str, list[float]], tic: float) -> None:
        record = {k: sum(v) / len(v) for k, v in window.items()}
        seconds = time.perf_counter() - tic
        steps = len(next(iter(window.values()), [1]))
        record.update(
            kind="train",
            epoch=self.epoch,
            step=self.global_step,
            lr=self.optimizer.param_groups[0]["lr"],
            bad_clips=self.bad,
            samples_per_s=steps * self.loader.batch_sampler.global_batch / seconds,
        )
        self.logger.write(record, step=self.global_step)
        progress_log.info(progress_line(record, self.t.epochs * self.steps_per_epoch))

    def _prototype_drift(self) -> float | None:
        """Max difference of the prototypes across ranks (0 when synchronised); None if n/a."""
        if not self.info.enabled or not self.cfg.model.prototype.enabled:
            return None
        mine = [self.model.head[s].prototypes.detach().cpu() for s in self.model.modalities]
        everyone = all_gather_objects(mine)
        return max(float((a - b).abs().max()) for other in everyone for a, b in zip(mine, other))

    def _end_epoch(self) -> None:
        drift = self._prototype_drift()
        if drift is not None:
            self.logger.write(
                {
                    "kind": "sync",
                    "epoch": self.epoch,
                    "step": self.global_step,
                    "prototype_max_diff": drift,
                },
                step=self.global_step,
            )
            if drift > 0:
                log.warning("prototypes differ across ranks by up to %.3g", drift)
        val = self._validate()
        if val is not None:
            self.logger.write(
                {"kind": "val", "epoch": self.epoch, "step": self.global_step, **val},
                step=self.global_step,
            )
            log.info(
                "epoch %d: val fused top1 %.4f (%s)",
                self.epoch,
                val["fused_top1"],
                ", ".join(f"{k} {v:.4f}" for k, v in val.items() if k.endswith("top1")),
            )
            if self.best is None or val["fused_top1"] > self.best["fused_top1"]:
                self.best = {"epoch": self.epoch, **val}
                self._save("best.pt")
        self._save("last.pt")


def train(
    cfg: ExperimentConfig,
    *,
    run_dir: str | Path,
    init: str | None = None,
    resume: bool = False,
    device: str = "auto",
    max_steps: int | None = None,
) -> TrainResult:
    """Train ``cfg`` into ``run_dir`` (see the module docstring).

    Args:
        init: an mgproto checkpoint to start from (e.g. ``mgproto merge-init``'s output).
        resume: continue the run in ``run_dir`` from ``checkpoints/last.pt``.
        device: ``auto``, ``cpu`` or ``cuda``.
        max_steps: stop (after saving ``last.pt``) once this many optimiser steps are done.
    """
    return Trainer(
        cfg, Path(run_dir), init=init, resume=resume, device=device, max_steps=max_steps
    ).run()
