"""RGB frames of a synthetic clip, drawn from its true joint positions.

The person is drawn with Pillow on a supersampled canvas (``supersample`` x the frame size, then
box-filtered down, which anti-aliases the strokes) padded by the largest camera shift: the wall,
long hair, the torso as a filled shape with the shoulders at the shoulder joints, the neck, the
head as an ellipse around the head centre with ears at the ear joints, eyes at the eye joints,
brows, mouth and a hair cap, then the table and microphones, the arms as thick strokes through
shoulder, elbow and wrist joints, and the hands as palms with one stroke to each fingertip joint.
Each frame is then cut from the canvas at the camera's shift (the same whole-pixel shift the
keypoints carry) and lit by the clip's lighting drift.

RGB-only cues (``classes.RGB_CUES``), with strength ``clip.cue``: ``object`` (a coloured pen,
phone, ball or cube in the active hand, carried between the hands as they meet), ``bite_lip``
(the lower lip drawn in and darkened, upper teeth showing) and ``puff_cheeks`` (cheeks bulge
beyond the face outline and redden, lips pursed).

Axis legend: T frames, V joints, H/W rows/columns.
"""

from __future__ import annotations

import colorsys

import numpy as np
from PIL import ImageDraw

from mgproto.data.synthetic.background import apply_lighting, background_image, lighting
from mgproto.data.synthetic.keypoints import SynthClip, jitter_margin
from mgproto.data.synthetic.motion import EAR, ELBOW, EYE, SHOULDER, TIPS, WRIST, YAW_SHIFT
from mgproto.data.synthetic.subjects import Subject

Color = tuple[int, int, int]
_DARK: Color = (34, 26, 26)


def _shade(color: Color, k: float | tuple[float, float, float]) -> Color:
    c = np.asarray(color, np.float64) * np.asarray(k, np.float64)
    return tuple(int(v) for v in np.clip(c, 0, 255))  # type: ignore[return-value]


def _lerp(a: Color, b: Color, w: float) -> Color:
    c = (1 - w) * np.asarray(a, np.float64) + w * np.asarray(b, np.float64)
    return tuple(int(v) for v in np.clip(c, 0, 255))  # type: ignore[return-value]


def _disc(draw: ImageDraw.ImageDraw, c: np.ndarray, r: float, fill: Color) -> None:
    draw.ellipse([c[0] - r, c[1] - r, c[0] + r, c[1] + r], fill=fill)


def _stroke(draw: ImageDraw.ImageDraw, a: np.ndarray, b: np.ndarray, width: float,
            fill: Color) -> None:  # fmt: skip
    """A thick line with round ends."""
    draw.line([tuple(a), tuple(b)], fill=fill, width=max(1, round(width)))
    if width >= 2:
        _disc(draw, a, width / 2, fill)
        _disc(draw, b, width / 2, fill)


def _ellipse(c: np.ndarray, rx: float, ry: float, roll: float, a0: float = 0.0,
             a1: float = 2 * np.pi, n: int = 28) -> list[tuple[float, float]]:  # fmt: skip
    """Points of a rotated ellipse (arc from a0 to a1) as a polygon."""
    a = np.linspace(a0, a1, n)
    x, y = rx * np.cos(a), ry * np.sin(a)
    cos, sin = np.cos(roll), np.sin(roll)
    return list(zip(c[0] + cos * x - sin * y, c[1] + sin * x + cos * y))


class _Head:
    """Head-local to canvas coordinates for one frame (u half-widths right, v half-heights down)."""

    def __init__(self, centre: np.ndarray, rx: float, ry: float, roll: float, yaw: float):
        self.centre, self.rx, self.ry, self.roll, self.yaw = centre, rx, ry, roll, yaw

    def at(self, u: float, v: float, depth: float = 1.0) -> np.ndarray:
        x = u * self.rx + depth * YAW_SHIFT * self.rx * self.yaw
        y = v * self.ry
        cos, sin = np.cos(self.roll), np.sin(self.roll)
        return self.centre + np.array([cos * x - sin * y, sin * x + cos * y])

    def poly(self, pts: list[tuple[float, float]], depth: float = 0.6) -> list[tuple]:
        return [tuple(self.at(u, v, depth)) for u, v in pts]


def _draw_head(draw: ImageDraw.ImageDraw, look: Subject, head: _Head, kp: np.ndarray,
               mouth: np.ndarray, cue: float, rgb_cue: str | None) -> None:  # fmt: skip
    rx, ry = head.rx, head.ry
    skin = look.skin
    for j in EAR:
        c = kp[j]
        draw.ellipse([c[0] - 0.2 * rx, c[1] - 0.32 * ry, c[0] + 0.2 * rx, c[1] + 0.32 * ry],
                     fill=_shade(skin, 0.88))  # fmt: skip
    draw.polygon(_ellipse(head.centre, rx, ry, head.roll), fill=skin)
    if rgb_cue == "puff_cheeks" and cue > 0.02:
        blush = _lerp(skin, _shade(skin, (1.12, 0.84, 0.84)), cue)
        for u in (-0.74, 0.74):
            _disc(draw, head.at(u, 0.33, 0.5), (0.14 + 0.3 * cue) * rx, blush)
    if look.hair_style != 2:  # short or long: a cap down to the hairline
        side, mid = -0.25, -0.55
    else:  # cropped
        side, mid = -0.5, -0.75
    delta = np.arcsin(min(0.99, -side / 1.08))
    arc = [(1.07 * np.cos(a), 1.08 * np.sin(a))
           for a in np.linspace(np.pi + delta, 2 * np.pi - delta, 14)]  # fmt: skip
    hairline = [(0.9, side), (0.45, 0.92 * mid), (0.0, mid), (-0.45, 0.92 * mid), (-0.9, side)]
    draw.polygon(head.poly(arc + hairline, depth=0.3), fill=look.hair)
    for k, j in enumerate(EYE):
        s = -1.0 if k == 0 else 1.0
        _disc(draw, kp[j], max(0.6, 0.1 * rx), _DARK)
        brow = [head.at(s * 0.58, -0.3, 0.75), head.at(s * 0.18, -0.34, 0.75)]
        _stroke(draw, brow[0], brow[1], max(1.0, 0.07 * ry), _shade(look.hair, 0.8))
    _draw_mouth(draw, look, mouth, rx, ry, cue, rgb_cue)


def _draw_mouth(draw: ImageDraw.ImageDraw, look: Subject, c: np.ndarray, rx: float, ry: float,
                cue: float, rgb_cue: str | None) -> None:  # fmt: skip
    w, h = 0.32 * rx, 0.1 * ry
    lower = look.lips
    if rgb_cue == "puff_cheeks":  # pursed lips
        w, h = w * (1 - 0.4 * cue), h * (1 + 0.3 * cue)
    if rgb_cue == "bite_lip":
        lower = _lerp(look.lips, (70, 30, 30), cue)
    box = [c[0] - w, c[1] - h, c[0] + w, c[1] + h]
    draw.ellipse(box, fill=lower)
    draw.chord(box, 180, 360, fill=look.lips)
    if rgb_cue == "bite_lip" and cue > 0.02:
        draw.rectangle([c[0] - 0.6 * w, c[1] - h * (0.2 + 0.9 * cue), c[0] + 0.6 * w, c[1]],
                       fill=(236, 232, 222))  # fmt: skip
    draw.line([(c[0] - 0.9 * w, c[1]), (c[0] + 0.9 * w, c[1])], fill=_DARK, width=1)


def _palm(kp: np.ndarray, h: int, hand: float) -> tuple[np.ndarray, np.ndarray]:
    """(2,) palm centre and (2,) pointing direction of hand ``h``."""
    wrist = kp[WRIST[h]]
    d = kp[TIPS[h][2]] - wrist
    d = d / max(float(np.linalg.norm(d)), 1e-6)
    return wrist + 0.25 * hand * d, d


def _draw_object(draw: ImageDraw.ImageDraw, obj: dict, pos: np.ndarray, angle: float,
                 hand: float) -> None:  # fmt: skip
    if obj["kind"] == "ball":
        _disc(draw, pos, 0.3 * hand, obj["color"])
        return
    half = {"pen": (0.6, 0.08), "phone": (0.38, 0.22), "cube": (0.24, 0.24)}[obj["kind"]]
    hx, hy = half[0] * hand, half[1] * hand
    cos, sin = np.cos(angle), np.sin(angle)
    corners = [(sx * hx, sy * hy) for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    draw.polygon([(pos[0] + cos * x - sin * y, pos[1] + sin * x + cos * y) for x, y in corners],
                 fill=obj["color"], outline=_shade(obj["color"], 0.6))  # fmt: skip


def _draw_frame(draw: ImageDraw.ImageDraw, look: Subject, kp: np.ndarray, head: _Head,
                mouth: np.ndarray, cue: float, rgb_cue: str | None, sizes: dict,
                obj: dict, t: int, active: int) -> None:  # fmt: skip
    unit, hand, bottom = sizes["unit"], sizes["hand"], sizes["side"]
    skin, shirt = look.skin, look.shirt
    if look.hair_style == 1:  # long hair falls behind the shoulders
        back = head.at(0.0, 0.45, 0.0)
        draw.polygon(_ellipse(back, 1.22 * head.rx, 1.45 * head.ry, head.roll), fill=look.hair)
    rs, ls, neck = kp[SHOULDER[0]], kp[SHOULDER[1]], kp[1]

    def at(p: np.ndarray, dx: float, dy: float) -> tuple[float, float]:  # offset in body units
        return (float(p[0] + dx * unit), float(p[1] + dy * unit))

    torso = [at(rs, -0.035, 0.03), at(rs, 0, -0.02), at(neck, -0.05, -0.012),
             at(neck, 0.05, -0.012), at(ls, 0, -0.02), at(ls, 0.035, 0.03),
             (ls[0] + 0.01 * unit, bottom), (rs[0] - 0.01 * unit, bottom)]  # fmt: skip
    draw.polygon(torso, fill=shirt)
    neck_skin = _shade(skin, 0.94)
    _stroke(draw, np.array(at(neck, 0, 0.01)), head.centre, 0.075 * unit, neck_skin)
    draw.polygon([at(neck, -0.035, -0.015), at(neck, 0.035, -0.015), at(neck, 0, 0.05)],
                 fill=neck_skin)  # fmt: skip
    _draw_head(draw, look, head, kp, mouth, cue, rgb_cue)
    if look.table is not None:
        y = sizes["table_y"]
        draw.rectangle([0, y, bottom, bottom], fill=look.table)
        draw.rectangle([0, y + 0.05 * unit, bottom, bottom], fill=_shade(look.table, 0.7))
    for x in sizes["mics"]:
        y = sizes["table_y"]
        _stroke(draw, np.array([x, y]), np.array([x, y - 0.09 * unit]), 0.012 * unit, (60, 60, 64))
        _disc(draw, np.array([x, y - 0.09 * unit]), 0.024 * unit, (38, 38, 42))
    sleeve = shirt if look.long_sleeves else skin
    edge = 0.012 * unit  # a darker rim keeps sleeves visible in front of the same shirt
    for h in (0, 1):
        _stroke(draw, kp[SHOULDER[h]], kp[ELBOW[h]], 0.075 * unit + edge, _shade(shirt, 0.7))
        _stroke(draw, kp[SHOULDER[h]], kp[ELBOW[h]], 0.075 * unit, _shade(shirt, 0.95))
    for h in (0, 1):
        _stroke(draw, kp[ELBOW[h]], kp[WRIST[h]], 0.062 * unit + edge, _shade(sleeve, 0.7))
        _stroke(draw, kp[ELBOW[h]], kp[WRIST[h]], 0.062 * unit, sleeve)
    palms = [_palm(kp, h, hand) for h in (0, 1)]
    for centre, _ in palms:
        _disc(draw, centre, 0.3 * hand, skin)
    if rgb_cue == "object":
        pos = palms[active][0] + 0.5 * cue * (palms[1 - active][0] - palms[active][0])
        angle = obj["angle"] + 0.4 * np.sin(2 * np.pi * obj["spin"] * t / 25.0)
        _draw_object(draw, obj, pos, angle, hand)
    finger = _shade(skin, 0.95)
    for h in (0, 1):
        wrist = kp[WRIST[h]]
        for j in TIPS[h]:
            d = kp[j] - wrist
            _stroke(draw, wrist + 0.3 * d, kp[j], max(1.0, 0.11 * hand), finger)


def render_clip(*, subject: Subject, clip: SynthClip, frame_size: int, supersample: int,
                rgb_cue: str | None, rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Draw a clip's frames.

    Args:
        subject: the performer (look, room, sizes).
        clip: keypoints and render geometry from ``synthesize_clip``.
        frame_size: output frame side in pixels (even).
        supersample: drawing resolution factor (box-filtered down).
        rgb_cue: the class's RGB cue or None.
        rng: the clip's render generator (object and lighting).

    Returns:
        (T, H, W, 3) uint8 frames with H = W = frame_size.
    """
    f, margin = supersample, jitter_margin(frame_size)
    side = (frame_size + 2 * margin) * f

    def canvas(p: np.ndarray) -> np.ndarray:  # frame pixel centres -> canvas coordinates
        return (np.asarray(p, np.float64) + margin) * f + (f - 1) / 2

    lengths = subject.body_lengths()
    px = frame_size * f
    mic_rng = np.random.default_rng([subject.background_seed, 1])
    mic_x = subject.neck_x + mic_rng.choice([-1.0, 1.0], 2) * mic_rng.uniform(0.1, 0.22, 2)
    table_y = (subject.neck_y + lengths["rest_hand_y"] - 0.01) * frame_size
    sizes = {"unit": px * subject.scale, "hand": lengths["hand_len"] * px, "side": side,
             "table_y": canvas([0.0, table_y])[1],
             "mics": [canvas([x * frame_size, 0.0])[0] for x in mic_x[: subject.num_mics]]
             if subject.table is not None else []}  # fmt: skip
    hue = rng.uniform()
    r, g, b = colorsys.hsv_to_rgb(hue, rng.uniform(0.7, 1.0), rng.uniform(0.6, 1.0))
    obj = {"kind": ("pen", "phone", "ball", "cube")[rng.integers(4)],
           "color": (int(r * 255), int(g * 255), int(b * 255)),
           "angle": rng.uniform(0, np.pi), "spin": rng.uniform(0.3, 0.8)}  # fmt: skip
    light = lighting(len(clip.cue), rng)
    wall = background_image(subject, side, float(px))
    kps, heads, mouths = canvas(clip.clean), canvas(clip.head_centre), canvas(clip.mouth)
    rx, ry = lengths["head_rx"] * px, lengths["head_ry"] * px
    frames = np.empty((len(clip.cue), frame_size, frame_size, 3), np.uint8)
    for t in range(len(clip.cue)):
        img = wall.copy()
        head = _Head(heads[t], rx, ry, float(clip.roll[t]), float(clip.yaw[t]))
        _draw_frame(ImageDraw.Draw(img), subject, kps[t], head, mouths[t], float(clip.cue[t]),
                    rgb_cue, sizes, obj, t, clip.hand)  # fmt: skip
        jx, jy = (int(v) for v in clip.jitter[t])
        x0, y0 = (margin - jx) * f, (margin - jy) * f
        view = img.crop((x0, y0, x0 + frame_size * f, y0 + frame_size * f))
        frames[t] = np.asarray(view.reduce(f) if f > 1 else view)
    return apply_lighting(frames, light)
