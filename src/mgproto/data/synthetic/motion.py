"""Body kinematics of the synthetic benchmark: from per-frame controls to 22 joints.

A clip's motion is a set of per-frame *controls* (``Kinematics``: torso offset, shoulder lifts,
head offset / roll / yaw, wrist positions, hand angles, finger fan and curl). The steps:

1. rest controls from the subject's proportions and habitual posture (``rest_kinematics``);
2. the subject's idle motion with clip-specific phases (``add_idle``);
3. the class's motion model (``gestures.MOTIONS``) with clip-specific hand, speed, amplitude,
   onset and duration (``draw_gesture_params``);
4. joints from the controls: face points on the head ellipse, elbows by two-link inverse
   kinematics, fingertips fanned from the wrist (``assemble``).

``keypoints.synthesize_clip`` runs these steps and adds the camera and the detector.

Body units: fractions of the frame side, origin at the subject's rest neck position, x to the
right, y down (image coordinates). Axis legend: T frames, V joints (imigue22), H hands
(0 = the subject's right hand, on the image's left; 1 = left hand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mgproto.data.synthetic.subjects import Subject

FPS = 25.0
LAYOUT = "imigue22"
NUM_JOINTS = 22
NOSE, NECK = 0, 1
SHOULDER, ELBOW, WRIST = (2, 5), (3, 6), (4, 7)
EYE, EAR = (8, 9), (10, 11)
TIPS = (np.arange(17, 22), np.arange(12, 17))  # imigue22: 12-16 are LEFT tips, 17-21 RIGHT ones
FACE_JOINTS = np.array([0, 8, 9, 10, 11])
HAND_JOINTS = np.array([4, 7, *range(12, 22)])
FINGER_LEN = np.array([0.55, 0.92, 1.0, 0.93, 0.78])  # thumb..pinky, fractions of hand_len
FINGER_SPREAD = np.array([-0.85, -0.25, 0.0, 0.2, 0.42])  # radians around the pointing angle
# head-local face points (u in head half-widths, v in half-heights, depth: share of the yaw shift)
FACE = {"nose": (0.0, 0.15, 1.0), "right_eye": (-0.38, -0.1, 0.75), "left_eye": (0.38, -0.1, 0.75),
        "right_ear": (-1.0, 0.02, -0.25), "left_ear": (1.0, 0.02, -0.25),
        "mouth": (0.0, 0.55, 0.9)}  # fmt: skip
YAW_SHIFT = 0.35  # a full turn (yaw 1) moves the nose by 0.35 head half-widths
FORESHORTEN = 0.8  # elbows bend partly towards the camera: 2-D bend scaled by this


def hand_side(h: int) -> float:
    """Image-x sign of hand ``h``'s own side: -1 for the right hand, +1 for the left."""
    return -1.0 if h == 0 else 1.0


def hand_angle(theta_right: np.ndarray | float, h: int) -> np.ndarray | float:
    """A pointing angle given for the right hand, mirrored (pi - theta) for the left hand."""
    return theta_right if h == 0 else np.pi - np.asarray(theta_right)


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, a C1 ramp in between."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True)
class Body:
    """A subject's lengths (scaled; body units) and rest hand placement."""

    shoulder_half: float
    upper_arm: float
    forearm: float
    neck_len: float
    head_rx: float
    head_ry: float
    hand_len: float
    rest_wrist: np.ndarray  # (H, 2)
    rest_angle: np.ndarray  # (H,)


@dataclass
class Kinematics:
    """Per-frame controls of one clip (body units); the idle model and the gesture add to them.

    Attributes:
        torso: (T, 2) neck offset from its rest place.
        lift: (T, H) upward lift of each shoulder.
        spread: (T,) shoulder width multiplier.
        head: (T, 2) head centre offset relative to its place above the neck.
        roll: (T,) head roll, radians (positive turns the face clockwise in the image).
        yaw: (T,) head turn, -1..1 (positive moves the nose to the image's right).
        wrist: (T, H, 2) wrist positions.
        angle: (T, H) pointing angle of each hand, radians.
        fan: (T, H) finger spread multiplier.
        curl: (T, H) finger length multiplier (1 open, ~0.6 a fist).
        cue: (T,) strength of the class's RGB cue, 0..1 (the gesture's envelope).
    """

    torso: np.ndarray
    lift: np.ndarray
    spread: np.ndarray
    head: np.ndarray
    roll: np.ndarray
    yaw: np.ndarray
    wrist: np.ndarray
    angle: np.ndarray
    fan: np.ndarray
    curl: np.ndarray
    cue: np.ndarray

    @property
    def num_frames(self) -> int:
        return self.torso.shape[0]


@dataclass(frozen=True)
class GestureParams:
    """Clip-specific timing and style of the gesture.

    Attributes:
        hand: the active hand of one-handed gestures (0 right, 1 left).
        side: image-x sign of that hand's side (-1 right, +1 left).
        speed: tempo multiplier (log-uniform 0.7..1.5).
        amp: amplitude multiplier (0.7..1.3).
        onset, end: first frame of the gesture and the frame it would have finished (may lie
            beyond the clip: the clip ends before the hand is back).
        env: (T,) 0..1 envelope: rise, hold, return.
        step: (T,) the rising part only (0 before, 1 after the rise).
        t: (T,) the gesture's own clock: seconds since the onset times ``speed``.
    """

    hand: int
    side: float
    speed: float
    amp: float
    onset: int
    end: int
    env: np.ndarray
    step: np.ndarray
    t: np.ndarray

    @property
    def fps(self) -> float:
        return FPS


def body_of(subject: Subject, rng: np.random.Generator) -> Body:
    """The subject's scaled lengths; the rest hands vary a little from clip to clip."""
    b = subject.body_lengths()
    x = b["rest_hand_x"] + rng.uniform(-0.015, 0.015, 2)
    y = b["rest_hand_y"] + rng.uniform(-0.015, 0.015, 2)
    angle = subject.rest_angle + rng.uniform(-0.2, 0.2, 2)
    return Body(
        shoulder_half=b["shoulder_half"], upper_arm=b["upper_arm"], forearm=b["forearm"],
        neck_len=b["neck_len"], head_rx=b["head_rx"], head_ry=b["head_ry"],
        hand_len=b["hand_len"],
        rest_wrist=np.array([[-x[0], y[0]], [x[1], y[1]]]),
        rest_angle=np.array([angle[0], np.pi - angle[1]]),
    )  # fmt: skip


def rest_kinematics(body: Body, num_frames: int) -> Kinematics:
    """Controls of a subject sitting still with both hands on the table."""
    t = num_frames
    return Kinematics(
        torso=np.zeros((t, 2)), lift=np.zeros((t, 2)), spread=np.ones(t),
        head=np.zeros((t, 2)), roll=np.zeros(t), yaw=np.zeros(t),
        wrist=np.repeat(body.rest_wrist[None], t, axis=0),
        angle=np.repeat(body.rest_angle[None], t, axis=0),
        fan=np.full((t, 2), 0.8), curl=np.ones((t, 2)), cue=np.zeros(t),
    )  # fmt: skip


def add_idle(kin: Kinematics, subject: Subject, rng: np.random.Generator) -> None:
    """Add the subject's habitual idle motion with random phases: sway, breathing, head wobble
    and slowly drifting hands."""
    t = np.arange(kin.num_frames) / FPS
    ph = rng.uniform(0, 2 * np.pi, 8)
    s = subject.scale
    two_pi = 2 * np.pi
    kin.torso[:, 0] += (
        subject.sway_amp
        * s
        * (
            np.sin(two_pi * subject.sway_freq * t + ph[0])
            + 0.3 * np.sin(two_pi * 2.3 * subject.sway_freq * t + ph[1])
        )
    )
    breath = subject.breath_amp * s * (0.5 - 0.5 * np.cos(two_pi * subject.breath_freq * t + ph[2]))
    kin.lift += breath[:, None]
    kin.torso[:, 1] -= 0.3 * breath
    kin.roll += subject.head_roll_bias + subject.head_amp * np.sin(
        two_pi * subject.head_freq * t + ph[3]
    )
    kin.yaw += 2.5 * subject.head_amp * np.sin(two_pi * 0.7 * subject.head_freq * t + ph[4])
    freq = rng.uniform(0.1, 0.4, (2, 2))
    drift = 0.004 * s * np.sin(two_pi * freq[None] * t[:, None, None] + ph[5:7][None, :, None])
    kin.wrist += drift
    kin.fan += 0.1 * np.sin(two_pi * 0.3 * t[:, None] + ph[7])


def draw_gesture_params(
    subject: Subject, num_frames: int, rng: np.random.Generator
) -> GestureParams:
    """Clip-specific hand, tempo, amplitude, onset and duration (the same draws for every class)."""
    t = num_frames
    hand = subject.dominant if rng.uniform() < 0.8 else 1 - subject.dominant
    speed = float(np.exp(rng.uniform(np.log(0.7), np.log(1.5))))
    amp = rng.uniform(0.7, 1.3)
    onset = int(rng.uniform(0, 0.3) * t)
    avail = t - onset
    rise = rng.uniform(0.25, 0.5) * FPS / speed
    fall = rng.uniform(0.25, 0.5) * FPS / speed
    length = max(rng.uniform(0.6, 1.15) * avail, 4.0)
    if rise + fall > 0.7 * length:  # short clips: quicker moves, still a hold in between
        k = 0.7 * length / (rise + fall)
        rise, fall = rise * k, fall * k
    frames = np.arange(t, dtype=np.float64)
    step = smoothstep((frames - onset) / rise)
    env = step * (1.0 - smoothstep((frames - (onset + length - fall)) / fall))
    clock = np.maximum(frames - onset, 0.0) / FPS * speed
    return GestureParams(hand=hand, side=hand_side(hand), speed=speed, amp=amp, onset=onset,
                         end=round(onset + length), env=env, step=step, t=clock)  # fmt: skip


def head_centre(kin: Kinematics, body: Body) -> np.ndarray:
    """(T, 2) head ellipse centre."""
    return kin.torso + np.array([0.0, -body.neck_len]) + kin.head


def face_point(kin: Kinematics, body: Body, u: float, v: float, depth: float = 1.0) -> np.ndarray:
    """(T, 2) a point on the face given in head-local units (u half-widths to the image's right,
    v half-heights down), following the head's roll and yaw."""
    c = head_centre(kin, body)
    x = u * body.head_rx + depth * YAW_SHIFT * body.head_rx * kin.yaw
    y = np.full_like(x, v * body.head_ry)
    cos, sin = np.cos(kin.roll), np.sin(kin.roll)
    return c + np.stack([cos * x - sin * y, sin * x + cos * y], axis=-1)


def elbow_ik(shoulder: np.ndarray, wrist: np.ndarray, upper: float, fore: float, h: int
             ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Two-link inverse kinematics in the image plane.

    Args:
        shoulder, wrist: (T, 2) positions.
        upper, fore: segment lengths.
        h: hand index; the elbow bends to the outer / lower side of the shoulder-wrist line.

    Returns:
        (T, 2) elbows and (T, 2) wrists (pulled in where the target was out of reach).
    """
    d = wrist - shoulder
    dist = np.linalg.norm(d, axis=-1, keepdims=True)
    direction = d / np.maximum(dist, 1e-9)
    reach = np.clip(dist, abs(upper - fore) + 1e-6, (upper + fore) * 0.999)
    wrist = shoulder + direction * reach
    a = (upper**2 - fore**2 + reach**2) / (2 * reach)
    bend = np.sqrt(np.maximum(upper**2 - a**2, 0.0))
    sign = 1.0 if h == 0 else -1.0
    perp = sign * np.stack([-direction[:, 1], direction[:, 0]], axis=-1)
    return shoulder + a * direction + FORESHORTEN * bend * perp, wrist


def assemble(kin: Kinematics, body: Body) -> dict[str, np.ndarray]:
    """Joints from the controls.

    Returns:
        ``keypoint`` (T, V, 2), ``head_centre`` (T, 2), ``mouth`` (T, 2), ``roll`` (T,) and
        ``yaw`` (T,), in body units.
    """
    t = kin.num_frames
    kp = np.zeros((t, NUM_JOINTS, 2))
    kp[:, NECK] = kin.torso
    for h in (0, 1):
        shoulder = kin.torso + np.stack(
            [hand_side(h) * body.shoulder_half * kin.spread, 0.02 - kin.lift[:, h]], axis=-1
        )
        elbow, wrist = elbow_ik(shoulder, kin.wrist[:, h], body.upper_arm, body.forearm, h)
        kp[:, SHOULDER[h]], kp[:, ELBOW[h]], kp[:, WRIST[h]] = shoulder, elbow, wrist
        angles = kin.angle[:, h, None] + (-hand_side(h)) * FINGER_SPREAD * kin.fan[:, h, None]
        length = body.hand_len * FINGER_LEN * kin.curl[:, h, None]  # (T, 5)
        kp[:, TIPS[h]] = wrist[:, None] + length[..., None] * np.stack(
            [np.cos(angles), np.sin(angles)], axis=-1
        )
    names = (("nose", NOSE), ("right_eye", EYE[0]), ("left_eye", EYE[1]),
             ("right_ear", EAR[0]), ("left_ear", EAR[1]))  # fmt: skip
    for name, j in names:
        kp[:, j] = face_point(kin, body, *FACE[name])
    return {"keypoint": kp, "head_centre": head_centre(kin, body),
            "mouth": face_point(kin, body, *FACE["mouth"]), "roll": kin.roll.copy(),
            "yaw": kin.yaw.copy()}  # fmt: skip
