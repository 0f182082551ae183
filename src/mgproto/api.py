"""The Python API: load a trained model, classify skeleton clips and videos, train a run.

    import mgproto

    run = mgproto.train("configs/cpu/pose_tcn.yaml", overrides=["train.epochs=5"])
    clf = mgproto.load_classifier(run.run_dir)           # a run folder or a .pt file
    pred = clf.classify(keypoints=kp, scores=sc, img_shape=(480, 640))
    pred.label, pred.top(3)                              # class names, probabilities
    timeline = clf.predict_video("interview.mp4", pose="pose.pkl")

Each call does what a verb of the command line does, with the same code: :func:`train` is
``mgproto train``, :meth:`Classifier.classify_records` scores clips through the checkpoint's own
test pipeline as ``mgproto test`` does, and :meth:`Classifier.predict_video` is ``mgproto
predict`` without the files it writes. Importing this module does not import torch; each call
loads what it needs. Examples: docs/api.md.

Axis legend: M persons, T frames, V joints, K classes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

    from mgproto.config import ExperimentConfig
    from mgproto.engine.trainer import TrainResult
    from mgproto.infer.options import PredictOptions
    from mgproto.infer.predict import VideoPrediction
    from mgproto.models import Recognizer

__all__ = ["Classifier", "ClipPrediction", "load_classifier", "train"]


@dataclass(frozen=True, kw_only=True, eq=False)
class ClipPrediction:
    """The class probabilities of one clip.

    Attributes:
        frame_dir: the clip's id (its record's ``frame_dir``).
        class_names: K class names, in class-id order.
        probs: (K,) the fused probabilities (the model's late fusion of its streams); they sum
            to 1.
        stream_probs: stream (``rgb``, ``pose``, ``coords``) -> (K,) that stream's
            probabilities.
    """

    frame_dir: str
    class_names: list[str]
    probs: np.ndarray
    stream_probs: dict[str, np.ndarray]

    @property
    def label_id(self) -> int:
        """The most probable class id."""
        return int(np.argmax(self.probs))

    @property
    def label(self) -> str:
        """The most probable class name."""
        return self.class_names[self.label_id]

    @property
    def confidence(self) -> float:
        """The probability of :attr:`label`."""
        return float(self.probs[self.label_id])

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most probable classes as (name, probability), most probable first."""
        order = np.argsort(-self.probs, kind="stable")[:k]
        return [(self.class_names[i], float(self.probs[i])) for i in order]


@dataclass(frozen=True, kw_only=True, eq=False)
class Classifier:
    """A trained recognizer with its config and class names; make one with
    :func:`load_classifier`.

    Attributes:
        model: the recognizer, in eval mode on ``device``.
        cfg: the run's resolved config, as saved in the checkpoint.
        class_names: K names: the checkpoint's (those of the file it was trained on), else
            those of ``cfg.data.annotations``, else ``class k``.
        checkpoint: the checkpoint file it was loaded from.
        device: where the model runs.
    """

    model: Recognizer = field(repr=False)
    cfg: ExperimentConfig = field(repr=False)
    class_names: list[str]
    checkpoint: Path
    device: torch.device

    @property
    def layout(self) -> str:
        """The keypoint layout the model expects (``data.pose.layout``, e.g. ``coco17``)."""
        return self.cfg.data.pose.layout

    @property
    def modalities(self) -> tuple[str, ...]:
        """The inputs the model reads: ``("pose",)``, ``("rgb",)`` or ``("rgb", "pose")``."""
        return tuple(self.cfg.data.modalities)

    def classify(
        self,
        *,
        keypoints: np.ndarray | None = None,
        scores: np.ndarray | None = None,
        img_shape: tuple[int, int] | None = None,
        record: dict[str, Any] | None = None,
        video_root: str | Path | None = None,
        num_clips: int | None = None,
    ) -> ClipPrediction:
        """Classify one skeleton clip, given as arrays or as an annotation record.

        Args:
            keypoints: (M, T, V, 2) x, y in pixels (or (M, T, V, 3) x, y, z for a model
                trained on 3-D skeletons), V joints in the model's :attr:`layout`.
            scores: (M, T, V) joint confidences in [0, 1]; None: every finite joint counts.
            img_shape: (H, W) of the frames the pixel coordinates refer to (needed for 2-D).
            record: instead of the arrays, one record of the interchange format (a dict with
                ``frame_dir``, ``keypoint``, ``keypoint_score``, ``total_frames``,
                ``img_shape``; docs/data.md); an RGB model also reads its ``filename``.
            video_root: the folder a record's ``filename`` is relative to (RGB models; default
                the config's ``data.video_root``, else the current folder).
            num_clips: test clips sampled from the clip (default: the config's
                ``data.sampling.num_clips_test``); the model averages them.

        Returns:
            The clip's fused and per-stream probabilities over the K classes.

        Raises:
            ValueError: neither or both of ``keypoints`` and ``record`` are given, or the clip
                does not fit the model (joints, layout, coordinates, scores); the message says
                which (an ``AnnotationError`` for the record's content).
            SampleError: an RGB model cannot read the record's video (the message names it).
        """
        if (keypoints is None) == (record is None):
            raise ValueError(
                "classify: give either keypoints= (with scores=, img_shape=) or record="
            )
        if record is None:
            if "rgb" in self.modalities:
                raise ValueError(
                    f"{self.checkpoint}: the model reads RGB frames too "
                    f"(data.modalities {list(self.modalities)}); pass record= with the clip's "
                    "'filename' and video_root="
                )
            kp = np.asarray(keypoints)
            record = {
                "frame_dir": "clip",
                "keypoint": kp,
                "keypoint_score": scores,
                "total_frames": kp.shape[1] if kp.ndim == 4 else 0,
                **({"img_shape": tuple(img_shape)} if img_shape is not None else {}),
            }
        return self.classify_records([record], video_root=video_root, num_clips=num_clips)[0]

    def classify_records(
        self,
        records: Sequence[dict[str, Any]],
        *,
        video_root: str | Path | None = None,
        num_clips: int | None = None,
        batch_size: int | None = None,
    ) -> list[ClipPrediction]:
        """Classify several annotation records (see :meth:`classify`), in their order.

        Args:
            records: records of the interchange format, each with a distinct ``frame_dir``;
                their labels, if any, are ignored.
            video_root: the folder the records' ``filename`` is relative to (RGB models).
            num_clips: test clips per record (default: the config's).
            batch_size: records per forward pass (default: the config's ``train.batch_size``).

        Returns:
            One prediction per record.
        """
        from mgproto.build import evaluation_loader
        from mgproto.data.records import keypoint_dims
        from mgproto.engine.evaluate import predict

        checked = [self._checked(r, index=i) for i, r in enumerate(records)]
        if not checked:
            return []
        first: dict[str, int] = {}
        for i, rec in enumerate(checked):  # the scores are matched to records by frame_dir
            j = first.setdefault(rec["frame_dir"], i)
            if j != i:
                raise ValueError(
                    f"records {j} and {i} share the frame_dir {rec['frame_dir']!r}; give each "
                    "clip its own"
                )
        dims, want = keypoint_dims(checked), self.cfg.data.pose.keypoint_dims
        if dims != want:
            raise ValueError(
                f"the keypoints have {dims} coordinates per joint, but the model of "
                f"{self.checkpoint} was trained on {want} (data.pose.keypoint_dims)"
            )
        # one process: a worker pool would cost more than the few clips it loads
        cfg = dataclasses.replace(
            self.cfg, train=dataclasses.replace(self.cfg.train, num_workers=0)
        )
        root = Path(video_root or cfg.data.video_root or ".")
        loader = evaluation_loader(
            cfg, checked, root, num_clips=num_clips or cfg.data.sampling.num_clips_test,
            batch_size=batch_size,
        )  # fmt: skip
        import torch

        out = predict(
            self.model, loader, device=self.device, amp=cfg.train.amp,
            amp_dtype=getattr(torch, cfg.train.amp_dtype),
        )  # fmt: skip
        return [
            ClipPrediction(
                frame_dir=name,
                class_names=list(self.class_names),
                probs=out.fused[i],
                stream_probs={s: p[i] for s, p in out.streams.items()},
            )
            for i, name in enumerate(out.frame_dirs)
        ]

    def _checked(self, record: dict[str, Any], *, index: int) -> dict[str, Any]:
        """``record`` validated against the model's layout (AnnotationError naming it)."""
        from mgproto.data.annotations import AnnotationError, validate_record
        from mgproto.data.layouts import get_layout

        if not isinstance(record, dict):
            raise AnnotationError(f"record {index}: a record must be a dict, got "
                                  f"{type(record).__name__}")  # fmt: skip
        have = record.get("layout")
        if have is not None and have != self.layout:
            raise AnnotationError(
                f"record {index} ({record.get('frame_dir', '?')!r}): layout {have!r}, but the "
                f"model of {self.checkpoint} expects {self.layout!r}"
            )
        return validate_record(
            {**record, "layout": self.layout, "label": record.get("label", -1)},
            index=index,
            source=f"classify ({self.layout} model)",
            num_joints=get_layout(self.layout).num_joints,
        )

    def predict_video(
        self,
        video: str | Path,
        *,
        pose: str | Path | None = None,
        options: PredictOptions | None = None,
        progress: bool = False,
    ) -> VideoPrediction:
        """A video -> a micro-gesture timeline: what ``mgproto predict`` computes.

        Windows of ``options.window_s`` every ``options.stride_s`` go through the checkpoint's
        test pipeline; their probabilities are smoothed per frame and merged into segments.
        Nothing is written (``mgproto.infer.timeline.write_timeline`` writes the JSON and CSV).

        Args:
            video: the video file (its frames are read only by RGB models).
            pose: the video's pose, a skeleton file with one record for the whole video in the
                model's layout (``mgproto extract-pose``); None extracts it now with MediaPipe
                (the ``pose`` extra; layouts ``coco17``, ``imigue22``, ``imigue36``).
            options: windows, smoothing and segment settings (default ``PredictOptions()``).
            progress: show progress bars.

        Returns:
            The segments (start, end, label, confidence), the (T, K) smoothed per-frame
            probabilities and the (W, K) window probabilities of each stream.
        """
        from tqdm import tqdm

        from mgproto.data.video import probe_video
        from mgproto.infer.predict import predict_video, video_pose

        info = probe_video(video)  # a clear error for a missing / empty / corrupt file
        record = video_pose(video, layout=self.layout, pose=pose, num_frames=info.num_frames,
                            progress=progress)  # fmt: skip
        with tqdm(desc="windows", unit="win", leave=False, disable=not progress) as bar:
            return predict_video(
                self.model, self.cfg, record, video, fps=float(record.get("fps") or info.fps),
                class_names=self.class_names, options=options, device=self.device,
                progress=bar.update,
            )  # fmt: skip


def load_classifier(checkpoint: str | Path, *, device: str = "auto") -> Classifier:
    """Load a trained model from a checkpoint file or a run folder.

    Args:
        checkpoint: an mgproto checkpoint (``.pt``), or a run folder (``mgproto train``'s
            ``--run-dir``), whose ``checkpoints/best.pt`` (else ``last.pt``) is taken.
        device: ``auto`` (a GPU if there is one), ``cpu``, ``cuda`` or ``cuda:N``.

    Returns:
        The model in eval mode on ``device``, with its config and class names.

    Raises:
        CheckpointError: the file is missing, unreadable or not an mgproto checkpoint (MMAction2
            files go through ``mgproto import-checkpoint``); the message names it.
        FileNotFoundError: a run folder without a checkpoint.
    """
    from mgproto.build import resolve_device
    from mgproto.engine.checkpoint import (
        class_names,
        load_checkpoint,
        model_from_state,
        resolve_checkpoint,
    )

    path = resolve_checkpoint(checkpoint)
    state = load_checkpoint(path)
    model, cfg = model_from_state(state, source=str(path))
    dev = resolve_device(device)
    model.to(dev).eval()
    return Classifier(
        model=model, cfg=cfg, class_names=class_names(state, cfg), checkpoint=path, device=dev
    )


def train(
    config: str | Path | ExperimentConfig | None = None,
    *,
    overrides: Sequence[str] = (),
    run_dir: str | Path | None = None,
    init: str | Path | None = None,
    resume: bool = False,
    device: str = "auto",
    max_steps: int | None = None,
) -> TrainResult:
    """Train a model into a run folder: what ``mgproto train`` does.

    Args:
        config: a YAML experiment config (docs/config.md), or an ``ExperimentConfig``; None
            with ``resume=True`` continues ``run_dir`` with its own config.
        overrides: ``key=value`` changes of the config, as ``--set`` takes them (e.g.
            ``"data.annotations=my.pkl"``, ``"train.epochs=5"``).
        run_dir: the run folder (default ``runs/<config name>``); it receives ``config.yaml``,
            ``train.log``, ``metrics.jsonl`` and ``checkpoints/{last,best}.pt``.
        init: a checkpoint to start from (e.g. ``mgproto merge-init``'s output).
        resume: continue the run in ``run_dir`` from its ``checkpoints/last.pt``.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        max_steps: stop after this many optimiser steps (a resumable ``last.pt`` is kept).

    Returns:
        The run folder, the best validation result (None without validation) and the steps
        done; load the model with ``load_classifier(result.run_dir)``.

    Raises:
        ConfigError: a config file that does not load, or an unknown key; the message names it.
        TrainingError: ``run_dir`` already holds a run (and ``resume`` is False), or holds
            nothing to resume.
    """
    from mgproto.config import ExperimentConfig, from_dict, load_config, merge_overrides, to_dict
    from mgproto.config.files import config_files
    from mgproto.engine.trainer import train as run_training
    from mgproto.fileio import check_input

    if config is None:  # resume with the run's own config, as `mgproto train --resume` does
        if not (resume and run_dir):
            raise ValueError(
                "train: give a config (or resume=True with run_dir= to continue a run)"
            )
        config = check_input(Path(run_dir) / "config.yaml", what="run config")
    files: list[Path] = []
    if isinstance(config, ExperimentConfig):
        cfg = from_dict(ExperimentConfig, merge_overrides(to_dict(config), list(overrides)))
    else:
        cfg = load_config(config, list(overrides))
        files = config_files(config)  # never replaced by the run's config.yaml
    return run_training(
        cfg,
        run_dir=Path(run_dir or Path("runs") / cfg.name),
        init=None if init is None else str(init),
        resume=resume,
        device=device,
        max_steps=max_steps,
        inputs=tuple(files),
    )
