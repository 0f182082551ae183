"""Motion models of the synthetic classes: each adds one gesture to a clip's controls.

A model is ``fn(kin, body, params, rng) -> None``: it edits the ``Kinematics`` in place using the
clip's ``GestureParams`` (active hand, tempo, amplitude, envelope) and its own draws from ``rng``.
Positions are body units (fractions of the frame side, origin at the rest neck, y down); offsets
written ``x_out`` point towards the active hand's own side and are mirrored for the left hand,
angles are given for the right hand and mirrored by ``hand_angle``. ``MOTIONS`` maps the names in
``classes.CLASSES`` to the models; two classes that name the same model are pose-identical.

The face-touch classes differ only in where the fingertips stop on the head ellipse (``u``
half-widths outwards, ``v`` half-heights down), a few pixels apart: chin (0.05, 1.02),
cheek (0.62, 0.35), ear (1.0, 0.0), forehead (0.1, -0.5), hair (0.45, -0.95).

Axis legend: T frames, H hands.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mgproto.data.synthetic.motion import (
    FPS,
    Body,
    GestureParams,
    Kinematics,
    face_point,
    hand_angle,
    smoothstep,
)

TWO_PI = 2 * np.pi


def reach(kin: Kinematics, params: GestureParams, h: int, target: np.ndarray,
          angle: np.ndarray | float, *, env: np.ndarray | None = None,
          bulge: tuple[float, float] = (0.04, 0.03), fan: float | None = None,
          curl: float | None = None) -> None:  # fmt: skip
    """Move hand ``h`` from where it is towards ``target`` as the envelope rises, and back.

    Args:
        kin: the clip's controls (edited).
        params: the clip's gesture parameters (envelope).
        h: hand index.
        target: (T, 2) wrist target.
        angle: target pointing angle (scalar or (T,)), already mirrored for hand ``h``.
        env: (T,) envelope; ``params.env`` if None.
        bulge: (outwards, down) detour of the path half-way, so hands travel on arcs.
        fan, curl: finger spread and length at the target.
    """
    e = params.env if env is None else env
    side = -1.0 if h == 0 else 1.0
    arc = (4 * e * (1 - e))[:, None] * np.array([side * bulge[0], bulge[1]])
    kin.wrist[:, h] = kin.wrist[:, h] + e[:, None] * (target - kin.wrist[:, h]) + arc
    delta = np.angle(np.exp(1j * (np.asarray(angle) - kin.angle[:, h])))  # shortest turn
    kin.angle[:, h] = kin.angle[:, h] + e * delta
    if fan is not None:
        kin.fan[:, h] += e * (fan - kin.fan[:, h])
    if curl is not None:
        kin.curl[:, h] += e * (curl - kin.curl[:, h])


def _touch(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator, *,
           u: float, v: float, angle_deg: float, stroke: float, freq: float,
           pattern: str) -> None:  # fmt: skip
    """One hand goes to a point of the head and strokes it."""
    h, s = p.hand, p.side
    kin.roll += s * rng.uniform(0.0, 0.08) * p.env  # the head leans into the hand a little
    uu = s * (u + rng.uniform(-0.08, 0.08))
    vv = v + rng.uniform(-0.08, 0.08)
    contact = face_point(kin, body, uu, vv)
    w = TWO_PI * freq * rng.uniform(0.8, 1.25) * p.t + rng.uniform(0, TWO_PI)
    a = (p.amp * stroke * p.env)[:, None]
    if pattern == "vertical":
        osc = np.stack([0.3 * np.sin(0.5 * w), np.sin(w)], axis=-1)
    elif pattern == "horizontal":
        osc = np.stack([np.sin(w), 0.2 * np.sin(2 * w)], axis=-1)
    else:  # circular twirl
        osc = np.stack([np.cos(w), np.sin(w)], axis=-1)
    theta = hand_angle(np.deg2rad(angle_deg + rng.normal(0, 8)), h)
    pointing = np.array([np.cos(theta), np.sin(theta)])
    target = contact + a * osc - 0.85 * body.hand_len * pointing
    reach(kin, p, h, target, theta, bulge=(0.05, 0.05), fan=0.45, curl=0.95)
    kin.cue = p.env.copy()


def touch_chin(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator) -> None:
    """Fingertips under the chin, small vertical strokes."""
    _touch(kin, body, p, rng, u=0.05, v=1.02, angle_deg=-70, stroke=0.008, freq=1.5,
           pattern="vertical")  # fmt: skip


def touch_cheek(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator) -> None:
    """Fingertips on the cheek of the hand's side."""
    _touch(kin, body, p, rng, u=0.62, v=0.35, angle_deg=-80, stroke=0.008, freq=1.2,
           pattern="vertical")  # fmt: skip


def touch_ear(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator) -> None:
    """Fingertips at the ear of the hand's side."""
    _touch(kin, body, p, rng, u=1.0, v=0.0, angle_deg=-90, stroke=0.006, freq=1.5,
           pattern="vertical")  # fmt: skip


def touch_forehead(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator
                   ) -> None:  # fmt: skip
    """The hand crosses the face and rubs the forehead sideways."""
    _touch(kin, body, p, rng, u=0.1, v=-0.5, angle_deg=-55, stroke=0.012, freq=1.2,
           pattern="horizontal")  # fmt: skip


def play_hair(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator) -> None:
    """Fingertips on the upper side of the head, twirling."""
    _touch(kin, body, p, rng, u=0.45, v=-0.95, angle_deg=-75, stroke=0.012, freq=1.3,
           pattern="circular")  # fmt: skip


def rub_hands(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator) -> None:
    """Both hands meet in front of the belly, palms together, and rub up and down."""
    centre = kin.torso + np.array([p.side * rng.uniform(0.0, 0.03), 0.72 * body.rest_wrist[:, 1]
                                   .mean() + rng.uniform(-0.02, 0.02)])  # fmt: skip
    w = TWO_PI * rng.uniform(1.8, 2.8) * p.t
    a = p.amp * rng.uniform(0.010, 0.018) * p.env * np.sin(w)
    tilt = np.deg2rad(rng.uniform(-85, -65))
    for h in (0, 1):
        sign = -1.0 if h == 0 else 1.0
        target = centre + np.array([sign * 0.12 * body.hand_len, 0.5 * body.hand_len])
        target = target + np.stack([0.2 * a, sign * a], axis=-1)
        reach(kin, p, h, target, hand_angle(tilt, h), fan=0.3, curl=1.0)
    kin.cue = p.env.copy()


def cross_fingers(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator
                  ) -> None:  # fmt: skip
    """Hands clasped with interlaced fingers in front of the belly, thumbs twiddling."""
    centre = kin.torso + np.array([p.side * rng.uniform(0.0, 0.03), 0.8 * body.rest_wrist[:, 1]
                                   .mean() + rng.uniform(-0.02, 0.02)])  # fmt: skip
    theta = np.deg2rad(rng.uniform(0, 20))
    twiddle = 0.15 * np.sin(TWO_PI * rng.uniform(0.6, 1.2) * p.t)
    for h in (0, 1):
        sign = -1.0 if h == 0 else 1.0
        target = centre + np.array([sign * 0.55 * body.hand_len, 0.01 * h])
        reach(kin, p, h, target, hand_angle(theta, h), fan=0.55, curl=0.85)
        kin.fan[:, h] += p.env * twiddle
    kin.cue = p.env.copy()


def fold_arms(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator) -> None:
    """Each wrist goes to the opposite upper arm; the forearms cross the chest."""
    drift = 0.006 * np.sin(TWO_PI * rng.uniform(0.1, 0.3) * p.t)[:, None]
    for h in (0, 1):
        sign = -1.0 if h == 0 else 1.0  # own side; the target is on the other side
        depth = rng.uniform(0.15, 0.2) + 0.03 * h
        target = kin.torso + np.array([-sign * 0.7 * body.shoulder_half, depth]) + drift
        reach(kin, p, h, target, hand_angle(np.deg2rad(rng.uniform(-25, 0)), h),
              bulge=(0.02, 0.03), fan=0.5, curl=0.7)  # fmt: skip
    kin.cue = p.env.copy()


def shrug(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator) -> None:
    """One to three quick rises of the shoulders."""
    t = np.arange(kin.num_frames, dtype=np.float64)
    n = int(rng.integers(1, 4))
    width = rng.uniform(0.35, 0.6) * FPS / p.speed
    last = max(p.onset + 1.0, min(p.end, kin.num_frames) - width)
    starts = np.sort(rng.uniform(p.onset, last, n))
    x = (t[None] - starts[:, None]) / width
    pulses = np.where((x > 0) & (x < 1), np.sin(np.pi * np.clip(x, 0, 1)) ** 2, 0.0)
    bump = np.clip(pulses.sum(axis=0), 0, 1)
    lift = p.amp * rng.uniform(0.024, 0.036) * bump
    ratio = np.ones(2)
    if rng.uniform() < 0.25:  # a one-sided shrug
        ratio[rng.integers(2)] = 0.4
    kin.lift += lift[:, None] * ratio
    kin.head[:, 1] -= 0.5 * lift
    kin.torso[:, 1] -= 0.2 * lift
    kin.cue = bump


def move_torso(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator) -> None:
    """The upper body leans sideways (once, or back and forth); the hands stay on the table."""
    direction = 1.0 if rng.uniform() < 0.5 else -1.0
    lean = p.amp * rng.uniform(0.03, 0.05)
    back_and_forth = rng.uniform() < 0.4
    shape = p.env * np.sin(TWO_PI * rng.uniform(0.3, 0.6) * p.t) if back_and_forth else p.env
    kin.torso[:, 0] += direction * lean * shape
    kin.torso[:, 1] += 0.25 * lean * np.abs(shape)
    kin.lift[:, 0] += direction * 0.3 * lean * shape  # leaning to the image's right lowers
    kin.lift[:, 1] -= direction * 0.3 * lean * shape  # the subject's left shoulder
    kin.roll += direction * 1.5 * lean * shape
    kin.cue = np.abs(shape)


def sit_straight(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator
                 ) -> None:  # fmt: skip
    """A slouched body rises once and stays up; the shoulders open."""
    rise = p.amp * rng.uniform(0.02, 0.035)
    down = 1.0 - p.step
    kin.torso[:, 1] += rise * down
    kin.spread *= 1.0 - 0.06 * down
    kin.head[:, 1] += 0.3 * rise * down
    kin.cue = p.step.copy()


def breath(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator) -> None:
    """A slow, small rise of shoulders and head (deep breath and bite lip share it)."""
    period = rng.uniform(2.0, 3.2)
    cycle = (0.5 - 0.5 * np.cos(TWO_PI * p.t / period)) * p.env
    lift = p.amp * rng.uniform(0.008, 0.013) * cycle
    kin.lift += lift[:, None]
    kin.head[:, 1] -= 0.4 * lift
    kin.torso[:, 1] -= 0.3 * lift
    kin.cue = p.env.copy()


def _waypoints(times: np.ndarray, values: np.ndarray, num_frames: int) -> np.ndarray:
    """(T, D) eased interpolation through (K,) sorted times and (K, D) values."""
    t = np.clip(np.arange(num_frames, dtype=np.float64), times[0], times[-1])
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    frac = smoothstep((t - times[k]) / np.maximum(times[k + 1] - times[k], 1e-9))
    return values[k] + frac[:, None] * (values[k + 1] - values[k])


def illustrative(kin: Kinematics, body: Body, p: GestureParams, rng: np.random.Generator
                 ) -> None:  # fmt: skip
    """Co-speech movements: one or both hands travel through random points in front of the chest
    with downward beats."""
    mode = rng.uniform()
    hands = [p.hand] if mode < 0.6 else [0, 1]
    symmetric = 0.6 <= mode < 0.8
    t = np.arange(kin.num_frames, dtype=np.float64)
    stop = max(p.onset + 2.0, min(p.end, kin.num_frames - 1))
    k = int(rng.integers(3, 8))
    times = np.linspace(p.onset, stop, k) + rng.uniform(-0.3, 0.3, k) * (stop - p.onset) / k
    times = np.sort(times)
    first = None
    for h in hands:
        side = -1.0 if h == 0 else 1.0
        if symmetric and first is not None:
            points, angles, fans = first[0] * np.array([-1.0, 1.0]), np.pi - first[1], first[2]
        else:
            points = np.stack([side * rng.uniform(-0.05, 0.22, k), rng.uniform(0.1, 0.34, k)], 1)
            angles = hand_angle(np.deg2rad(rng.uniform(-100, 20, k)), h)
            fans = rng.uniform(0.4, 1.3, k)
            first = (points, angles, fans)
        path = kin.torso + _waypoints(times, points, kin.num_frames)
        nb = int(rng.integers(1, 5))
        beats = rng.uniform(p.onset, stop, nb)
        width = rng.uniform(0.08, 0.16) * FPS / p.speed
        height = p.amp * rng.uniform(0.02, 0.05, nb)
        path[:, 1] += (height * np.exp(-(((t[:, None] - beats) / width) ** 2))).sum(axis=1)
        angle = _waypoints(times, np.unwrap(angles)[:, None], kin.num_frames)[:, 0]
        reach(kin, p, h, path, angle, bulge=(0.03, 0.0))
        kin.fan[:, h] += p.env * (_waypoints(times, fans[:, None], kin.num_frames)[:, 0]
                                  - kin.fan[:, h])  # fmt: skip
    kin.cue = p.env.copy()


Motion = Callable[[Kinematics, Body, GestureParams, np.random.Generator], None]
MOTIONS: dict[str, Motion] = {
    fn.__name__: fn
    for fn in (touch_chin, touch_cheek, touch_ear, touch_forehead, play_hair, rub_hands,
               cross_fingers, fold_arms, shrug, move_torso, sit_straight, breath, illustrative)
}  # fmt: skip
