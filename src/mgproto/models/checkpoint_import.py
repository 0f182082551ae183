"""Import MMAction2 / PYSKL checkpoints of PoseConv3D, SlowOnly and RGBPoseConv3D (+ PCAN's
fusion modules) into our models.

Our module names follow MMCV's (``conv``/``bn`` children, ``layer{i}``, ``layer{i}_lateral``),
so backbone keys carry over unchanged; only the heads and the fusion modules are renamed:

=============================================  ==============================================
MMAction2 / PYSKL                              mgproto
=============================================  ==============================================
``cls_head.fc_rgb.*`` / ``cls_head.fc_pose.*``   ``head.rgb.fc.*`` / ``head.pose.fc.*``
``cls_head.fc_cls.*`` (single stream)           ``head.<stream>.fc.*``
``backbone.featuredifference2.*`` (PCAN)        ``backbone.fusions.0.*``
``backbone.featuredifference3.*``               ``backbone.fusions.1.*``
``...skt_cross_attn.*``                          ``...pose_cross_attn.*``
=============================================  ==============================================

Video Swin (``model.arch = swin``) is torchvision's module; MMAction2's ``SwinTransformer3D``
and torchvision's own weight files (``swin3d_t-7615ae03.pth``, ...) are renamed to it:

=============================================  ==============================================
MMAction2 1.x / torchvision file                mgproto
=============================================  ==============================================
``backbone.layers.{i}.blocks.{j}.*``            ``backbone.features.{2i}.{j}.*``
``backbone.layers.{i}.downsample.*``            ``backbone.features.{2i+1}.*``
``...mlp.fc1.*`` / ``...mlp.fc2.*``             ``...mlp.0.*`` / ``...mlp.3.*``
``backbone.norm3.*`` (the last stage's norm)    ``backbone.norm.*``
torchvision ``patch_embed|features|norm.*``     ``backbone.`` + the same name
torchvision ``head.*`` / MMAction2 ``cls_head.fc_cls.*``  ``head.rgb.fc.*``
=============================================  ==============================================

Files are read by :mod:`mgproto.models.foreign_checkpoint`: tensors weights-only, MMEngine
runner state (message hub, optimizer, schedulers) as inert stand-ins, never run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from mgproto.models.foreign_checkpoint import read_foreign_checkpoint

_HEAD = {"cls_head.fc_rgb.": "head.rgb.fc.", "cls_head.fc_pose.": "head.pose.fc."}
_FUSION = {
    "backbone.featuredifference2.": "backbone.fusions.0.",
    "backbone.featuredifference3.": "backbone.fusions.1.",
}


@dataclass
class ImportReport:
    """Keys that did not carry over, for the user to check."""

    loaded: int = 0
    missing: list[str] = field(default_factory=list)  # ours, not in the checkpoint
    unexpected: list[str] = field(default_factory=list)  # theirs, with no place in ours
    shape_mismatch: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        """Share of the model's tensors that came from the checkpoint."""
        return self.loaded / max(self.loaded + len(self.missing), 1)

    def summary(self) -> str:
        total = self.loaded + len(self.missing)
        lines = [f"loaded {self.loaded} of {total} tensors ({self.coverage:.0%} coverage)"]
        for name, keys in (
            ("missing (kept their init)", self.missing),
            ("unexpected (ignored)", self.unexpected),
            ("shape mismatch (ignored)", self.shape_mismatch),
        ):
            if keys:
                lines.append(
                    f"{name}: {len(keys)}: "
                    + ", ".join(keys[:8])
                    + (" ..." if len(keys) > 8 else "")
                )
        return "\n".join(lines)


def read_state_dict(path: str | Path, *, trust_file: bool = False) -> dict[str, torch.Tensor]:
    """The ``state_dict`` tensors of a checkpoint file (see :func:`read_foreign_checkpoint`)."""
    return read_foreign_checkpoint(path, trust_file=trust_file).state


_SWIN_BLOCK = re.compile(r"^backbone\.layers\.(\d+)\.blocks\.(\d+)\.")
_SWIN_MERGE = re.compile(r"^backbone\.layers\.(\d+)\.downsample\.")
_TORCHVISION_SWIN = ("patch_embed.", "features.", "norm.")


def is_swin_state(state: dict[str, torch.Tensor]) -> bool:
    """Whether ``state`` holds a Video Swin (MMAction2 1.x or torchvision file)."""
    return any(".relative_position_bias_table" in k for k in state)


def rename_swin_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """MMAction2 ``SwinTransformer3D`` / torchvision ``SwinTransformer3d`` keys -> ours."""
    out = {}
    for key, value in state.items():
        new = key.removeprefix("module.")
        if new.startswith(_TORCHVISION_SWIN):  # a torchvision file: no backbone prefix
            new = "backbone." + new
        elif new.startswith("head."):
            new = "head.rgb.fc." + new[len("head.") :]
        new = _SWIN_BLOCK.sub(lambda m: f"backbone.features.{2 * int(m[1])}.{m[2]}.", new)
        new = _SWIN_MERGE.sub(lambda m: f"backbone.features.{2 * int(m[1]) + 1}.", new)
        new = new.replace(".mlp.fc1.", ".mlp.0.").replace(".mlp.fc2.", ".mlp.3.")
        new = re.sub(r"^backbone\.norm\d+\.", "backbone.norm.", new)
        new = new.replace("cls_head.fc_cls.", "head.rgb.fc.")
        out[new] = value
    return out


def rename_mmaction_keys(
    state: dict[str, torch.Tensor], *, modalities: tuple[str, ...]
) -> dict[str, torch.Tensor]:
    """MMAction2 / PYSKL key names -> ours (see the module table)."""
    if is_swin_state(state):
        return rename_swin_keys(state)
    out = {}
    for key, value in state.items():
        new = key.removeprefix("module.")
        for src, dst in {**_HEAD, **_FUSION}.items():
            if new.startswith(src):
                new = dst + new[len(src) :]
        for single in ("cls_head.fc_cls.", "cls_head.fc."):  # I3DHead / GCNHead
            if new.startswith(single) and len(modalities) == 1:
                new = f"head.{modalities[0]}.fc." + new[len(single) :]
        new = new.replace(".skt_cross_attn.", ".pose_cross_attn.")
        out[new] = value
    return out


def load_mmaction_weights(
    model: nn.Module, state: dict[str, torch.Tensor], *, modalities: tuple[str, ...]
) -> ImportReport:
    """Copy the renamed tensors into ``model`` (non-strict) and report what did not fit."""
    ours = model.state_dict()
    renamed = rename_mmaction_keys(state, modalities=modalities)
    report = ImportReport()
    accepted = {}
    for key, value in renamed.items():
        if key not in ours:
            report.unexpected.append(key)
        elif ours[key].shape != value.shape:
            report.shape_mismatch.append(
                f"{key} {tuple(value.shape)} vs ours {tuple(ours[key].shape)}"
            )
        else:
            accepted[key] = value
    report.missing = [k for k in ours if k not in accepted]
    model.load_state_dict(accepted, strict=False)
    report.loaded = len(accepted)
    return report
