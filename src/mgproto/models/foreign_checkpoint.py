"""Reading MMAction2 / PYSKL / MMEngine checkpoint files without running their pickled objects.

Only the weights are imported. A checkpoint written by MMEngine's runner (what MMAction2 1.x
``tools/train.py`` saves as ``epoch_24.pth`` or ``best_acc_top1_epoch_*.pth``) also holds the
runner's state next to ``state_dict``:

- ``meta``: epoch, iteration, seed, the config text, ``dataset_meta``;
- ``message_hub``: ``log_scalars`` (one ``mmengine.logging.history_buffer.HistoryBuffer`` per
  logged value; each buffer's state names its statistics methods, which pickle stores as
  ``builtins.getattr(HistoryBuffer, "mean")`` reductions) and ``runtime_info`` (numpy scalars
  such as ``eta``);
- ``optimizer`` and ``param_schedulers``: their state dicts.

``torch.load(weights_only=True)`` refuses those globals. :func:`read_foreign_checkpoint` then
lists the file's globals without unpickling it; when every one is MMEngine / MMCV / MMAction2
runner state, a numpy value or ``builtins.getattr``, it loads the file again weights-only with
each of them bound to an inert stand-in class: the stand-in takes any arguments and state and
does nothing, so nothing of the file runs and ``mmengine`` need not be installed. Any other
global (``os.system``, a class of another library) is refused unless the caller trusts the
file; a trusted file that needs a module that is not installed here is read with all its
globals as stand-ins.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from mgproto.fileio import UnsafeFileError

# Globals a runner checkpoint holds besides tensors, read as inert stand-ins (never called).
INERT_PREFIXES = ("mmengine.", "mmcv.", "mmaction.", "numpy.")
# How protocol-2 pickles store a function by its qualified name (``HistoryBuffer.mean``).
INERT_NAMES = frozenset({"builtins.getattr"})
# What torch raises for a truncated, corrupt or non-checkpoint file.
LOAD_ERRORS = (RuntimeError, EOFError, OSError, KeyError, ValueError, TypeError)


def is_inert(name: str) -> bool:
    """Whether the global ``name`` (``module.qualname``) may be read as an inert stand-in."""
    return name.startswith(INERT_PREFIXES) or name in INERT_NAMES


@dataclass
class ForeignCheckpoint:
    """The weights of a foreign checkpoint file and what was left out to get them."""

    state: dict[str, torch.Tensor]  # the state dict's tensors, names as in the file
    skipped: list[str] = field(default_factory=list)  # top-level entries besides the weights
    stand_ins: dict[str, int] = field(default_factory=dict)  # global -> objects read inertly

    def summary(self) -> str:
        """What was skipped, one line each (empty for a bare state dict)."""
        lines = []
        if self.skipped:
            lines.append("skipped (not needed for the weights): " + ", ".join(self.skipped))
        if self.stand_ins:
            read = ", ".join(f"{n} x {name}" for name, n in sorted(self.stand_ins.items()))
            lines.append(f"read as inert stand-ins, never run: {read}")
        return "\n".join(lines)


class _StandIn:
    """Takes the place of one global of a checkpoint: accepts any arguments and state, keeps
    nothing and counts how many objects the file made of it."""

    origin = ""
    made = 0

    def __new__(cls, *args: object, **kwargs: object) -> _StandIn:
        cls.made += 1
        return super().__new__(cls)

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        pass

    def __repr__(self) -> str:
        return f"<inert {self.origin}>"


def _stand_in(name: str) -> type[_StandIn]:
    return type(name.rsplit(".", 1)[-1], (_StandIn,), {"origin": name, "made": 0})


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {_first_line(err)}"


def _reason(err: pickle.UnpicklingError) -> str:
    """The line of torch's weights-only error that says what it refused."""
    lines = [ln.strip() for ln in str(err).splitlines() if "WeightsUnpickler error" in ln]
    return lines[0] if lines else _first_line(err)


def _load_with_stand_ins(path: Path, names: list[str]) -> tuple[Any, dict[str, int]]:
    """``path`` loaded weights-only with each of ``names`` bound to a fresh stand-in class."""
    stand_ins = {name: _stand_in(name) for name in names}
    try:
        with torch.serialization.safe_globals([(c, n) for n, c in stand_ins.items()]):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # e.g. a stand-in used as a callable's result
        raise UnsafeFileError(f"{path}: refusing its non-tensor objects ({_reason(err)})") from None
    except LOAD_ERRORS as err:
        raise ValueError(f"{path}: not a readable checkpoint ({_describe(err)})") from None
    return obj, {n: c.made for n, c in stand_ins.items() if c.made}


def _load_trusted(path: Path, names: list[str] | None) -> tuple[Any, dict[str, int]]:
    """Full unpickling, for a file the caller trusts; with stand-ins where a module is missing."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False), {}
    except (ImportError, AttributeError) as err:  # a class of the file is not installed here
        if names is None:
            raise ValueError(
                f"{path}: unpickling it needs what is not installed here ({_first_line(err)})"
            ) from None
        return _load_with_stand_ins(path, names)
    except Exception as err:  # the file's own objects may raise anything while they load
        raise ValueError(
            f"{path}: not a readable checkpoint, even unpickled fully ({_describe(err)})"
        ) from None


def _globals_beyond_tensors(path: Path) -> list[str] | None:
    """The globals of ``path`` that weights-only loading refuses, listed without unpickling;
    None where torch cannot list them (a legacy-format or non-checkpoint file)."""
    try:
        return sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    except (ValueError, RuntimeError, pickle.UnpicklingError, EOFError, OSError):
        return None


def _load_beyond_tensors(
    path: Path, err: pickle.UnpicklingError, *, trust_file: bool
) -> tuple[Any, dict[str, int]]:
    """A file that weights-only loading refused (with ``err``): with stand-ins when all its
    extra globals are inert, fully when trusted, else one error naming the file and global."""
    names = _globals_beyond_tensors(path)
    refused = [n for n in names if not is_inert(n)] if names is not None else []
    if names and not refused:
        return _load_with_stand_ins(path, names)
    if trust_file:
        return _load_trusted(path, names)
    advice = "pass trust_file=True (--trust-file) only if you trust the file's source"
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise UnsafeFileError(
            f"{path}: refusing to load {refused[0]}{more}: only tensors, numpy values and "
            f"MMEngine runner state (read inertly) are read safely; {advice}"
        )
    if names is None:
        raise UnsafeFileError(
            f"{path}: holds objects beyond tensors in a format the safe reader cannot list "
            f"(not torch's zip format); {advice}"
        )
    raise ValueError(f"{path}: not a readable checkpoint ({_reason(err)})")


def read_foreign_checkpoint(path: str | Path, *, trust_file: bool = False) -> ForeignCheckpoint:
    """The weights of an MMAction2 / PYSKL / MMEngine checkpoint (``state_dict`` unwrapped).

    Args:
        path: a ``torch.save`` file: a bare state dict, or a dict with ``state_dict``.
        trust_file: allow full unpickling when the safe reader refuses a global (only for a
            file from a source the caller trusts).

    Raises:
        FileNotFoundError: no such file.
        UnsafeFileError: a global the safe reader refuses, without ``trust_file``.
        ValueError: a file that is not a readable checkpoint or holds no state dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    stand_ins: dict[str, int] = {}
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # objects beyond tensors, or a damaged pickle
        obj, stand_ins = _load_beyond_tensors(path, err, trust_file=trust_file)
    except LOAD_ERRORS as err:
        raise ValueError(f"{path}: not a readable checkpoint ({_describe(err)})") from None
    skipped = []
    if isinstance(obj, dict) and "state_dict" in obj:
        skipped = [str(k) for k in obj if k != "state_dict"]
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a state dict, got {type(obj).__name__}")
    state = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    return ForeignCheckpoint(state=state, skipped=skipped, stand_ins=stand_ins)
