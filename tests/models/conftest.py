"""MMEngine runner checkpoints without MMEngine: ``write_runner_checkpoint`` writes a file whose
pickle has the structure of what MMAction2 1.x ``tools/train.py`` saves (checked against a real
one in ``test_foreign_checkpoint.py::test_fixture_pickles_like_a_real_runner_checkpoint``).

The runner saves ``{meta, state_dict, message_hub, optimizer, param_schedulers}`` with
``torch.save`` (pickle protocol 2). ``message_hub.log_scalars`` maps each logged value to a
``mmengine.logging.history_buffer.HistoryBuffer``, pickled as NEWOBJ of the class and BUILD
with its ``__dict__`` (``max_length``, ``_log_history`` float64 and ``_count_history`` int64
arrays) plus ``statistics_methods``: its four statistics functions, which protocol 2 stores as
``builtins.getattr(HistoryBuffer, name)``. ``runtime_info`` holds a numpy float64 (``eta``).
Here a class of the same module path, qualname and state stands for HistoryBuffer while the
file is written; the modules are gone from ``sys.modules`` again before anything reads it.
"""

from __future__ import annotations

import sys
import types
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

HISTORY_MODULE = "mmengine.logging.history_buffer"
# What a two-epoch run with validation logs (tools/oracle_runner_checkpoint.py).
SCALARS = ("train/lr", "train/data_time", "train/grad_norm", "train/loss", "train/time",
           "val/data_time", "val/time", "val/top1")  # fmt: skip
RUNNER_STATE = ["meta", "message_hub", "optimizer", "param_schedulers"]


def _history_buffer_class() -> type:
    """A class that pickles exactly as MMEngine's HistoryBuffer does."""

    class HistoryBuffer:
        def __init__(self, values: list[float]) -> None:
            self.max_length = 1000000
            self._log_history = np.array(values, dtype=np.float64)
            self._count_history = np.ones(len(values), dtype=np.int64)

        def min(self) -> float:
            return float(self._log_history.min())

        def max(self) -> float:
            return float(self._log_history.max())

        def current(self) -> float:
            return float(self._log_history[-1])

        def mean(self) -> float:
            return float(self._log_history.mean())

        def __getstate__(self) -> dict:
            methods = {n: getattr(HistoryBuffer, n) for n in ("min", "max", "current", "mean")}
            return {**self.__dict__, "statistics_methods": methods}

    methods = [vars(HistoryBuffer)[n] for n in ("min", "max", "current", "mean")]
    for obj in (HistoryBuffer, *methods):
        obj.__module__ = HISTORY_MODULE
        obj.__qualname__ = obj.__qualname__.rsplit("<locals>.", 1)[-1]
    return HistoryBuffer


@contextmanager
def fake_mmengine() -> Iterator[type]:
    """``mmengine``, ``mmengine.logging`` and the history-buffer module in ``sys.modules`` for
    the duration (refused if a real mmengine is importable); yields the HistoryBuffer class."""
    names = ("mmengine", "mmengine.logging", HISTORY_MODULE)
    if any(n in sys.modules for n in names):
        raise RuntimeError("mmengine is imported: the fixture would not test its absence")
    history_buffer = _history_buffer_class()
    modules = {n: types.ModuleType(n) for n in names}
    modules[HISTORY_MODULE].HistoryBuffer = history_buffer
    sys.modules.update(modules)
    try:
        yield history_buffer
    finally:
        for n in names:
            del sys.modules[n]


def _with_module_metadata(state: dict[str, torch.Tensor]) -> OrderedDict:
    """``state`` as ``nn.Module.state_dict()`` returns it: an OrderedDict whose ``_metadata``
    (one version per module prefix) pickles as a BUILD on the OrderedDict."""
    out = OrderedDict(state)
    prefixes = {""} | {k.rsplit(".", 1)[0] for k in state if "." in k}
    out._metadata = OrderedDict((p, {"version": 1}) for p in sorted(prefixes))
    return out


def _optimizer_state(state: dict[str, torch.Tensor]) -> dict:
    """An SGD state dict (momentum buffers, one param group) after one step over the float
    tensors of ``state``, as MMEngine's OptimWrapper saves it."""
    params = [torch.nn.Parameter(v.clone()) for v in state.values() if v.is_floating_point()]
    sgd = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-4)
    for group in sgd.param_groups:
        group["initial_lr"] = 0.1  # set by the param schedulers
    for p in params:
        p.grad = torch.ones_like(p)
    sgd.step()
    return sgd.state_dict()


def runner_checkpoint(state: dict[str, torch.Tensor], history_buffer: type, *,
                      runtime_extra: dict | None = None) -> dict:  # fmt: skip
    """The dict MMEngine's ``Runner.save_checkpoint`` passes to ``torch.save`` after two
    epochs (keys, nesting and value types as in a real one); ``runtime_extra`` adds entries to
    ``message_hub.runtime_info``."""
    meta = {"epoch": 2, "iter": 4, "cfg": "model = dict(type='Recognizer3D')\n", "seed": 0,
            "experiment_name": "20240101_000000", "time": "20240101_000010",
            "mmengine_version": "0.10.7", "dataset_meta": {"classes": ("a", "b")}}  # fmt: skip
    runtime_info = OrderedDict(
        cfg=meta["cfg"], seed=0, experiment_name=meta["experiment_name"],
        mmengine_version="0.10.7", loop_stage="train", epoch=1, iter=3, max_epochs=2,
        max_iters=4, dataset_meta=meta["dataset_meta"], eta=np.float64(0.0),
        keep_ckpt_ids=[1, 2], last_ckpt="work_dirs/epoch_2.pth", best_score=0.5,
        best_ckpt="work_dirs/best_top1_epoch_1.pth", **(runtime_extra or {}),
    )  # fmt: skip
    scalars = OrderedDict((n, history_buffer([0.1 * (i + 1), 0.05])) for i, n in enumerate(SCALARS))
    keys = [*runtime_info, *SCALARS]
    warmup = {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 1, "param_name": "lr",
              "begin": 0, "end": 2, "by_epoch": False, "base_values": [0.1], "last_step": 1,
              "_global_step": 4, "verbose": False, "_last_value": [0.05]}  # fmt: skip
    cosine = {"T_max": 2, "eta_min": 0.0, "eta_min_ratio": None, "param_name": "lr", "begin": 0,
              "end": 2, "by_epoch": True, "base_values": [0.1], "last_step": 1,
              "_global_step": 2, "verbose": False, "_last_value": [0.05]}  # fmt: skip
    return {
        "meta": meta,
        "state_dict": _with_module_metadata(state),
        "message_hub": {
            "log_scalars": scalars,
            "runtime_info": runtime_info,
            "resumed_keys": OrderedDict((k, True) for k in keys),
        },
        "optimizer": _optimizer_state(state),
        "param_schedulers": [warmup, cosine],
    }


@pytest.fixture
def write_runner_checkpoint() -> Callable[..., Path]:
    """``write(path, state, runtime_extra=None) -> path``: an MMEngine runner checkpoint of
    ``state`` (tensors under MMAction2's names), written while a stand-in mmengine is in
    ``sys.modules`` and read after it has left."""

    def write(path: Path, state: dict[str, torch.Tensor], *,
              runtime_extra: dict | None = None) -> Path:  # fmt: skip
        with fake_mmengine() as history_buffer:
            ckpt = runner_checkpoint(state, history_buffer, runtime_extra=runtime_extra)
            torch.save(ckpt, path)
        return path

    return write
