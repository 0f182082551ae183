"""Subjects of the synthetic benchmark: body proportions, habits and look.

Everything a subject keeps across its clips, drawn once from ``default_rng([seed, 1, subject])``:
where the person sits in the frame and how large they appear, limb and head sizes, handedness,
the habitual rest posture and idle motion (sway, breathing, head wobble), skin, clothing and hair
colours, and the room (background texture, table, microphones: a press-conference setting as in
iMiGUE).

Lengths are fractions of the frame side (frames are square) *before* the subject's ``scale``;
``body_lengths`` applies it. Image coordinates: x to the right, y down. The subject faces the
camera, so their right side is on the image's left.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

RGB = tuple[int, int, int]

BACKGROUNDS = ("stripes", "noise", "logos", "blocks")
_SKIN: tuple[RGB, ...] = (
    (250, 222, 196), (238, 196, 162), (222, 172, 130), (196, 136, 98),
    (160, 106, 74), (118, 76, 54), (90, 58, 42),
)  # fmt: skip
_HAIR: tuple[RGB, ...] = (
    (22, 18, 16), (58, 38, 26), (104, 70, 40), (186, 146, 88), (150, 148, 144), (132, 58, 30),
)  # fmt: skip


@dataclass(frozen=True)
class Subject:
    """One synthetic person and their room.

    Attributes:
        subject_id: index of the subject.
        handedness: ``right`` or ``left``, the hand of one-handed gestures (mirrored for left).
        neck_x, neck_y: rest position of the neck joint, fractions of the frame side.
        scale: overall size multiplier of every body length.
        shoulder_half: neck-to-shoulder distance.
        upper_arm, forearm: segment lengths.
        neck_len: neck joint to head centre.
        head_rx, head_ry: head ellipse half-width and half-height.
        hand_len: wrist to middle fingertip.
        rest_hand_x, rest_hand_y: rest wrist position (distance from the midline, depth below
            the neck): the hands lie on the table.
        rest_angle: pointing angle of the right hand at rest, radians in image coordinates
            (0 = image right, pi/2 = down); the left hand is mirrored.
        head_roll_bias: habitual head tilt, radians.
        sway_amp, sway_freq: idle sideways sway of the torso (amplitude, Hz).
        breath_amp, breath_freq: idle breathing, a rise of the shoulders (amplitude, Hz).
        head_amp, head_freq: idle head roll / yaw wobble (radians, Hz).
        skin, shirt, hair, lips: colours (RGB).
        long_sleeves: forearms in shirt colour (else bare skin).
        hair_style: 0 short, 1 long (falls behind the shoulders), 2 cropped.
        background: texture kind, one of ``BACKGROUNDS``.
        background_colors: three colours of the texture.
        background_scale: pattern size, fraction of the frame side.
        background_seed: seed of the texture's own randomness.
        table: table colour, or None for no table.
        num_mics: microphones on the table (0-2).
    """

    subject_id: int
    handedness: str
    neck_x: float
    neck_y: float
    scale: float
    shoulder_half: float
    upper_arm: float
    forearm: float
    neck_len: float
    head_rx: float
    head_ry: float
    hand_len: float
    rest_hand_x: float
    rest_hand_y: float
    rest_angle: float
    head_roll_bias: float
    sway_amp: float
    sway_freq: float
    breath_amp: float
    breath_freq: float
    head_amp: float
    head_freq: float
    skin: RGB
    shirt: RGB
    hair: RGB
    lips: RGB
    long_sleeves: bool
    hair_style: int
    background: str
    background_colors: tuple[RGB, RGB, RGB]
    background_scale: float
    background_seed: int
    table: RGB | None
    num_mics: int

    @property
    def dominant(self) -> int:
        """Index of the dominant hand: 0 = right, 1 = left."""
        return 0 if self.handedness == "right" else 1

    def body_lengths(self) -> dict[str, float]:
        """The subject's lengths times ``scale``, fractions of the frame side."""
        keys = ("shoulder_half", "upper_arm", "forearm", "neck_len", "head_rx", "head_ry",
                "hand_len", "rest_hand_x", "rest_hand_y")  # fmt: skip
        return {k: float(getattr(self, k)) * self.scale for k in keys}


def _jitter(rng: np.random.Generator, color: RGB, amount: float) -> RGB:
    c = np.asarray(color, np.float64) + rng.uniform(-amount, amount, 3)
    return tuple(int(v) for v in np.clip(c, 0, 255).round())  # type: ignore[return-value]


def _random_color(rng: np.random.Generator, *, sat: tuple[float, float],
                  val: tuple[float, float]) -> RGB:  # fmt: skip
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*sat), rng.uniform(*val))
    return (int(r * 255), int(g * 255), int(b * 255))


def sample_subject(*, seed: int, subject_id: int) -> Subject:
    """Draw subject ``subject_id`` of the dataset with ``seed`` (pure: same inputs, same person).

    Args:
        seed: dataset seed.
        subject_id: index of the subject (>= 0).

    Returns:
        The subject.
    """
    rng = np.random.default_rng([seed, 1, subject_id])
    u = rng.uniform
    head_rx = u(0.060, 0.072)
    skin = _jitter(rng, _SKIN[rng.integers(len(_SKIN))], 8)
    lips = tuple(int(v) for v in np.clip(np.asarray(skin) * [0.78, 0.48, 0.5] + [28, 4, 8], 0, 255))
    bg_colors = tuple(_random_color(rng, sat=(0.1, 0.9), val=(0.25, 0.95)) for _ in range(3))
    return Subject(
        subject_id=subject_id,
        handedness="left" if u() < 0.2 else "right",
        neck_x=0.5 + u(-0.07, 0.07),
        neck_y=u(0.36, 0.44),
        scale=u(0.85, 1.1),
        shoulder_half=u(0.15, 0.20),
        upper_arm=u(0.23, 0.27),
        forearm=u(0.21, 0.25),
        neck_len=u(0.145, 0.17),
        head_rx=head_rx,
        head_ry=head_rx * u(1.2, 1.35),
        hand_len=u(0.07, 0.085),
        rest_hand_x=u(0.05, 0.12),
        rest_hand_y=u(0.36, 0.42),
        rest_angle=float(np.deg2rad(u(15, 50))),
        head_roll_bias=float(rng.normal(0, 0.04)),
        sway_amp=u(0.002, 0.010),
        sway_freq=u(0.15, 0.5),
        breath_amp=u(0.002, 0.006),
        breath_freq=u(0.2, 0.4),
        head_amp=u(0.01, 0.06),
        head_freq=u(0.1, 0.4),
        skin=skin,
        shirt=_random_color(rng, sat=(0.15, 0.9), val=(0.2, 0.95)),
        hair=_jitter(rng, _HAIR[rng.integers(len(_HAIR))], 10),
        lips=lips,  # type: ignore[arg-type]
        long_sleeves=bool(u() < 0.6),
        hair_style=int(rng.integers(3)),
        background=BACKGROUNDS[rng.integers(len(BACKGROUNDS))],
        background_colors=bg_colors,  # type: ignore[arg-type]
        background_scale=u(0.03, 0.12),
        background_seed=int(rng.integers(2**31)),
        table=_random_color(rng, sat=(0.0, 0.5), val=(0.3, 0.9)) if u() < 0.6 else None,
        num_mics=int(rng.integers(3)),
    )
