"""The paper's "fuse the best unimodal weights as the initial weights" step.

Take an RGB-only and a pose-only checkpoint, place their backbones at ``backbone.rgb_path`` /
``backbone.pose_path`` and their classifiers at ``head.rgb`` / ``head.pose`` of the two-stream
model, and zero-pad along the input channels the tensors that receive lateral channels (the
first conv and downsample of the stages after a lateral point: 8 tensors in the reference), so
the merged model initially computes exactly what the two single-stream models compute. The
laterals (and fusion / prototype modules) keep their fresh initialisation, as in MMAction2's
``merge_pretrain`` notebook.

A two-stream model with a coordinate stream (``data.pose.representation: both``) takes that
stream (``coord_backbone.*``, ``head.coords.fc.*``) from the pose checkpoint, which must then
have one too (the CPU pose recipe's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class MergeReport:
    copied: int = 0
    padded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)  # pathway / classifier tensors not filled
    num_required: int = 0  # pathway and classifier tensors (laterals / fusion start fresh)

    @property
    def coverage(self) -> float:
        """Share of the two pathways' and classifiers' tensors filled from the two inputs."""
        return 1.0 - len(self.uncovered) / max(self.num_required, 1)

    def summary(self) -> str:
        lines = [
            f"copied {self.copied} tensors, zero-padded {len(self.padded)} "
            f"(lateral inputs): {', '.join(self.padded)}",
            f"pathways and classifiers: {self.num_required - len(self.uncovered)} of "
            f"{self.num_required} tensors filled ({self.coverage:.0%} coverage)",
        ]
        if self.missing:
            lines.append(
                f"kept their init ({len(self.missing)}): "
                + ", ".join(sorted({k.rsplit(".", 2)[0] for k in self.missing})[:12])
            )
        if self.unused:
            lines.append(f"unused ({len(self.unused)}): {', '.join(self.unused[:8])}")
        return "\n".join(lines)


def single_stream_keys(state: dict[str, torch.Tensor], stream: str) -> dict[str, torch.Tensor]:
    """Keys of a single-stream state dict (ours or MMAction2's) -> two-stream names."""
    out = {}
    for key, value in state.items():
        if key.startswith("backbone."):
            out[f"backbone.{stream}_path." + key[len("backbone.") :]] = value
        elif key.startswith(f"head.{stream}.fc."):
            out[key] = value
        elif stream == "pose" and key.startswith(("coord_backbone.", "head.coords.fc.")):
            out[key] = value  # the coordinate stream beside the pose pathway
        elif key.startswith("cls_head.fc_cls."):  # MMAction2 / PYSKL I3DHead
            out[f"head.{stream}.fc." + key[len("cls_head.fc_cls.") :]] = value
    return out


def merge_unimodal(
    model: nn.Module, rgb: dict[str, torch.Tensor], pose: dict[str, torch.Tensor]
) -> MergeReport:
    """Load the two single-stream state dicts into the two-stream ``model`` (see module doc)."""
    target = model.state_dict()
    source = {**single_stream_keys(rgb, "rgb"), **single_stream_keys(pose, "pose")}
    report = MergeReport()
    merged = {}
    for key, value in source.items():
        if key not in target:
            report.unused.append(key)
            continue
        want = target[key]
        if value.shape != want.shape and key.startswith("head."):
            raise ValueError(
                f"{key}: the {key.split('.')[1]} run's head has shape {tuple(value.shape)}, the "
                f"two-stream model's {tuple(want.shape)}: give both the same data.num_classes "
                "and model.head_temporal_bins"
            )
        if value.shape != want.shape:  # only the laterals' extra input channels are padded
            fits = (
                value.dim() == want.dim()
                and value.dim() >= 2
                and value.shape[0] == want.shape[0]
                and value.shape[2:] == want.shape[2:]
                and value.shape[1] < want.shape[1]
            )
            if not fits:
                raise ValueError(
                    f"{key}: single-stream shape {tuple(value.shape)} does not fit "
                    f"the two-stream model's {tuple(want.shape)}"
                )
            pad = torch.zeros_like(want)
            pad[:, : value.shape[1]] = value
            value = pad
            report.padded.append(key)
        merged[key] = value
    model.load_state_dict(merged, strict=False)
    report.copied = len(merged)
    report.missing = [k for k in target if k not in merged]
    required = [k for k in target if _is_required(k)]
    report.num_required = len(required)
    report.uncovered = [k for k in required if k not in merged]
    return report


def _is_required(key: str) -> bool:
    """A tensor a single-stream checkpoint must provide: pathway (not lateral), coordinate
    stream or classifier."""
    pathway = (
        key.startswith(("backbone.rgb_path.", "backbone.pose_path.")) and "_lateral" not in key
    )
    coords = key.startswith(("coord_backbone.", "head.coords.fc."))
    return pathway or coords or key.startswith(("head.rgb.fc.", "head.pose.fc."))
