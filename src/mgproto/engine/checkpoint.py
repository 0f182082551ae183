"""Checkpoints: one torch file with everything needed to rebuild, evaluate or resume a run.

Content: ``format`` / ``version``, ``config`` (the resolved YAML), ``model`` (state dict, with
the prototype buffers), and when training: ``optimizer``, ``scheduler``, ``scaler``, ``epoch``,
``step``, ``rng`` states and ``best``. Files are written atomically (temporary file, then
rename) and read with ``weights_only=True`` (tensors, numbers, strings, containers).
"""

from __future__ import annotations

import logging
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from mgproto.build import model_from_config
from mgproto.config import ExperimentConfig, dump_config, load_config_text
from mgproto.fileio import InputError, atomic_write, check_input
from mgproto.models import Recognizer

FORMAT = "mgproto-checkpoint"
VERSION = 2  # 2: ST-GCN++ bone and motion streams as the reference computes them


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not ours; the message names the file."""


class UnusableCheckpointError(CheckpointError):
    """A file no checkpoint reader can use: no ``torch.save`` file at all (an image, text, a
    plain pickle), or an mgproto checkpoint without its weights or config; unlike a foreign
    checkpoint's error, no other reader is tried after it."""


# torch.save's legacy (pre-zip) files start with this number, pickled (any protocol).
_LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
_MAGIC_KINDS = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip file"), (b"\x93NUMPY", "a numpy .npy file"),
    (b"\x1a\x45\xdf\xa3", "a video (Matroska / WebM)"),
)  # fmt: skip


def _torch_layout(names: set[str]) -> bool:
    """Whether a zip's member names are torch's: ``FOLDER/data.pkl`` beside ``FOLDER/version``
    (or ``FOLDER/.data/version``), what torch's reader needs before it unpickles anything."""
    top = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    folders = {n[: -len("data.pkl")] for n in top}
    return any(f"{f}version" in names or f"{f}.data/version" in names for f in folders)


def _zip_kind(path: Path) -> str | None:
    """What a zip file is when it is not in torch's zip format."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None  # a damaged torch file, perhaps: torch's own error says more
    if _torch_layout(set(names)):
        return None
    if any(n.endswith("data.pkl") for n in names):
        return "a zip archive with a data.pkl out of torch's layout"
    npz = names and all(n.endswith(".npy") for n in names)
    return "an .npz array file (a score or skeleton file?)" if npz else "a zip archive"


def _failed_member(path: Path) -> str | None:
    """The first member of a torch zip whose bytes fail the CRC-32 its writer recorded (a file
    damaged after it was written, which torch itself loads without checking); None where
    every member passes or records none (``torch.serialization.set_crc32_options(False)``)."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.CRC == 0:
                    continue
                try:
                    with z.open(info) as f:
                        while f.read(1 << 24):
                            pass
                except zipfile.BadZipFile:
                    return info.filename
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None  # not a zip (torch's legacy format), or truncated: torch's error says more
    return None


def torch_file_problem(path: str | Path) -> str | None:
    """What ``path`` is instead of a ``torch.save`` file, judged by its first bytes (a PNG, a
    plain pickle, JSON text ...); None where it may be one (torch's zip or legacy format)."""
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(Path(path))
    if head.startswith(b"\x80"):  # a pickle: torch's legacy format starts with its magic number
        return None if _LEGACY_MAGIC in head else "a Python pickle without torch's header"
    for magic, kind in _MAGIC_KINDS:
        if head.startswith(magic):
            return kind
    try:
        text = head.decode("utf-8").lstrip()
    except UnicodeDecodeError:
        return "bytes of no known format"
    return "JSON text" if text[:1] in ("{", "[") else "text" if text else "blank"


def check_torch_file(path: Path) -> None:
    """Raise :class:`UnusableCheckpointError` naming ``path`` and what it is, if it is no
    ``torch.save`` file at all, or a torch zip damaged since it was written (nothing of it is
    unpickled)."""
    kind = torch_file_problem(path)
    if kind is not None:
        raise UnusableCheckpointError(
            f"{path}: not a readable checkpoint: {kind}, not a torch.save file (a zip archive "
            "holding FOLDER/data.pkl and FOLDER/version)"
        )
    damaged = _failed_member(path)
    if damaged is not None:
        raise UnusableCheckpointError(
            f"{path}: not a readable checkpoint: damaged (its member {damaged} fails its CRC-32 "
            "check: the file changed after it was written)"
        )


def save_checkpoint(
    path: str | Path, *, cfg: ExperimentConfig, model: torch.nn.Module, **extra: Any
) -> Path:
    """Write model + resolved config (+ ``extra`` training state) atomically."""
    state = {
        "format": FORMAT,
        "version": VERSION,
        "config": dump_config(cfg),
        "model": model.state_dict(),
        **extra,
    }
    return atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read one of our checkpoints (safely) and check its format."""
    try:
        path = check_input(path, what="checkpoint")
    except InputError as err:  # missing, a folder, empty: no other reader does better
        raise UnusableCheckpointError(str(err)) from None
    check_torch_file(path)
    try:
        with warnings.catch_warnings():  # torch's note on a legacy file's pickle protocol
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # torch's advice to unpickle fully is not for a user
        what = (
            "holds Python objects, not only tensors"
            if "weights_only" in str(err)
            else ("truncated or corrupt")
        )
        raise CheckpointError(
            f"{path}: not a readable checkpoint ({what}); MMAction2 / PYSKL files go through "
            "`mgproto import-checkpoint`"
        ) from None
    except Exception as err:  # torch raises several types for truncated / foreign files
        raise CheckpointError(
            f"{path}: not a readable checkpoint (truncated or corrupt: {type(err).__name__})"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not an mgproto checkpoint (for MMAction2 / PYSKL files "
            "use `mgproto import-checkpoint`)"
        )
    wanted = (("model", dict), ("config", str))
    missing = [k for k, kind in wanted if not isinstance(state.get(k), kind)]
    if missing:
        raise UnusableCheckpointError(
            f"{path}: an mgproto checkpoint without its {' and '.join(missing)} (damaged, or "
            "not written by mgproto)"
        )
    return state


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, or a run directory's best (else last) checkpoint."""
    path = Path(path)
    if path.is_dir():
        for name in ("best.pt", "last.pt"):
            if (path / "checkpoints" / name).is_file():
                return path / "checkpoints" / name
        raise FileNotFoundError(f"{path}: no checkpoints/best.pt or last.pt in this run directory")
    return path


def class_names(state: dict[str, Any], cfg: ExperimentConfig) -> list[str]:
    """The K class names of a loaded checkpoint: saved in it, else from its annotation file's
    meta if that file is still there, else ``class k``."""
    from mgproto.data.annotations import load_annotations

    names = state.get("class_names")
    if not names and cfg.data.annotations and Path(cfg.data.annotations).is_file():
        names = load_annotations(cfg.data.annotations).meta.get("classes")
    names = list(names or [])
    return names + [f"class {k}" for k in range(len(names), cfg.data.num_classes)]


def load_model(path: str | Path) -> tuple[Recognizer, ExperimentConfig]:
    """Rebuild the model of a checkpoint from its saved config and load its weights."""
    return model_from_state(load_checkpoint(path), source=str(path))


def load_init(model: torch.nn.Module, path: str | Path) -> None:
    """Start ``model`` from a checkpoint's weights (non-strict; logs what did not fit)."""
    state = load_checkpoint(path)["model"]
    check_finite(state, source=str(path))
    missing, unexpected = model.load_state_dict(state, strict=False)
    logging.getLogger("mgproto").info(
        "init from %s: %d tensors loaded, %d missing (e.g. %s), %d unexpected",
        path, len(state) - len(unexpected), len(missing), missing[:3], len(unexpected),
    )  # fmt: skip


def model_from_state(
    state: dict[str, Any], *, source: str = "<checkpoint>"
) -> tuple[Recognizer, ExperimentConfig]:
    """The model and config of an already loaded checkpoint (see :func:`load_checkpoint`)."""
    cfg = load_config_text(state["config"], source=source)
    model = model_from_config(cfg)
    check_finite(state["model"], source=source)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:  # torch lists every key, one per line
        first = (str(err).strip().splitlines() or [""])[-1].strip()
        raise CheckpointError(
            f"{source}: its weights do not fit the model of its own config ({first[:200]})"
        ) from None
    _warn_stream_definition(state, cfg, source)
    return model, cfg


def _warn_stream_definition(state: dict[str, Any], cfg: ExperimentConfig, source: str) -> None:
    """Version 1 computed ST-GCN++ bone streams on the graph's tree, and motion streams along the
    sampled clip with the score differenced; a model trained so now sees other inputs."""
    feature = cfg.model.gcn.feature
    if state.get("version", 1) >= 2 or cfg.model.arch != "stgcn" or feature == "joint":
        return
    from mgproto.data.layouts import get_layout
    from mgproto.models.graph import bone_parents, parents

    layout = get_layout(cfg.data.pose.layout)
    bones_moved = "bone" in feature and (bone_parents(layout) != parents(layout)).any()
    if bones_moved or "motion" in feature:
        logging.getLogger("mgproto").warning(
            "%s: trained by an earlier mgproto whose %s stream differs from the reference's "
            "(%s); its inputs now follow the reference, so retrain it for exact results",
            source, feature,
            "bone pairs" if bones_moved else "motion to the record's next frame",
        )  # fmt: skip


def check_finite(
    state: dict[str, Any],
    *,
    source: str,
    advice: str = "the run diverged, use an earlier checkpoint",
) -> None:
    """Raise :class:`CheckpointError` naming ``source`` if a weight tensor holds NaN or inf
    (a diverged run's weights: nothing evaluated, merged or trained from them means anything);
    ``advice`` ends the message."""
    bad = non_finite_tensors(state)
    if bad:
        raise CheckpointError(
            f"{source}: {len(bad)} weight tensors hold NaN or inf (first: {bad[0]}); {advice}"
        )


def non_finite_tensors(state: dict[str, torch.Tensor]) -> list[str]:
    """Names of floating-point tensors of a state dict that hold NaN or inf."""
    return [
        k
        for k, v in state.items()
        if torch.is_tensor(v) and v.is_floating_point() and not torch.isfinite(v).all()
    ]
