"""The training loop: the paper's protocol, resumable exactly, single-process or DDP.

``train(cfg, run_dir=...)`` builds data, model and objective from the typed config, then runs
SGD or AdamW (``engine/optim.py``) with a step-wise or cosine schedule and optional warm-up,
gradient clipping, bf16 (or fp16 with loss scaling) autocast on CUDA, validation every
``val_every`` epochs and a ``best.pt`` by fused Top-1. ``last.pt`` (written atomically after
every epoch, and every ``checkpoint_every`` steps) holds model, prototypes, optimizer,
scheduler, loss scaler, position in the epoch and RNG state, so ``resume=True`` continues
exactly where the run stopped: same batches, same augmentation, same dropout masks.

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
    model_from_config,
    objective_from_config,
    resolve_device,
    training_loader,
)
from mgproto.config import ExperimentConfig
from mgproto.data.loader import batch_to_device, load_split, load_val_split
from mgproto.data.records import require_labels
from mgproto.engine.checkpoint import (
    load_checkpoint,
    load_init,
    save_checkpoint,
)
from mgproto.engine.distributed import all_gather_objects, init_distributed, pick_device
from mgproto.engine.guard import DivergenceGuard, check_finite_weights
from mgproto.engine.logging import (
    RunLogger,
    attach_log_file,
    detach_log_file,
    progress_line,
    progress_log,
    setup_console,
)
from mgproto.engine.optim import build_optimizer
from mgproto.engine.rundir import TrainingError, check_run_dir, write_run_dir
from mgproto.engine.schedule import lr_factor
from mgproto.engine.state import TrainState
from mgproto.engine.validation import Validator

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
        inputs: tuple[str | Path, ...] = (),
    ) -> None:
        self.cfg, self.t = cfg, cfg.train
        self.run_dir, self.max_steps = Path(run_dir), max_steps
        wants_gpu = resolve_device(device).type == "cuda"  # a clear error before any setup
        self.info = init_distributed(torch.device("cuda") if wants_gpu else None)
        self.device = pick_device(self.info, device)
        setup_console(self.info.is_main)
        last = self.run_dir / "checkpoints" / "last.pt"
        saved = load_checkpoint(last) if resume and last.is_file() else None
        check_run_dir(self.run_dir, cfg, resume=resume, saved=saved, inputs=(*inputs, init or ""))
        if self.t.deterministic:
            torch.use_deterministic_algorithms(True)
        torch.manual_seed(cfg.seed)
        self._setup_data()
        self.model = model_from_config(cfg)
        if init:
            load_init(self.model, init)
        self.log_file = None
        if self.info.is_main:  # every check has passed: now the run folder is written
            write_run_dir(self.run_dir, cfg, resume=resume)
            self.log_file = attach_log_file(self.run_dir / "train.log")
            self._say_settings()
        self._setup_model()
        self._setup_optimization()
        self.state = TrainState()
        self.logger = RunLogger(
            self.run_dir, enabled=self.info.is_main, tensorboard=self.t.tensorboard,
            fresh=not resume,
        )  # fmt: skip
        self.guard = DivergenceGuard(limit=self.t.max_nonfinite_steps)
        if saved is not None:
            self._resume(saved, last)

    def _setup_data(self) -> None:
        cfg = self.cfg
        self.records, self.root, meta = load_split(cfg.data, cfg.data.train_split)
        require_labels(self.records, split=cfg.data.train_split, source=cfg.data.annotations)
        self.class_names = meta.get("classes")
        val_records, val_root, self.no_val = load_val_split(cfg.data)
        self.validate = Validator(
            cfg, val=(val_records, val_root), train=(self.records, self.root),
            info=self.info, device=self.device,
        )  # fmt: skip
        world = {"world_size": self.info.world_size, "rank": self.info.rank}
        self.loader = training_loader(cfg, self.records, self.root, **world)
        self.steps_per_epoch = self.loader.batch_sampler.steps_per_epoch

    def _say_settings(self) -> None:
        """Once, into the console and train.log: what the run will not do that a user may
        expect (validate, reach the base lr, print a line every log_every steps)."""
        t = self.t
        if self.no_val:
            log.warning(
                "%s: no validation during training, so no best.pt; checkpoints/last.pt (the "
                "model after the last epoch) is the one to test", self.no_val,
            )  # fmt: skip
        if t.warmup_epochs > t.epochs:
            log.warning(
                "train.warmup_epochs (%g) is longer than train.epochs (%d): the learning rate "
                "never reaches train.lr (%g); lower train.warmup_epochs", t.warmup_epochs,
                t.epochs, t.lr,
            )  # fmt: skip
        if t.log_every > self.steps_per_epoch:
            log.info(
                "an epoch has %d steps, fewer than train.log_every (%d): one line per epoch",
                self.steps_per_epoch, t.log_every,
            )  # fmt: skip

    def _setup_model(self) -> None:
        """The objective on the device, channels-last on CUDA, DDP-wrapped under torchrun."""
        self.objective = objective_from_config(
            self.cfg, self.model, class_names=self.class_names
        ).to(self.device)
        self.channels_last = self.device.type == "cuda" and self.t.channels_last
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last_3d)
        self.wrapped = self.objective
        if self.info.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.wrapped = DistributedDataParallel(self.objective, device_ids=ids)

    def _setup_optimization(self) -> None:
        t = self.t
        self.optimizer = build_optimizer(self.objective, t)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s / self.steps_per_epoch, t)
        )
        self.use_amp = t.amp and self.device.type == "cuda"
        self.amp_dtype = getattr(torch, t.amp_dtype)
        # loss scaling only for float16 autocast; disabled, the scaler is a pass-through
        self.scaler = torch.amp.GradScaler(
            "cuda", enabled=self.use_amp and self.amp_dtype == torch.float16
        )

    # ---- checkpoints --------------------------------------------------------------------

    def _save(self, name: str) -> None:
        if not self.info.is_main:
            return
        check_finite_weights(self.model, step=self.state.global_step, name=name)
        save_checkpoint(
            self.run_dir / "checkpoints" / name, cfg=self.cfg, model=self.model,
            optimizer=self.optimizer.state_dict(), scheduler=self.scheduler.state_dict(),
            scaler=self.scaler.state_dict(), class_names=self.class_names,
            **self.state.to_checkpoint(),
        )  # fmt: skip

    def _resume(self, saved: dict[str, Any], path: Path) -> None:
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        if saved.get("scaler"):
            self.scaler.load_state_dict(saved["scaler"])
        self.state = TrainState.from_checkpoint(saved)
        st = self.state
        self.logger.drop_after(st.global_step, st.epoch)  # replayed steps log once
        log.info("resumed %s at epoch %d, step %d", path, st.epoch, st.step_in_epoch)

    # ---- steps -----------------------------------------------------------------------------

    def _check_bad(self) -> None:
        bad, seen = self.state.bad, self.state.seen
        if bad and bad > self.t.max_bad_share * max(seen, 1):
            raise TrainingError(
                f"{bad} of {seen} training clips could not be read (more than "
                f"train.max_bad_share = {self.t.max_bad_share:.0%}); see the warnings above"
            )

    def _micro_batch(self, batch: dict, last: bool, cache: dict) -> dict[str, float]:
        self.state.bad += batch["num_skipped"]
        self.state.seen += batch["num_skipped"] + len(batch.get("frame_dir", []))
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
            finite=finite, loss=loss, grad_norm=float(norm), step=self.state.global_step,
            epoch=self.state.epoch, scale=self.scaler.get_scale() if scaling else None,
        )  # fmt: skip
        self.scheduler.step()
        self.state.global_step += 1
        return {k: sum(v) / len(v) for k, v in stats.items()}

    # ---- the loop --------------------------------------------------------------------------

    def run(self) -> TrainResult:
        t = self.t
        total = t.epochs * self.steps_per_epoch
        bar = tqdm(
            total=total,
            initial=self.state.global_step,
            disable=None if self.info.is_main else True,  # None: off when not a terminal
            desc="train",
            dynamic_ncols=True,
        )
        window: dict[str, list[float]] = {}
        tic = time.perf_counter()
        try:
            while self.state.epoch < t.epochs:
                sampler = self.loader.batch_sampler
                sampler.set_epoch(self.state.epoch, start_step=self.state.step_in_epoch)
                self.loader.dataset.set_epoch(self.state.epoch)
                it, cache = iter(self.loader), {}
                self.objective.train()  # validation leaves the model in eval mode
                while self.state.step_in_epoch < self.steps_per_epoch:
                    stats = self._optimizer_step(it, cache)
                    self.state.step_in_epoch += 1
                    for k, v in stats.items():
                        window.setdefault(k, []).append(v)
                    bar.update(1)
                    bar.set_postfix(
                        loss=f"{stats.get('loss', math.nan):.3f}",
                        acc=f"{stats.get('top1', math.nan):.2f}",
                    )
                    epoch_end = self.state.step_in_epoch == self.steps_per_epoch
                    if self.state.global_step % t.log_every == 0 or (epoch_end and window):
                        self._log_window(window, tic)  # at least once per epoch
                        window, tic = {}, time.perf_counter()
                    if t.checkpoint_every and self.state.global_step % t.checkpoint_every == 0:
                        self._save("last.pt")
                    if self.max_steps is not None and self.state.global_step >= self.max_steps:
                        self._save("last.pt")
                        return TrainResult(
                            self.run_dir, self.state.best, self.state.global_step, True
                        )
                self.state.epoch += 1
                self.state.step_in_epoch = 0
                self._end_epoch()
        finally:
            bar.close()
            self.logger.close()
            detach_log_file(self.log_file)
        return TrainResult(self.run_dir, self.state.best, self.state.global_step)

    def _log_window(self, window: dict[str, list[float]], tic: float) -> None:
        record = {k: sum(v) / len(v) for k, v in window.items()}
        seconds = time.perf_counter() - tic
        steps = len(next(iter(window.values()), [1]))
        record.update(
            kind="train",
            epoch=self.state.epoch + 1,  # the epoch in progress, from 1 (as val records)
            step=self.state.global_step,
            lr=max(g["lr"] for g in self.optimizer.param_groups),  # the heads' lr
            bad_clips=self.state.bad,
            samples_per_s=steps * self.loader.batch_sampler.global_batch / seconds,
        )
        self.logger.write(record, step=self.state.global_step)
        total = self.t.epochs * self.steps_per_epoch
        progress_log.info(progress_line(record, total, self.t.epochs))

    def _prototype_drift(self) -> float | None:
        """Max difference of the prototypes (and centre memories) across ranks (0 when
        synchronised); None if n/a."""
        if not self.info.enabled or not self.cfg.model.prototype.enabled:
            return None
        names = ("prototypes", "fn_centres", "fp_centres")
        heads = [self.model.head[s] for s in self.model.streams]
        mine = [getattr(h, n).detach().cpu() for h in heads for n in names if hasattr(h, n)]
        everyone = all_gather_objects(mine)
        return max(float((a - b).abs().max()) for other in everyone for a, b in zip(mine, other))

    def _end_epoch(self) -> None:
        drift = self._prototype_drift()
        if drift is not None:
            self.logger.write(
                {
                    "kind": "sync",
                    "epoch": self.state.epoch,
                    "step": self.state.global_step,
                    "prototype_max_diff": drift,
                },
                step=self.state.global_step,
            )
            if drift > 0:
                log.warning("prototypes differ across ranks by up to %.3g", drift)
        val = self.validate(self.model, self.state.epoch)
        if val is not None:
            self.logger.write(
                {"kind": "val", "epoch": self.state.epoch, "step": self.state.global_step, **val},
                step=self.state.global_step,
            )
            log.info(
                "epoch %d/%d: val fused top1 %.4f (%s)",
                self.state.epoch,
                self.t.epochs,
                val["fused_top1"],
                ", ".join(f"{k} {v:.4f}" for k, v in val.items() if k.endswith("top1")),
            )
            if self.state.improves(val):
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
    inputs: tuple[str | Path, ...] = (),
) -> TrainResult:
    """Train ``cfg`` into ``run_dir`` (see the module docstring).

    Args:
        init: an mgproto checkpoint to start from (e.g. ``mgproto merge-init``'s output).
        resume: continue the run in ``run_dir`` from ``checkpoints/last.pt``.
        device: ``auto``, ``cpu`` or ``cuda``.
        max_steps: stop (after saving ``last.pt``) once this many optimiser steps are done.
        inputs: the files ``cfg`` was read from (config file, its ``base:`` chain), which no
            file of the run may replace (nor ``init``, nor the annotation file).
    """
    return Trainer(
        cfg, Path(run_dir), init=init, resume=resume, device=device, max_steps=max_steps,
        inputs=inputs,
    ).run()  # fmt: skip
