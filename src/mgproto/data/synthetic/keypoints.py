"""The keypoints of one synthetic clip, as a pose detector would report them.

``synthesize_clip`` is a pure function of (seed, subject, clip index, label, length, frame size):
it draws from ``default_rng([seed, 2, subject, clip])`` only and never renders, so tests can draw
thousands of clips' keypoints in seconds. It moves the body (``motion``, ``gestures``) and then
``observe`` adds what a detector sees: camera jitter (whole pixels, shared with the rendered
frames), noise, confidences and dropped joints.

The label enters only through the name of its motion model, so classes that share a model
(``classes.POSE_IDENTICAL_PAIRS``) give identical keypoints for the same seed and clip, and
identically distributed keypoints over clips.

Axis legend: T frames, V joints (imigue22).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mgproto.data.synthetic.classes import CLASSES
from mgproto.data.synthetic.gestures import MOTIONS
from mgproto.data.synthetic.motion import (
    FACE_JOINTS,
    FPS,
    HAND_JOINTS,
    add_idle,
    assemble,
    body_of,
    draw_gesture_params,
    rest_kinematics,
)
from mgproto.data.synthetic.subjects import Subject


def observe(clean: np.ndarray, *, frame_size: int, hand_len_px: float, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """What a pose detector reports for the rendered frames.

    Args:
        clean: (T, V, 2) true joint positions in scene pixels (before camera jitter).
        frame_size: frame side in pixels.
        hand_len_px: the subject's hand length in pixels (occlusion radius of the hands).
        rng: the clip's generator.

    Returns:
        keypoint (T, V, 2) float32 (jitter + noise; dropped joints 0), keypoint_score (T, V)
        float32 (0 = dropped, else 0.55..1), jitter (T, 2) int64 camera shift in pixels.
    """
    t, v, _ = clean.shape
    # camera: slow wander plus shake, whole pixels so frames and joints move together exactly
    amp = rng.uniform(0.0, 0.012) * frame_size
    time = np.arange(t)[:, None] / FPS
    wander = np.sin(2 * np.pi * rng.uniform(0.2, 1.5, (1, 2)) * time + rng.uniform(0, 6.3, (1, 2)))
    jitter = amp * (0.7 * wander + 0.3 * rng.normal(size=(t, 2)))
    limit = jitter_margin(frame_size)
    jitter = np.clip(np.round(jitter), -limit, limit).astype(np.int64)
    sigma = rng.uniform(0.0015, 0.005) * frame_size * np.ones(v)
    sigma[12:] *= 2.0  # fingertips are the noisiest joints
    kp = clean + jitter[:, None] + rng.normal(size=(t, v, 2)) * sigma[None, :, None]
    base = rng.uniform(0.78, 0.98, v)
    base[12:] = rng.uniform(0.62, 0.9, 10)
    score = np.clip(base + rng.normal(0, 0.05, (t, v)), 0.55, 1.0)
    # dropped joints: bursts of 1-6 frames
    rate = np.full(v, rng.uniform(0.0, 0.05))
    rate[12:] *= 2.5
    starts = rng.uniform(size=(t, v)) < rate / 3.5
    lengths = rng.integers(1, 7, (t, v))
    drop = np.zeros((t, v), bool)
    for k in range(6):
        drop[k:] |= (starts & (lengths > k))[: t - k]
    # a hand in front of the face hides face joints
    hands = clean[:, HAND_JOINTS]  # (T, 12, 2)
    dist = np.linalg.norm(clean[:, FACE_JOINTS, None] - hands[:, None], axis=-1).min(axis=-1)
    hidden = dist < 0.9 * hand_len_px
    score[:, FACE_JOINTS] = np.where(hidden, score[:, FACE_JOINTS] * 0.6, score[:, FACE_JOINTS])
    drop[:, FACE_JOINTS] |= hidden & (rng.uniform(size=hidden.shape) < 0.3)
    drop |= np.any((kp < 0) | (kp > frame_size - 1), axis=-1)
    kp[drop] = 0.0
    score[drop] = 0.0
    return kp.astype(np.float32), score.astype(np.float32), jitter


def jitter_margin(frame_size: int) -> int:
    """Largest camera shift in pixels (the renderer pads the scene by this much)."""
    return int(np.ceil(0.03 * frame_size))


@dataclass(frozen=True)
class SynthClip:
    """Keypoints of one clip and what the renderer needs to draw it.

    Attributes:
        label: class index.
        keypoint: (T, V, 2) float32 as a detector reports it, in frame pixels.
        keypoint_score: (T, V) float32.
        clean: (T, V, 2) true joint positions in scene pixels (frame = scene shifted by jitter).
        head_centre, mouth: (T, 2) scene pixels.
        roll, yaw: (T,) head pose.
        cue: (T,) strength of the RGB cue, 0..1.
        jitter: (T, 2) int64 camera shift (x, y) in pixels.
        hand: the active hand (0 right, 1 left).
    """

    label: int
    keypoint: np.ndarray
    keypoint_score: np.ndarray
    clean: np.ndarray
    head_centre: np.ndarray
    mouth: np.ndarray
    roll: np.ndarray
    yaw: np.ndarray
    cue: np.ndarray
    jitter: np.ndarray
    hand: int


def synthesize_clip(
    *, seed: int, subject: Subject, clip_index: int, label: int, num_frames: int, frame_size: int
) -> SynthClip:
    """Keypoints of one clip (no rendering); pure and deterministic.

    Args:
        seed: dataset seed.
        subject: the performer (``sample_subject(seed=seed, subject_id=...)``).
        clip_index: index of the clip within the subject.
        label: class index (see ``classes.CLASSES``).
        num_frames: T.
        frame_size: frame side in pixels (frames are square).

    Returns:
        The clip's keypoints, scores and render geometry.
    """
    if not 0 <= label < len(CLASSES):
        raise ValueError(f"synthetic clip: unknown class {label}; valid 0..{len(CLASSES) - 1}")
    rng = np.random.default_rng([seed, 2, subject.subject_id, clip_index])
    body = body_of(subject, rng)
    kin = rest_kinematics(body, num_frames)
    add_idle(kin, subject, rng)
    params = draw_gesture_params(subject, num_frames, rng)
    MOTIONS[CLASSES[label].motion](kin, body, params, rng)
    geo = assemble(kin, body)
    anchor = np.array([subject.neck_x, subject.neck_y])

    def to_px(a: np.ndarray) -> np.ndarray:
        return (anchor + a) * frame_size

    clean = to_px(geo["keypoint"])
    kp, score, jitter = observe(clean, frame_size=frame_size,
                                hand_len_px=body.hand_len * frame_size, rng=rng)  # fmt: skip
    return SynthClip(label=label, keypoint=kp, keypoint_score=score,
                     clean=clean.astype(np.float32),
                     head_centre=to_px(geo["head_centre"]).astype(np.float32),
                     mouth=to_px(geo["mouth"]).astype(np.float32),
                     roll=geo["roll"].astype(np.float32), yaw=geo["yaw"].astype(np.float32),
                     cue=np.clip(kin.cue, 0, 1).astype(np.float32), jitter=jitter,
                     hand=params.hand)  # fmt: skip
