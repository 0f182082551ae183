"""Build MMAction2's reference models and export or time them (executed by the oracle's Python).

Usage: ORACLE_PYTHON tools/oracle_models.py {export,bench,features} SPEC.pkl OUT.pkl

The spec pickle is a dict:

- ``kind``: ``rgbpose`` (RGBPoseConv3D + RGBPoseHead), ``pose`` (PoseConv3D: ResNet3dSlowOnly
  on heatmaps + I3DHead), ``rgb`` (SlowOnly-R50 + I3DHead) or ``stgcn`` (ST-GCN++: STGCN with
  the COCO graph, ``gcn_adaptive='init'``, ``gcn_with_res``, ``mstcn``, + GCNHead; input
  ``pose`` (N, M, T, V, C)) or ``swin`` (SwinTransformer3D + I3DHead on ``rgb``; ``swin`` in
  the spec: ``arch`` (a name or {embed_dims, depths, num_heads}), ``patch_size``,
  ``window_size``).
- ``widths``: None for the reference sizes (RGBPoseConv3D's default arguments), or a dict with
  ``rgb_base``, ``rgb_blocks``, ``pose_base``, ``pose_blocks`` (mgproto's scaled presets).
- ``pose_channels``, ``num_classes``, ``seed``, ``device`` (``cpu`` / ``cuda``).
- export: ``inputs`` {stream: float32 array (N, C, T, H, W)}, ``checkpoint`` (path the state
  dict is saved to, MMAction2 key names), ``dtype`` (``float32`` / ``float64``) and
  ``randomize_bn`` (random BN affine and statistics after the init; otherwise zero-init
  residuals make every bottleneck an identity and its convs invisible to a parity check).
- bench: ``batch``, ``shapes`` {stream: (C, T, H, W)}, ``warmup``, ``min_steps``,
  ``max_steps``, ``seconds`` and optionally ``cpu_memory`` (``step_timer.time_steps``).

export writes {param_count_backbone, param_count_total, features {stream: (N, C, T', H', W')},
logits {stream: (N, K)}} computed in eval mode; bench writes {clips_per_s, steps, seconds,
peak_mb, baseline_mb, memory} for forward + backward of the summed cross-entropy in train mode
(CPU: growth of the peak RSS over the post-build baseline; CUDA: torch.cuda.max_memory_allocated).
features: ``dataset`` (``coco``, ``openpose`` or ``nturgb+d``), ``keypoint`` (M, T, V, C) and
optionally ``keypoint_score`` (M, T, V); writes {feat: (M, T, V, C')} for the ST-GCN++ input
streams ``j``, ``b``, ``jm``, ``bm`` as the reference's ``GenSkeFeat`` computes them.
This file imports MMAction2 only; it is never imported by mgproto.
"""

import copy
import inspect
import pickle
import sys
import warnings

import torch
import torch.nn.functional as F
from step_timer import time_steps
from torch import nn

warnings.filterwarnings("ignore", message="Fail to import")  # mmcv-lite lacks the CUDA ops
from mmaction.models.backbones import (  # noqa: E402
    STGCN,
    ResNet3dSlowOnly,
    RGBPoseConv3D,
    SwinTransformer3D,
)
from mmaction.models.heads import GCNHead, I3DHead, RGBPoseHead  # noqa: E402

STREAMS = ("rgb", "pose")


def _pathway_defaults(name: str) -> dict:
    """A fresh copy of RGBPoseConv3D's default ``rgb_pathway`` / ``pose_pathway`` argument."""
    default = inspect.signature(RGBPoseConv3D.__init__).parameters[name].default
    return {k: v for k, v in copy.deepcopy(default).items()
            if k not in ("speed_ratio", "channel_ratio")}  # fmt: skip


def _single_kwargs(kind: str, widths: dict | None, pose_channels: int) -> dict:
    """ResNet3dSlowOnly arguments: PoseConv3D (reference-spec 1.8, temporal strides (1, 1, 1))
    for ``pose``, SlowOnly-R50 for ``rgb``."""
    if kind == "pose":
        kw = {"in_channels": pose_channels, "base_channels": 32, "num_stages": 3,
              "out_indices": (2,), "stage_blocks": (4, 6, 3), "conv1_kernel": (1, 7, 7),
              "conv1_stride_s": 1, "pool1_stride_s": 1, "inflate": (0, 1, 1),
              "spatial_strides": (2, 2, 2), "temporal_strides": (1, 1, 1),
              "dilations": (1, 1, 1), "with_pool2": False}  # fmt: skip
        if widths:
            kw.update(base_channels=widths["pose_base"], stage_blocks=tuple(widths["pose_blocks"]))
        return kw
    kw = {"depth": 50, "lateral": False, "conv1_kernel": (1, 7, 7), "conv1_stride_t": 1,
          "pool1_stride_t": 1, "inflate": (0, 0, 1, 1), "norm_eval": False}  # fmt: skip
    if widths:
        kw.update(base_channels=widths["rgb_base"], stage_blocks=tuple(widths["rgb_blocks"]))
    return kw


def build(spec: dict) -> tuple[nn.Module, nn.Module]:
    """(backbone, head), both initialised with MMAction2's own ``init_weights``."""
    torch.manual_seed(spec["seed"])
    kind, widths, classes = spec["kind"], spec.get("widths"), spec["num_classes"]
    if kind == "rgbpose":
        if widths is None and spec["pose_channels"] == 17:
            backbone = RGBPoseConv3D()  # the reference: default arguments
        else:
            rgb, pose = _pathway_defaults("rgb_pathway"), _pathway_defaults("pose_pathway")
            pose["in_channels"] = spec["pose_channels"]
            if widths:
                rgb.update(
                    base_channels=widths["rgb_base"], stage_blocks=tuple(widths["rgb_blocks"])
                )
                pose.update(base_channels=widths["pose_base"],
                            stage_blocks=tuple(widths["pose_blocks"]))  # fmt: skip
            backbone = RGBPoseConv3D(rgb_pathway=rgb, pose_pathway=pose)
        channels = [
            backbone.rgb_path.base_channels * 2 ** (backbone.rgb_path.num_stages - 1) * 4,
            backbone.pose_path.base_channels * 2 ** (backbone.pose_path.num_stages - 1) * 4,
        ]
        head = RGBPoseHead(num_classes=classes, in_channels=channels, dropout=0.5)
    elif kind == "stgcn":
        backbone = STGCN(graph_cfg={"layout": "coco", "mode": "spatial"}, gcn_adaptive="init",
                         gcn_with_res=True, tcn_type="mstcn")  # fmt: skip
        head = GCNHead(num_classes=classes, in_channels=256)
    elif kind == "swin":
        sw = spec["swin"]
        backbone = SwinTransformer3D(arch=sw["arch"], pretrained=None, pretrained2d=False,
                                     patch_size=tuple(sw["patch_size"]),
                                     window_size=tuple(sw["window_size"]),
                                     drop_path_rate=0.1, patch_norm=True)  # fmt: skip
        head = I3DHead(num_classes=classes, in_channels=backbone.num_features[-1],
                       dropout_ratio=0.5)  # fmt: skip
    elif kind in STREAMS:
        backbone = ResNet3dSlowOnly(**_single_kwargs(kind, widths, spec["pose_channels"]))
        channels = backbone.base_channels * 2 ** (backbone.num_stages - 1) * 4
        head = I3DHead(num_classes=classes, in_channels=channels, dropout_ratio=0.5)
    else:
        raise ValueError(f"kind must be rgbpose, rgb or pose, got {kind!r}")
    backbone.init_weights()
    head.init_weights()
    return backbone, head


def forward(kind: str, backbone: nn.Module, head: nn.Module, inputs: dict) -> tuple[dict, dict]:
    """inputs {stream: (N, C, T, H, W)} -> features {stream: 5-D}, logits {stream: (N, K)}."""
    if kind == "rgbpose":
        x_rgb, x_pose = backbone(inputs["rgb"], inputs["pose"])
        return {"rgb": x_rgb, "pose": x_pose}, head((x_rgb, x_pose))
    if kind == "stgcn":
        feat = backbone(inputs["pose"])  # (N, M, C, T', V)
        return {"pose": feat}, {"pose": head(feat)}
    if kind == "swin":
        feat = backbone(inputs["rgb"])  # (N, C, T', H', W')
        return {"rgb": feat}, {"rgb": head(feat)}
    feat = backbone(inputs[kind])
    return {kind: feat}, {kind: head(feat)}


def randomize_bn(module: nn.Module, seed: int) -> None:
    """Random BN affine parameters and running statistics, so every conv shows in the output."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.LayerNorm):  # Video Swin: LN affine would be 1 / 0
                c = m.normalized_shape[0]
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)


def export(spec: dict) -> dict:
    """Seeded reference weights (saved) and eval-mode outputs for the given inputs."""
    backbone, head = build(spec)
    if spec.get("randomize_bn", True):
        randomize_bn(backbone, spec["seed"] + 1)
    state = {f"backbone.{k}": v for k, v in backbone.state_dict().items()}
    state.update({f"cls_head.{k}": v for k, v in head.state_dict().items()})
    torch.save({"state_dict": state}, spec["checkpoint"])
    dtype = getattr(torch, spec.get("dtype", "float32"))
    device = torch.device(spec.get("device", "cpu"))
    backbone.to(device, dtype).eval()
    head.to(device, dtype).eval()
    inputs = {s: torch.from_numpy(a).to(device, dtype) for s, a in spec["inputs"].items()}
    with torch.no_grad():
        feats, logits = forward(spec["kind"], backbone, head, inputs)
    return {
        "param_count_backbone": sum(p.numel() for p in backbone.parameters()),
        "param_count_total": sum(p.numel() for m in (backbone, head) for p in m.parameters()),
        "features": {s: f.double().cpu().numpy() for s, f in feats.items()},
        "logits": {s: x.double().cpu().numpy() for s, x in logits.items()},
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }


def bench(spec: dict) -> dict:
    """Forward + backward clips/s and peak memory in train mode on random inputs."""
    device = torch.device(spec.get("device", "cpu"))
    backbone, head = build(spec)
    backbone.to(device).train()
    head.to(device).train()
    kind = spec["kind"]
    streams = {"rgbpose": ("rgb", "pose"), "stgcn": ("pose",), "swin": ("rgb",)}.get(kind, (kind,))
    n = spec["batch"]
    gen = torch.Generator().manual_seed(spec["seed"])
    inputs = {s: torch.randn(n, *spec["shapes"][s], generator=gen).to(device) for s in streams}
    labels = torch.randint(0, spec["num_classes"], (n,), generator=gen).to(device)
    params = [p for m in (backbone, head) for p in m.parameters()]

    def step() -> None:
        for p in params:
            p.grad = None
        _, logits = forward(spec["kind"], backbone, head, inputs)
        loss = sum(F.cross_entropy(logits[s], labels) for s in streams)
        loss.backward()

    return time_steps(step, device=device, spec=spec, clips=n)


def features(spec: dict) -> dict:
    """The four ST-GCN++ input streams of ``spec['keypoint']`` (reference ``GenSkeFeat``)."""
    from mmaction.datasets.transforms import GenSkeFeat

    out = {}
    for feat in ("j", "b", "jm", "bm"):
        results = {"keypoint": spec["keypoint"].copy()}
        if "keypoint_score" in spec:
            results["keypoint_score"] = spec["keypoint_score"].copy()
        out[feat] = GenSkeFeat(dataset=spec["dataset"], feats=[feat])(results)["keypoint"]
    return out


def main() -> None:
    modes = {"export": export, "bench": bench, "features": features}
    if len(sys.argv) != 4 or sys.argv[1] not in modes:
        sys.exit("usage: oracle_models.py {export,bench,features} SPEC.pkl OUT.pkl")
    mode, spec_path, out_path = sys.argv[1:]
    with open(spec_path, "rb") as f:
        spec = pickle.load(f)
    if spec.get("device", "cpu") == "cuda" and not torch.cuda.is_available():
        sys.exit(f"{sys.executable}: this torch ({torch.__version__}) cannot use CUDA; "
                 "install a CUDA build of torch in the oracle environment")  # fmt: skip
    result = modes[mode](spec)
    with open(out_path, "wb") as f:
        pickle.dump(result, f)


if __name__ == "__main__":
    main()
