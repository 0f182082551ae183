"""mgproto's side of the model parity checks against MMAction2 (docs/oracle.md).

The reference models are built by ``oracle_models.py``, run by the oracle's interpreter in its
own process; this module writes its spec, reads back the state dict and outputs, loads the
weights into our model with ``load_mmaction_weights`` and compares. It never imports mmaction.
Used by ``tests/models/test_parity_mmaction.py``, ``scripts/parity_rgbpose.py`` and
``benchmarks/model.py``; it lives in ``tools/`` so that tests never import ``benchmarks/``.

Kinds: ``rgbpose`` (two streams), ``pose`` (PoseConv3D), ``rgb`` (SlowOnly-R50).
Axis legend: N batch, C channels, T frames, H/W rows/columns, K classes.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from mgproto.config import ModelConfig
from mgproto.models import Recognizer, build_model
from mgproto.models.checkpoint_import import ImportReport, load_mmaction_weights, read_state_dict
from mgproto.models.presets import get_preset

HERE = Path(__file__).resolve().parent
ORACLE_SCRIPT = HERE / "oracle_models.py"
KINDS = {"rgbpose": ("rgb", "pose"), "rgb": ("rgb",), "pose": ("pose",)}
POSE_CHANNELS = 17  # COCO-17 joints
NUM_CLASSES = 32  # iMiGUE


def oracle_python() -> str | None:
    """The oracle interpreter from ``MGPROTO_ORACLE_PYTHON`` (None when unset)."""
    return os.environ.get("MGPROTO_ORACLE_PYTHON") or None


def preset_widths(preset: str) -> dict | None:
    """None for ``paper`` (the oracle then uses MMAction2's default sizes), else the widths."""
    if preset == "paper":
        return None
    p = get_preset(preset)
    return {"rgb_base": p.rgb_base, "rgb_blocks": list(p.rgb_blocks),
            "pose_base": p.pose_base, "pose_blocks": list(p.pose_blocks)}  # fmt: skip


def input_shapes(preset: str) -> dict[str, tuple[int, int, int, int]]:
    """Per-sample (C, T, H, W): the reference training size (RGB 224, heatmaps 56) for
    ``paper``; the test suite's size (RGB 64, heatmaps 16, same 4:1 ratio) for scaled presets."""
    rgb, pose = (224, 56) if preset == "paper" else (64, 16)
    return {"rgb": (3, 8, rgb, rgb), "pose": (POSE_CHANNELS, 32, pose, pose)}


def make_inputs(kind: str, preset: str, *, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random float32 inputs {stream: (N, C, T, H, W)}: normalised RGB ~ N(0, 1), heatmaps in
    [0, 1)."""
    rng = np.random.default_rng(seed)
    shapes = input_shapes(preset)
    out = {}
    for s in KINDS[kind]:
        shape = (batch, *shapes[s])
        x = rng.standard_normal(shape) if s == "rgb" else rng.uniform(0, 1, shape)
        out[s] = x.astype(np.float32)
    return out


def run_oracle(mode: str, spec: dict, *, oracle: str, workdir: Path) -> dict:
    """Run ``oracle_models.py MODE`` on ``spec`` in a fresh oracle process; its result dict."""
    spec_path, out_path = workdir / f"{mode}_spec.pkl", workdir / f"{mode}_out.pkl"
    spec_path.write_bytes(pickle.dumps(spec))
    proc = subprocess.run([oracle, str(ORACLE_SCRIPT), mode, str(spec_path), str(out_path)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"oracle {mode} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return pickle.loads(out_path.read_bytes())


def build_ours(kind: str, preset: str, *, num_classes: int = NUM_CLASSES) -> Recognizer:
    """Our plain recognizer (no fusion, no prototypes) of ``kind`` at ``preset``."""
    return build_model(ModelConfig(preset=preset), modalities=KINDS[kind],
                       num_classes=num_classes, pose_channels=POSE_CHANNELS)  # fmt: skip


def ours_outputs(
    model: Recognizer, inputs: dict[str, torch.Tensor], *, amp: bool = False
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Eval-mode backbone features {stream: (N, C, T', H', W')} and logits {stream: (N, K)};
    ``amp`` runs under bf16 autocast on the inputs' device."""
    model.eval()
    device = next(iter(inputs.values())).device
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        feats = model.forward_features(inputs.get("rgb"), inputs.get("pose"))
        logits = model(imgs=inputs.get("rgb"), heatmaps=inputs.get("pose")).logits
    return feats, logits


@dataclass
class Reference:
    """MMAction2's weights (its key names) and eval outputs for ``inputs``."""

    kind: str
    preset: str
    dtype: str
    inputs: dict[str, np.ndarray]  # stream -> (N, C, T, H, W) float32
    state: dict[str, torch.Tensor]
    outputs: dict  # oracle_models.export's result


@dataclass
class Parity:
    """One parity comparison: parameter counts, the import report and max |ours - theirs|."""

    kind: str
    preset: str
    dtype: str
    params_ours: int  # backbone parameters
    params_ref: int
    params_ours_total: int  # backbone + heads
    params_ref_total: int
    report: ImportReport
    diffs: dict[str, float] = field(default_factory=dict)  # "features.rgb" / "logits.pose" ...
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)


def export_reference(
    kind: str,
    preset: str,
    *,
    oracle: str,
    dtype: str = "float64",
    batch: int = 1,
    seed: int = 0,
    device: str = "cpu",
) -> Reference:
    """Seeded MMAction2 weights + its eval outputs on random inputs, from the oracle.

    Weights travel in float32 (as in a checkpoint, read back with ``read_state_dict``); the
    oracle runs in ``dtype`` on ``device``. It randomises BN affine parameters and statistics
    so that no bottleneck is an identity (zero-init residuals would hide its convs).
    """
    inputs = make_inputs(kind, preset, batch=batch, seed=seed)
    with tempfile.TemporaryDirectory(prefix="mgproto_parity_") as tmp:
        ckpt = Path(tmp) / "reference.pth"
        spec = {"kind": kind, "widths": preset_widths(preset), "pose_channels": POSE_CHANNELS,
                "num_classes": NUM_CLASSES, "seed": seed, "device": device, "dtype": dtype,
                "randomize_bn": True, "inputs": inputs, "checkpoint": str(ckpt)}  # fmt: skip
        outputs = run_oracle("export", spec, oracle=oracle, workdir=Path(tmp))
        state = read_state_dict(ckpt)
    return Reference(kind, preset, dtype, inputs, state, outputs)


def compare(
    ref: Reference,
    *,
    dtype: str | None = None,
    device: str = "cpu",
    amp: bool = False,
    channels_last: bool = False,
) -> Parity:
    """Import ``ref``'s weights into our model, run it on the same inputs, compare.

    Args:
        dtype: our compute dtype (default: the reference's).
        amp / channels_last: run ours under bf16 autocast / in channels-last-3D memory format.
    """
    dtype = dtype or ref.dtype
    torch_dtype = getattr(torch, dtype)
    model = build_ours(ref.kind, ref.preset)
    report = load_mmaction_weights(model, ref.state, modalities=model.streams)
    model.to(torch.device(device), torch_dtype)
    x = {s: torch.from_numpy(a).to(device, torch_dtype) for s, a in ref.inputs.items()}
    if channels_last:
        model.to(memory_format=torch.channels_last_3d)
        x = {s: t.contiguous(memory_format=torch.channels_last_3d) for s, t in x.items()}
    feats, logits = ours_outputs(model, x, amp=amp)
    result = Parity(
        kind=ref.kind, preset=ref.preset, dtype=dtype + (" bf16-amp" if amp else ""),
        params_ours=sum(p.numel() for p in model.backbone.parameters()),
        params_ref=int(ref.outputs["param_count_backbone"]),
        params_ours_total=sum(p.numel() for p in model.parameters()),
        params_ref_total=int(ref.outputs["param_count_total"]), report=report,
    )  # fmt: skip
    for name, ours_d in (("features", feats), ("logits", logits)):
        for s in KINDS[ref.kind]:
            mine, theirs = ours_d[s].double().cpu().numpy(), ref.outputs[name][s]
            if mine.shape != theirs.shape:
                raise AssertionError(f"{name}.{s}: ours {mine.shape} vs MMAction2 {theirs.shape}")
            result.diffs[f"{name}.{s}"] = float(np.abs(mine - theirs).max())
            result.shapes[f"{name}.{s}"] = tuple(mine.shape)
    return result


def check_parity(kind: str, preset: str, *, oracle: str, dtype: str = "float64",
                 batch: int = 1, seed: int = 0, device: str = "cpu") -> Parity:  # fmt: skip
    """:func:`export_reference` then :func:`compare` in the same dtype on the same device."""
    ref = export_reference(kind, preset, oracle=oracle, dtype=dtype, batch=batch, seed=seed,
                           device=device)  # fmt: skip
    return compare(ref, device=device)


def format_table(rows: list[Parity]) -> str:
    """A plain-text table of parity results."""
    head = (f"{'model':<9}{'preset':<7}{'dtype':<9}{'params ours':>13}{'params ref':>12}"
            f"{'import':>8}  max|ours - MMAction2|")  # fmt: skip
    lines = [head, "-" * len(head)]
    for r in rows:
        ok = not (r.report.missing or r.report.unexpected or r.report.shape_mismatch)
        diffs = ", ".join(f"{k} {v:.1e}" for k, v in r.diffs.items())
        lines.append(f"{r.kind:<9}{r.preset:<7}{r.dtype:<9}{r.params_ours:>13,}{r.params_ref:>12,}"
                     f"{'clean' if ok else 'KEYS!':>8}  {diffs}")  # fmt: skip
    return "\n".join(lines)


def check_stgcn_parity(*, oracle: str, dtype: str = "float64", batch: int = 2, frames: int = 24,
                       seed: int = 0) -> Parity:  # fmt: skip
    """ST-GCN++ on COCO-17 (PYSKL / MMAction2 ``stgcn++`` joint model): MMAction2's seeded
    weights imported into ours, same coordinates in, features and logits compared."""
    from mgproto.build import model_from_config
    from mgproto.config import load_config

    rng = np.random.default_rng(seed)
    coords = rng.standard_normal((batch, 1, frames, 17, 3)).astype(np.float32)  # (N, M, T, V, C)
    with tempfile.TemporaryDirectory(prefix="mgproto_parity_") as tmp:
        ckpt = Path(tmp) / "reference.pth"
        spec = {"kind": "stgcn", "num_classes": NUM_CLASSES, "seed": seed, "dtype": dtype,
                "randomize_bn": True, "inputs": {"pose": coords}, "checkpoint": str(ckpt),
                "pose_channels": 3}  # fmt: skip
        outputs = run_oracle("export", spec, oracle=oracle, workdir=Path(tmp))
        state = read_state_dict(ckpt)
    cfg = load_config(None, ["data.modalities=[pose]", "data.pose.representation=coords",
                             "model.arch=stgcn", "data.pose.layout=coco17",
                             f"data.num_classes={NUM_CLASSES}"])  # fmt: skip
    model = model_from_config(cfg)
    report = load_mmaction_weights(model, state, modalities=model.streams)
    torch_dtype = getattr(torch, dtype)
    model.to(torch_dtype).eval()
    x = torch.from_numpy(coords).to(torch_dtype)
    with torch.no_grad():
        feat = model.forward_features(None, x)["pose"].permute(0, 4, 1, 2, 3)  # -> (N, M, C, T, V)
        logits = model(coords=x).logits["pose"]
    mine = {"features": feat, "logits": logits}
    return _one_stream_parity("stgcn++", "pyskl", dtype, model, report, outputs, "pose", mine)


# mgproto layout -> the reference's name for it, and whether its third channel is z
FEATURE_LAYOUTS = {"coco17": ("coco", False), "openpose18": ("openpose", False),
                   "kinect25": ("nturgb+d", True)}  # fmt: skip
FEATURE_NAMES = {"j": "joint", "b": "bone", "jm": "joint_motion", "bm": "bone_motion"}


def check_skeleton_features(*, oracle: str, layout: str, persons: int = 2, frames: int = 12,
                            seed: int = 0) -> dict[str, float]:  # fmt: skip
    """max |ours - MMAction2| of each ST-GCN++ input stream, in float64, on raw keypoints.

    The keypoints are multiples of 1/64 and the scores of 1/16, so that the reference's float32
    results are exact and any difference is a difference of definition.
    """
    from mgproto.data.layouts import get_layout
    from mgproto.models.graph import bone_parents
    from mgproto.models.stgcn import skeleton_features

    dataset, xyz = FEATURE_LAYOUTS[layout]
    v = get_layout(layout).num_joints
    rng = np.random.default_rng(seed)
    keypoint = rng.integers(-4096, 4096, (persons, frames, v, 3)) / 64.0  # (M, T, V, 3)
    if not xyz:
        keypoint[..., 2] = rng.integers(0, 17, (persons, frames, v)) / 16.0  # scores in [0, 1]
    spec = {"dataset": dataset, "keypoint": keypoint[..., : 3 if xyz else 2]}
    if not xyz:
        spec["keypoint_score"] = keypoint[..., 2]
    with tempfile.TemporaryDirectory(prefix="mgproto_features_") as tmp:
        theirs = run_oracle("features", spec, oracle=oracle, workdir=Path(tmp))
    parent = torch.as_tensor(bone_parents(get_layout(layout)))
    coords = torch.from_numpy(keypoint)[None]  # (1, M, T, V, 3) float64
    diffs = {}
    for feat, name in FEATURE_NAMES.items():
        ours = skeleton_features(coords, parent, name, xyz=xyz)[0].numpy()
        if ours.shape != theirs[feat].shape:
            raise AssertionError(f"{name}: ours {ours.shape} vs MMAction2 {theirs[feat].shape}")
        diffs[name] = float(np.abs(ours - theirs[feat].astype(np.float64)).max())
    return diffs


def _one_stream_parity(kind: str, preset: str, dtype: str, model: torch.nn.Module, report,
                       outputs: dict, stream: str, mine: dict) -> Parity:  # fmt: skip
    """Parameter counts and max |ours - MMAction2| of one stream's features and logits."""
    result = Parity(
        kind=kind, preset=preset, dtype=dtype,
        params_ours=sum(p.numel() for p in model.backbone.parameters()),
        params_ref=int(outputs["param_count_backbone"]),
        params_ours_total=sum(p.numel() for p in model.parameters()),
        params_ref_total=int(outputs["param_count_total"]), report=report,
    )  # fmt: skip
    for name, ours in mine.items():
        theirs = outputs[name][stream]
        ours = ours.double().numpy()
        if ours.shape != theirs.shape:
            raise AssertionError(f"{name}: ours {ours.shape} vs MMAction2 {theirs.shape}")
        result.diffs[f"{name}.{stream}"] = float(np.abs(ours - theirs).max())
        result.shapes[f"{name}.{stream}"] = tuple(ours.shape)
    return result


SWIN_TINY_TEST = {"embed_dims": 24, "depths": [2, 2, 2, 2], "num_heads": [1, 2, 4, 8]}


def check_swin_parity(*, oracle: str, arch: str | dict = "tiny", dtype: str = "float64",
                      batch: int = 1, frames: int = 8, size: int = 64, window=(8, 7, 7),
                      seed: int = 0) -> Parity:  # fmt: skip
    """Video Swin: MMAction2's SwinTransformer3D + I3DHead with seeded weights (random LayerNorm
    affine) imported into ours, the same clip in, features and logits compared. ``arch`` is a
    variant name or a dict of widths (the test's small one by default in the tests)."""
    from mgproto.build import model_from_config
    from mgproto.config import load_config

    rng = np.random.default_rng(seed)
    clip = rng.standard_normal((batch, 3, frames, size, size)).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="mgproto_parity_") as tmp:
        ckpt = Path(tmp) / "reference.pth"
        spec = {"kind": "swin", "num_classes": NUM_CLASSES, "seed": seed, "dtype": dtype,
                "randomize_bn": True, "inputs": {"rgb": clip}, "checkpoint": str(ckpt),
                "pose_channels": 0, "swin": {"arch": arch, "patch_size": (2, 4, 4),
                                             "window_size": tuple(window)}}  # fmt: skip
        outputs = run_oracle("export", spec, oracle=oracle, workdir=Path(tmp))
        state = read_state_dict(ckpt)
    sets = ["data.modalities=[rgb]", "model.arch=swin", f"data.num_classes={NUM_CLASSES}",
            f"model.swin.window_size=[{window[0]},{window[1]},{window[2]}]"]  # fmt: skip
    if isinstance(arch, dict):
        sets += ["model.swin.arch=tiny", f"model.swin.embed_dim={arch['embed_dims']}",
                 f"model.swin.depths={list(arch['depths'])}",
                 f"model.swin.num_heads={list(arch['num_heads'])}"]  # fmt: skip
    else:
        sets.append(f"model.swin.arch={arch}")
    model = model_from_config(load_config(None, sets))
    report = load_mmaction_weights(model, state, modalities=model.streams)
    torch_dtype = getattr(torch, dtype)
    model.to(torch_dtype).eval()
    x = torch.from_numpy(clip).to(torch_dtype)
    with torch.no_grad():
        feat = model.forward_features(x, None)["rgb"]
        logits = model(imgs=x).logits["rgb"]
    preset = arch if isinstance(arch, str) else "test"
    mine = {"features": feat, "logits": logits}
    return _one_stream_parity("swin", preset, dtype, model, report, outputs, "rgb", mine)
