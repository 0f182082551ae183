"""The experiment schema: typed, frozen dataclasses holding every option and its default.

Each field carries its valid range in its annotation (``mgproto.schema``) and a comment saying
what it does and where its number comes from; ``docs/config.md`` is generated from these
comments (``mgproto config --reference``). YAML files hold only overrides (``config.files``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from mgproto.schema import (
    AnyFloat,
    Batch,
    Classes,
    Clips,
    ConfigError,
    Depth,
    Dropout,
    Epochs,
    Frames,
    NonNegFloat,
    NonNegInt,
    Persons,
    PosFloat,
    PosInt,
    Prob,
    Range,
    Seed,
    Share,
    Side,
    Width,
    WidthOrAuto,
    Workers,
)

Decay = Annotated[float, Range(ge=0, lt=1)]  # a moving-average factor: momentum, Adam's betas


@dataclass(frozen=True)
class PoseInputConfig:
    """How keypoints become pseudo-heatmaps (PoseConv3D's GeneratePoseTarget)."""

    layout: str = "coco17"  # keypoint layout name (see mgproto.data.layouts.LAYOUTS)
    representation: Literal["heatmaps", "coords", "both"] = "heatmaps"  # pseudo-heatmaps
    # (PoseConv3D), normalised joint coordinates (model.arch tcn / stgcn), or both: the conv3d
    # pose pathway reads the heatmaps and a TCN stream beside it the coordinates (fused late)
    max_persons: Persons = 1  # persons kept by the coordinate representation (heatmaps draw all)
    clip_len: Frames = 32  # pose frames per clip (RGBPoseConv3D: 32)
    with_joints: bool = True  # one heatmap channel per joint
    with_limbs: bool = False  # one heatmap channel per limb (PoseConv3D "limb" model)
    sigma: PosFloat = 0.6  # Gaussian width in heatmap pixels (PoseConv3D: 0.6; RGBPose: 0.7)
    use_score: bool = True  # heatmap amplitude / coords score channel = confidence (off: 1 / 0)
    train_size: Side = 56  # heatmap side after the training crop (PoseConv3D: 56)
    test_size: Side = 64  # heatmap side at test time, no crop (PoseConv3D: 64)
    pre_crop_size: Side = 64  # side the compacted box is resized to before the random crop
    area_range: tuple[Share, Share] = (0.56, 1.0)  # RandomResizedCrop area share
    aspect_ratio_range: tuple[PosFloat, PosFloat] = (0.75, 1.3333333333333333)  # RandomResizedCrop
    # aspect ratio range, drawn log-uniform
    compact_padding: NonNegFloat = 0.25  # PoseCompact: box grown by this share on each side
    compact_threshold: NonNegInt = 10  # PoseCompact: no crop if the box is smaller (pixels)
    flip_ratio: Prob = 0.5  # probability of a horizontal flip in training
    rotate: Annotated[float, Range(ge=0, le=180)] = 0.0  # training: turn the joints by an angle
    # drawn in +- this many degrees (data/augment.py; pose-only coordinates); 0 = off (reference)
    shear: Annotated[float, Range(ge=0, le=1)] = 0.0  # training: shear the joints, x += s * y
    # with s drawn in +- this (pose-only coordinates); 0 = off (reference)
    drop_joints: Dropout = 0.0  # training: each joint lost for the whole clip with this
    # probability (data/augment.py); 0 = off (reference)
    fill_gaps: NonNegInt = 0  # track clean-up before sampling (data/tracks.py): fill runs of
    # <= this many lost frames per joint; 0 = off (reference)
    normalize_3d: bool = True  # 3-D keypoints (x, y, z): PYSKL's PreNormalize3D first (centre on
    # the spine, hip->spine along z, shoulders along x; data/coords3d.py); off = raw coordinates
    keypoint_dims: Literal[2, 3] = 2  # coordinates per keypoint in the file: 2 = pixels with a
    # score (any 2-D pose estimator), 3 = x, y, z (Kinect, NTU 3-D); the coordinate models read
    # the third channel as a score or as z accordingly, and a file of the other kind is refused

    def __post_init__(self) -> None:
        for name in ("area_range", "aspect_ratio_range"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ConfigError(f"data.pose.{name}: [{lo}, {hi}] is not an interval (low > high)")


@dataclass(frozen=True)
class RGBInputConfig:
    """How video frames become the RGB input (RGBPoseConv3D's RGB pathway)."""

    clip_len: Frames = 8  # RGB frames per clip (RGBPoseConv3D: 8; Video Swin: 32)
    frame_interval: NonNegInt = 0  # 0 = uniform over the clip (RGBPoseConv3D); k > 0 = a dense
    # window of clip_len frames k apart (MMAction2 SampleFrames; Video Swin recipes: 32 x 2)
    pre_crop_size: Side = 256  # side after the compact box, before the random crop (ref: 256)
    train_size: Side = 224  # side after the training crop (ref: 224)
    test_size: Side = 256  # side at test time, no crop (ref: 256)
    mean: tuple[AnyFloat, AnyFloat, AnyFloat] = (
        123.675,
        116.28,
        103.53,
    )  # ImageNet, RGB order, 0-255
    std: tuple[PosFloat, PosFloat, PosFloat] = (58.395, 57.12, 57.375)  # ImageNet (the iMiGUE
    # configs set iMiGUE's mean and std)
    compact: bool = True  # crop frames to the keypoints' box first (MMCompact)
    frame_diff: bool = False  # add the temporal differences of the frames as 3 more input
    # channels (reference: off; see docs/recipes.md)
    keep_frames: bool = True  # with frame_diff: keep the frames too (6 channels) or feed the
    # differences alone (3 channels: no appearance at all)


@dataclass(frozen=True)
class SamplingConfig:
    """Uniform temporal sampling (PoseConv3D's UniformSampleFrames)."""

    num_clips_test: Clips = 10  # clips per sample at test time (PoseConv3D: 10)
    test_seed: Seed = 255  # test-mode sampling is deterministic with this seed (reference: 255)
    flip_test: bool = True  # add the mirrored view at test time (ref: pose-only yes, RGBPose no)
    short_clips: Literal["loop", "stretch"] = "loop"  # clips shorter than clip_len: loop from
    # a random start (reference) or repeat frames in order (docs/recipes.md: looping puts the
    # action's reverse into the clip)


@dataclass(frozen=True)
class DataConfig:
    """Where the data lives and how samples are built."""

    annotations: str = ""  # interchange file (.pkl or .npz); empty = the synthetic benchmark
    video_root: str = ""  # folder that records' `filename` is relative to ("" = the file's)
    video_mode: Literal["clips", "long"] = "clips"  # pre-cut <frame_dir>.mp4 clips, or cut
    # each clip from its long <video_id>.mp4 at the record's start_frame
    modalities: tuple[str, ...] = ("rgb", "pose")  # any non-empty subset of rgb, pose
    alignment: Literal["independent", "nested"] = "independent"  # see data/sampling.py
    num_classes: Classes = 32  # iMiGUE / MiGA: 31 micro-gestures + 1 non-MG class
    train_split: str = "train"  # the split trained on (a name inside the annotation file)
    val_split: str = "val"  # the split validated on each epoch, which picks best.pt; "" = no
    # validation (a name the file lacks too, with a warning), and no best.pt
    test_split: str = "test"  # the split `mgproto test` and `compare` evaluate (and `report`
    # where val_split is ""), unless --split names another
    pose: PoseInputConfig = field(default_factory=PoseInputConfig)
    rgb: RGBInputConfig = field(default_factory=RGBInputConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)

    def __post_init__(self) -> None:
        bad = [m for m in self.modalities if m not in ("rgb", "pose")]
        if not self.modalities or bad or len(set(self.modalities)) != len(self.modalities):
            raise ConfigError(
                f"data.modalities must be a non-empty subset of ['rgb', 'pose'], "
                f"got {list(self.modalities)}"
            )
        geometric = self.pose.rotate or self.pose.shear
        if geometric and (self.pose.representation != "coords" or "rgb" in self.modalities):
            raise ConfigError(
                "data.pose.rotate / data.pose.shear turn the joints, not the frames or heatmaps: "
                "they need data.modalities=[pose] and data.pose.representation=coords"
            )


@dataclass(frozen=True)
class FusionConfig:
    """Cross-modal fusion at the lateral points (paper section 2.2; PCAN's FeatureInteraction)."""

    enabled: bool = False  # off = the plain RGBPoseConv3D baseline
    attend_over: Literal["time", "channel"] = "time"  # PCAN: time tokens; paper: "channels"
    gate: Literal["raw", "sigmoid"] = "raw"  # x + a*x (PCAN) or x + sigmoid(a)*x
    lateral_source: Literal["unfused", "fused"] = "unfused"  # what laterals read (PCAN: unfused)
    heads: Width = 8  # attention heads over time tokens (PCAN: 8)
    hidden: WidthOrAuto = 0  # projection width; 0 = the pose channels at that point (PCAN)
    dropout: Dropout = 0.1  # dropout on the attention matrix (PCAN: 0.1)


@dataclass(frozen=True)
class PrototypeConfig:
    """Prototypical refinement (paper section 2.3; FR-Head's RenovateNet, reference-spec 4.3)."""

    enabled: bool = False  # off = cross-entropy only
    weight: NonNegFloat = 0.1  # loss = CE + weight * PR per stream (FR-Head: 0.1; PCAN: 0.2)
    embed_dim: Width = 256  # projection width h (PCAN fine level: 256)
    alpha: NonNegFloat = 0.125  # strength of the FN/FP correction, alpha * (1 - p) (FR-Head: 0.125)
    tau: PosFloat = 0.125  # temperature of the cosine logits (FR-Head: 0.125)
    momentum: Prob = 0.9  # EMA momentum rho of the prototypes (FR-Head: 0.9)
    detach_logits: bool = True  # FR-Head passes logits.detach(); PCAN does not
    centres: Literal["batch", "memory"] = "batch"  # FN / FP centres: of this batch only
    # (FR-Head), or an EMA over batches at `momentum` like the prototypes (ours: at small
    # batches most classes have no FN / FP in a batch, so the correction is mostly off)
    rectify_rgb: NonNegFloat = 0.0  # inference rectification weight (PCAN: 5.0 for RGB)
    rectify_pose: NonNegFloat = 0.0  # (PCAN: 1.0 for pose)


@dataclass(frozen=True)
class TCNConfig:
    """The temporal CNN on normalised joint coordinates (``model.arch = tcn``, the baseline)."""

    width: Width = 128  # channels of every temporal layer
    num_layers: Depth = 3  # residual temporal blocks, dilations 1, 2, 4, ...
    kernel: Frames = 5  # temporal kernel size (odd)
    dropout: Dropout = 0.1  # dropout inside the blocks
    head_dropout: Dropout | None = None  # before its classifier; None = model.dropout (0.5)
    late_fusion: NonNegFloat = 1.0  # its weight beside the pose pathway's (representation both)


@dataclass(frozen=True)
class GCNConfig:
    """ST-GCN++ on normalised joint coordinates (``model.arch = stgcn``; PYSKL stgcn++ configs)."""

    feature: Literal["joint", "bone", "joint_motion", "bone_motion"] = "joint"  # the input
    # stream, computed from the coordinates (PYSKL's j / b / jm / bm models)
    base_channels: Width = 64  # width of the first blocks (PYSKL: 64)
    num_stages: Depth = 10  # blocks (PYSKL: 10)
    inflate_stages: tuple[Depth, ...] = (5, 8)  # 1-based blocks that double the width
    down_stages: tuple[Depth, ...] = (5, 8)  # 1-based blocks with temporal stride 2


@dataclass(frozen=True)
class SemanticConfig:
    """The semantic embedding loss (HFUT-VUT MiGA'23 "JSE"): pooled feature -> class vector."""

    enabled: bool = False  # off = CE (and PR) only
    vectors: str = "imigue32_glove300"  # a bundled table (data/vectors) or a (K, D) .npy path
    weight: NonNegFloat = 20.0  # loss = CE + weight * MSE(emb_fc(feature), vectors[y]) (ref: 20)


@dataclass(frozen=True)
class SwinConfig:
    """Video Swin on RGB (``model.arch = swin``: torchvision ``swin3d_*``; MMAction2 swin)."""

    arch: Literal["tiny", "small", "base"] = "base"  # the paper's ensemble member: Swin-B
    embed_dim: WidthOrAuto = 0  # stage-1 width; 0 = the arch's (tiny / small 96, base 128)
    depths: tuple[Depth, ...] = ()  # blocks per stage; () = the arch's
    num_heads: tuple[Width, ...] = ()  # attention heads per stage; () = the arch's
    patch_size: tuple[Side, Side, Side] = (2, 4, 4)  # (t, h, w) patches (reference)
    window_size: tuple[Side, Side, Side] = (8, 7, 7)  # (t, h, w) windows (reference)
    drop_path: Prob = 0.3  # stochastic depth of the last block (MMAction2: tiny 0.1, base 0.3)


@dataclass(frozen=True)
class ModelConfig:
    """The network: backbone preset, heads, late fusion, fusion and prototype modules."""

    arch: Literal["conv3d", "tcn", "stgcn", "swin"] = "conv3d"  # conv3d = the PoseConv3D /
    # RGBPoseConv3D family (sized by preset); tcn = the coordinate baseline, stgcn = ST-GCN++
    # (both pose only, on data.pose.representation coords); swin = Video Swin (RGB only)
    preset: Literal["paper", "small", "tiny"] = "paper"  # paper = the reference sizes
    pose_base: WidthOrAuto = 0  # pose pathway stem width; 0 = the preset's (paper 32, small 8)
    pose_blocks: tuple[Depth, ...] = ()  # blocks per pose stage (3 values); () = the preset's
    pose_temporal_strides: tuple[Frames, ...] = ()  # per pose stage; () = (1, 1, 1) as
    # RGBPoseConv3D (PoseConv3D alone: (1, 1, 2)); two streams need 1 where laterals leave
    pose_conv1_kernel_t: Frames = 1  # temporal size of the pose stem kernel (reference: 1)
    rgb_base: WidthOrAuto = 0  # RGB pathway stem width; 0 = the preset's (paper 64, small 16)
    rgb_blocks: tuple[Depth, ...] = ()  # blocks per RGB stage (4 values); () = the preset's
    dropout: Dropout = 0.5  # head dropout (RGBPoseHead: 0.5)
    head_temporal_bins: tuple[Frames, Frames] = (1, 1)  # (rgb, pose): each head pools T into
    # this many equal spans and concatenates them, so the classifier sees the order of the clip
    # (docs/recipes.md); 1 = global average (the reference)
    late_fusion: tuple[NonNegFloat, NonNegFloat] = (1.0, 1.0)  # (rgb, pose) probability weights
    fusion: FusionConfig = field(default_factory=FusionConfig)
    prototype: PrototypeConfig = field(default_factory=PrototypeConfig)
    tcn: TCNConfig = field(default_factory=TCNConfig)
    gcn: GCNConfig = field(default_factory=GCNConfig)
    semantic: SemanticConfig = field(default_factory=SemanticConfig)
    swin: SwinConfig = field(default_factory=SwinConfig)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and the training loop (paper: SGD 0.0075, batch 10, 30 epochs, x0.1 at 8/22)."""

    epochs: Epochs = 30  # paper: 30
    batch_size: Batch = 10  # per process (paper: 10 on one GPU)
    grad_accum_steps: Batch = 1  # micro-batches per optimiser step (same maths as more GPUs)
    lr: PosFloat = 0.0075  # paper / RGBPoseConv3D config: 0.0075 at batch 10
    optimizer: Literal["sgd", "adamw"] = "sgd"  # paper: SGD; Video Swin recipes: AdamW
    momentum: Decay = 0.9  # SGD momentum (reference configs)
    betas: tuple[Decay, Decay] = (0.9, 0.999)  # AdamW betas (MMAction2 swin: 0.9, 0.999)
    no_decay_norm: bool = False  # no weight decay on norms, biases, position-bias tables
    # (MMAction2 swin paramwise_cfg: decay_mult 0 for norm / relative_position_bias_table)
    backbone_lr_mult: PosFloat = 1.0  # lr multiplier of the backbone (MMAction2 swin with
    # pre-trained weights: 0.1; the heads keep the base lr)
    weight_decay: NonNegFloat = 1e-4  # reference RGBPoseConv3D config
    nesterov: bool = False  # Nesterov momentum for SGD (PYSKL's ST-GCN++ recipes: on)
    schedule: Literal["multistep", "cosine"] = "multistep"  # paper: multistep; PoseConv3D
    # single-stream pre-training configs: cosine annealing to 0
    milestones: tuple[NonNegInt, ...] = (8, 22)  # paper: lr x0.1 at epochs 8 and 22
    gamma: PosFloat = 0.1  # lr factor at each milestone (paper: x0.1)
    warmup_epochs: NonNegFloat = 0.0  # linear warm-up (0 = none, as the paper)
    warmup_start: Prob = 0.0  # lr factor the warm-up starts from (MMAction2 swin LinearLR: 0.1)
    clip_grad: NonNegFloat = 40.0  # max L2 norm of the gradients (reference configs: 40)
    amp: bool = True  # mixed precision autocast on CUDA; ignored on CPU
    amp_dtype: Literal["bfloat16", "float16"] = "bfloat16"  # float16 (+ loss scaling) for GPUs
    # without bf16 (V100, T4)
    channels_last: bool = True  # channels-last 3D memory format on CUDA
    num_workers: Workers = 2  # DataLoader workers per process
    val_every: NonNegInt = 1  # validate every N epochs (0 = never)
    val_clips: Clips = 1  # test clips per sample during validation (reference val: 1)
    eval_train: bool = False  # also score the training split (test pipeline) at each
    # validation: learning curves that tell underfitting from overfitting
    checkpoint_every: NonNegInt = 0  # save a resumable checkpoint every N steps (0 = per epoch)
    max_nonfinite_steps: PosInt = 5  # steps in a row with a NaN / inf loss or gradient (never
    # applied) before training stops with an error (engine/guard.py)
    max_bad_share: Prob = 0.05  # stop with an error if more than this share of clips fail
    log_every: PosInt = 10  # steps between log lines / metrics.jsonl records
    tensorboard: bool = True  # write TensorBoard events when the package is installed
    deterministic: bool = False  # torch.use_deterministic_algorithms (slower on GPU)


@dataclass(frozen=True)
class ExperimentConfig:
    """The root of every experiment configuration."""

    name: str = "experiment"  # run name, used for the run directory
    seed: Seed = 0  # global seed (data order, augmentation, init)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        rep, arch, mods = self.data.pose.representation, self.model.arch, self.data.modalities
        if arch in ("tcn", "stgcn") and (mods != ("pose",) or rep != "coords"):
            raise ConfigError(f"model.arch {arch} is a pose-only coordinate model: it needs "
                              "data.modalities [pose] and data.pose.representation "
                              "coords")  # fmt: skip
        if arch == "swin" and mods != ("rgb",):
            raise ConfigError("model.arch swin is the RGB-only Video Swin: it needs "
                              "data.modalities [rgb]")  # fmt: skip
        if arch == "conv3d" and rep == "coords":
            raise ConfigError("data.pose.representation coords feeds the coordinate models "
                              "(model.arch tcn or stgcn); the conv3d family reads "
                              "heatmaps")  # fmt: skip
        if rep == "both" and (arch != "conv3d" or "pose" not in mods):
            raise ConfigError("data.pose.representation both adds a coordinate stream beside the "
                              "conv3d pose pathway: it needs model.arch conv3d and pose in "
                              "data.modalities")  # fmt: skip
