"""The options of ``mgproto predict`` (a light module: the CLI reads its defaults without torch)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PredictOptions:
    """How a video is cut, classified and turned into segments (``mgproto predict`` flags).

    Attributes:
        window_s: window length in seconds (iMiGUE clips last ~1-3 s).
        stride_s: step between windows in seconds.
        num_clips: test clips sampled per window (the recognizer averages them).
        batch_size: windows per forward pass.
        smooth_s: moving-average width over per-frame probabilities, seconds.
        min_confidence: frames whose top probability is lower stay unlabelled.
        min_duration_s: shorter segments are dropped.
        min_person_share: a window is classified only if at least this share of its frames
            shows a person (0 classifies every window).
        decode_short_side: RGB frames are scaled to this short side while decoding; None
            picks twice the model's RGB input size (at least 128), enough for the person crop.
        hide: class names never reported (e.g. a non-micro-gesture class).
    """

    window_s: float = 2.0
    stride_s: float = 0.5
    num_clips: int = 1
    batch_size: int = 8
    smooth_s: float = 0.5
    min_confidence: float = 0.3
    min_duration_s: float = 0.4
    min_person_share: float = 0.5
    decode_short_side: int | None = None
    hide: tuple[str, ...] = ()
