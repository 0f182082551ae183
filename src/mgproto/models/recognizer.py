"""The recognizer: backbone (one or two pathways) + per-stream heads -> a named ModelOutput.

Streams: ``rgb``, ``pose`` (the heatmap pathway, or a coordinate model), and ``coords``, a
coordinate TCN beside the pose pathway (``data.pose.representation = both``): two views of the
same skeletons, each with its own head, fused late like the two modalities.

Inputs are 5-D (B, C, T, H, W) in training, or 6-D (B, N, C, T, H, W) with N test clips/views:
clips are folded into the batch and each stream's probabilities are averaged over them
(``average_clips='prob'``), then fused across the modalities with the late-fusion weights.

Axis legend: B batch, N clips, C channels, T frames, H/W rows/columns, K classes, D embedding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from mgproto.config import ModelConfig
from mgproto.data.layouts import get_layout
from mgproto.models.coord_tcn import CoordTCN
from mgproto.models.graph import bone_parents, spatial_adjacency
from mgproto.models.heads import ModalityHead, late_fusion
from mgproto.models.presets import get_preset, pose_pathway_kwargs, rgb_pathway_kwargs
from mgproto.models.resnet3d import ResNet3dPathway, init_pathway
from mgproto.models.rgbpose import RGBPoseConv3D
from mgproto.models.stgcn import STGCN
from mgproto.models.swin import VideoSwin, swin_size

MODALITIES = ("rgb", "pose")
STREAMS = (*MODALITIES, "coords")  # coords: the coordinate stream beside the pose pathway


@dataclass
class ModelOutput:
    """What the model returns.

    Attributes:
        logits: stream -> (B * N, K) raw classifier outputs.
        probs: stream -> (B, K) softmax averaged over the N clips.
        scores: (B, K) late fusion of ``probs`` (weighted mean).
        features: stream -> (B * N, C * bins) pooled backbone features (bins:
            ``model.head_temporal_bins``, 1 = global average).
        embeddings: stream -> (B * N, D) prototype embeddings (empty without the PR module).
        semantic: stream -> (B * N, D) semantic embeddings (empty without the JSE loss).
        num_clips: N.
    """

    logits: dict[str, torch.Tensor]
    probs: dict[str, torch.Tensor]
    scores: torch.Tensor
    features: dict[str, torch.Tensor]
    embeddings: dict[str, torch.Tensor] = field(default_factory=dict)
    num_clips: int = 1
    semantic: dict[str, torch.Tensor] = field(default_factory=dict)


class Recognizer(nn.Module):
    """Single-stream (RGB SlowOnly or pose PoseConv3D) or two-stream RGBPoseConv3D recognizer.

    Args:
        backbone: ``RGBPoseConv3D`` (two modalities) or ``ResNet3dPathway`` (one).
        heads: stream name -> ModalityHead.
        late_fusion: stream name -> weight.
        pose_input: the batch key the ``pose`` stream reads (``heatmaps`` or ``coords``).
        coord_backbone: the ``coords`` stream's backbone (a coordinate model), or None.
    """

    def __init__(
        self,
        *,
        backbone: nn.Module,
        heads: dict[str, ModalityHead],
        late_fusion: dict[str, float],
        pose_input: str = "heatmaps",
        coord_backbone: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.coord_backbone = coord_backbone
        self.head = nn.ModuleDict(heads)
        self.streams = tuple(s for s in STREAMS if s in heads)
        if ("coords" in self.streams) != (coord_backbone is not None):
            raise ValueError("a coords head needs a coord_backbone, and the reverse")
        self.late_fusion_weights = {s: float(late_fusion[s]) for s in self.streams}
        self.pose_input = pose_input  # the batch key the pose stream reads

    def forward_features(
        self,
        imgs: torch.Tensor | None,
        heatmaps: torch.Tensor | None,
        coords: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """5-D inputs (coords: (B, M, T, V, 3)) -> stream -> backbone feature (B, C, T', H', W')
        (coordinate models: (B, D, T, 1, 1))."""
        feats = {}
        if self.coord_backbone is not None:
            feats["coords"] = self.coord_backbone(coords)
        if "rgb" in self.streams and "pose" in self.streams:
            feats["rgb"], feats["pose"] = self.backbone(imgs, heatmaps)
        else:
            first = self.streams[0]
            feats[first] = self.backbone(imgs if first == "rgb" else heatmaps)
        return feats

    def forward(
        self,
        imgs: torch.Tensor | None = None,
        heatmaps: torch.Tensor | None = None,
        coords: torch.Tensor | None = None,
    ) -> ModelOutput:
        """imgs (B[, N], 3, T_rgb, H, W) and/or heatmaps (B[, N], C, T_pose, h, w), and/or coords
        (B[, N], M, T_pose, V, 3) for a coordinate model or the coords stream."""
        given = {
            "rgb": imgs,
            "pose": coords if self.pose_input == "coords" else heatmaps,
            "coords": coords,
        }
        missing = [s for s in self.streams if given[s] is None]
        if missing:
            raise ValueError(f"this model needs {missing[0]!r} input ({self.streams})")
        first = given[self.streams[0]]
        clips = first.shape[1] if first.dim() == 6 else 1
        flat = {
            s: given[s].flatten(0, 1) if given[s].dim() == 6 else given[s] for s in self.streams
        }
        feats = self.forward_features(flat.get("rgb"), flat.get("pose"), flat.get("coords"))
        return self.forward_head(feats, clips)

    def forward_head(self, feats: dict[str, torch.Tensor], num_clips: int = 1) -> ModelOutput:
        """Backbone features (B * N rows) -> logits, clip-averaged probabilities, late fusion."""
        logits, pooled, embeddings, probs, semantic = {}, {}, {}, {}, {}
        for s in self.streams:
            logits[s], pooled[s], emb = self.head[s](feats[s])
            if emb is not None:
                embeddings[s] = emb
            sem = self.head[s].semantic(pooled[s])
            if sem is not None:
                semantic[s] = sem
            probs[s] = average_clips(logits[s].softmax(-1), num_clips)
        scores = late_fusion(probs, self.late_fusion_weights)
        return ModelOutput(logits, probs, scores, pooled, embeddings, num_clips, semantic)


def average_clips(x: torch.Tensor, num_clips: int) -> torch.Tensor:
    """(B * N, ...) per-clip rows -> (B, ...) their mean over the N clips of each sample
    (the reference's ``average_clips='prob'`` when ``x`` holds probabilities)."""
    return x.reshape(x.shape[0] // num_clips, num_clips, *x.shape[1:]).mean(1)


def build_model(
    cfg: ModelConfig,
    *,
    modalities: tuple[str, ...],
    num_classes: int,
    pose_channels: int,
    rgb_frames: int = 8,
    speed_ratio: int = 4,
    rgb_channels: int = 3,
    num_joints: int = 0,
    num_persons: int = 1,
    layout: str = "",
    semantic_dim: int = 0,
    xyz: bool = False,
    coord_stream: bool = False,
) -> Recognizer:
    """The recognizer for ``modalities`` from the typed model config.

    Args:
        pose_channels: heatmap channels (V joints and/or L limbs).
        rgb_frames: T_rgb (time tokens of the fusion module).
        speed_ratio: T_pose / T_rgb.
        rgb_channels: input channels of the RGB pathway (3, or 6 with frame differences).
        num_joints / num_persons: V and M of the coordinate input (``arch = tcn`` only).
        layout: the keypoint layout, whose graph ``arch = stgcn`` convolves over.
        semantic_dim: D of the class-name vectors of the semantic embedding loss (0 = off).
        xyz: the coordinate models read 3-D skeletons (x, y, z), not x, y, score.
        coord_stream: add a ``coords`` stream, a coordinate TCN (``model.tcn``) with its own
            head, beside the pose pathway (conv3d models, pose-only or two-stream;
            representation ``both``).
    """
    if cfg.arch == "tcn":
        return _build_tcn(cfg, num_classes=num_classes, num_joints=num_joints, persons=num_persons,
                          semantic_dim=semantic_dim, xyz=xyz)  # fmt: skip
    if cfg.arch == "stgcn":
        return _build_stgcn(cfg, num_classes=num_classes, layout=layout, semantic_dim=semantic_dim,
                            xyz=xyz)  # fmt: skip
    if cfg.arch == "swin":
        return _build_swin(cfg, num_classes=num_classes, in_channels=rgb_channels,
                           semantic_dim=semantic_dim)  # fmt: skip
    preset = get_preset(
        cfg.preset,
        pose_base=cfg.pose_base,
        pose_blocks=cfg.pose_blocks,
        rgb_base=cfg.rgb_base,
        rgb_blocks=cfg.rgb_blocks,
    )
    rgb_kw = {**rgb_pathway_kwargs(preset), "in_channels": rgb_channels}
    pose_kw = pose_pathway_kwargs(
        preset,
        pose_channels,
        temporal_strides=cfg.pose_temporal_strides,
        conv1_kernel_t=cfg.pose_conv1_kernel_t,
    )
    present = tuple(s for s in MODALITIES if s in modalities)
    if not present:
        raise ValueError(f"modalities must include rgb and/or pose, got {modalities}")
    if present == ("rgb", "pose"):
        if any(st != 1 for st in pose_kw["temporal_strides"][:2]):
            raise ValueError(
                "model.pose_temporal_strides: two streams exchange laterals after pose stages "
                f"1 and 2, so those strides must be 1 (got {pose_kw['temporal_strides']})"
            )
        fusion = None
        if cfg.fusion.enabled:
            f = cfg.fusion
            fusion = {
                "rgb_frames": rgb_frames,
                "attend_over": f.attend_over,
                "gate": f.gate,
                "heads": f.heads if f.attend_over == "time" else 1,
                "dropout": f.dropout,
                **({"hidden": f.hidden} if f.hidden else {}),
            }
        backbone: nn.Module = RGBPoseConv3D(
            rgb=rgb_kw,
            pose=pose_kw,
            speed_ratio=speed_ratio,
            fusion=fusion,
            fusion_lateral_source=cfg.fusion.lateral_source,
        )
        channels = dict(zip(present, backbone.out_channels))
    else:
        backbone = ResNet3dPathway(**(rgb_kw if present == ("rgb",) else pose_kw))
        init_pathway(backbone)
        channels = {present[0]: backbone.out_channels}
    weights = dict(zip(MODALITIES, cfg.late_fusion))
    coord_backbone = None
    if coord_stream:
        if "pose" not in present:
            raise ValueError(f"the coords stream goes beside a pose pathway, not {present}")
        coord_backbone = _coord_tcn(cfg, num_joints=num_joints, persons=num_persons)
        present = (*present, "coords")
        channels["coords"] = coord_backbone.out_channels
        weights["coords"] = cfg.tcn.late_fusion
    heads = {
        s: _head(cfg, s, in_channels=channels[s], num_classes=num_classes,
                 semantic_dim=semantic_dim)
        for s in present
    }  # fmt: skip
    return Recognizer(
        backbone=backbone, heads=heads, late_fusion=weights, coord_backbone=coord_backbone
    )


def _head(
    cfg: ModelConfig, stream: str, *, in_channels: int, num_classes: int, semantic_dim: int = 0
) -> ModalityHead:
    """The classification head of one stream, with the prototype branch when PR is on and the
    semantic embedding when the JSE loss is. The ``coords`` stream pools globally: its dilated
    convolutions already see the order of time (docs/recipes.md)."""
    pr = cfg.prototype
    rectify = pr.rectify_rgb if stream == "rgb" else pr.rectify_pose
    bins = 1 if stream == "coords" else cfg.head_temporal_bins[MODALITIES.index(stream)]
    coordinate = stream == "coords" or cfg.arch == "tcn"
    tcn_drop = cfg.tcn.head_dropout
    return ModalityHead(
        in_channels=in_channels,
        num_classes=num_classes,
        dropout=tcn_drop if coordinate and tcn_drop is not None else cfg.dropout,
        embed_dim=pr.embed_dim if pr.enabled else 0,
        rectify_weight=rectify if pr.enabled else 0.0,
        semantic_dim=semantic_dim,
        temporal_bins=bins,
        centre_memory=pr.enabled and pr.centres == "memory",
    )


def _build_tcn(
    cfg: ModelConfig, *, num_classes: int, num_joints: int, persons: int, semantic_dim: int = 0,
    xyz: bool = False,
) -> Recognizer:  # fmt: skip
    """The pose-only coordinate TCN with the standard head (and optional prototype branch)."""
    backbone = _coord_tcn(cfg, num_joints=num_joints, persons=persons, xyz=xyz)
    head = _head(cfg, "pose", in_channels=backbone.out_channels, num_classes=num_classes,
                 semantic_dim=semantic_dim)  # fmt: skip
    return Recognizer(
        backbone=backbone, heads={"pose": head}, late_fusion={"pose": 1.0}, pose_input="coords"
    )


def _coord_tcn(cfg: ModelConfig, *, num_joints: int, persons: int, xyz: bool = False) -> CoordTCN:
    """The coordinate TCN backbone of ``model.tcn``."""
    if num_joints < 1:
        raise ValueError("the tcn model needs the layout's number of joints")
    t = cfg.tcn
    return CoordTCN(num_joints=num_joints, num_persons=persons, xyz=xyz, width=t.width,
                    num_layers=t.num_layers, kernel=t.kernel, dropout=t.dropout)  # fmt: skip


def _build_stgcn(
    cfg: ModelConfig, *, num_classes: int, layout: str, semantic_dim: int = 0, xyz: bool = False
) -> Recognizer:
    """ST-GCN++ over the layout's graph with the standard head (GCNHead: pooled, no dropout by
    default in PYSKL; ``model.dropout`` applies)."""
    if not layout:
        raise ValueError("the stgcn model needs the keypoint layout (its graph)")
    skeleton = get_layout(layout)
    g = cfg.gcn
    backbone = STGCN(
        adjacency=spatial_adjacency(skeleton), parent=bone_parents(skeleton), feature=g.feature,
        xyz=xyz, base_channels=g.base_channels, num_stages=g.num_stages,
        inflate_stages=g.inflate_stages, down_stages=g.down_stages,
    )  # fmt: skip
    head = _head(cfg, "pose", in_channels=backbone.out_channels, num_classes=num_classes,
                 semantic_dim=semantic_dim)  # fmt: skip
    return Recognizer(
        backbone=backbone, heads={"pose": head}, late_fusion={"pose": 1.0}, pose_input="coords"
    )


def _build_swin(
    cfg: ModelConfig, *, num_classes: int, in_channels: int = 3, semantic_dim: int = 0
) -> Recognizer:
    """Video Swin on RGB with the standard head (MMAction2's swin recipes: I3DHead, average
    pooling, dropout 0.5, std-0.01 classifier)."""
    w = cfg.swin
    size = swin_size(w.arch, embed_dim=w.embed_dim, depths=w.depths, num_heads=w.num_heads)
    backbone = VideoSwin(
        size=size, in_channels=in_channels, patch_size=w.patch_size, window_size=w.window_size,
        drop_path=w.drop_path,
    )  # fmt: skip
    head = _head(cfg, "rgb", in_channels=backbone.out_channels, num_classes=num_classes,
                 semantic_dim=semantic_dim)  # fmt: skip
    return Recognizer(backbone=backbone, heads={"rgb": head}, late_fusion={"rgb": 1.0})
