"""Keypoint layouts: joint names, limbs and left/right flip pairs.

Joint names follow the *subject's* left and right (a person facing the camera has their right
hand on the image's left). Flip pairs are derived from the names, never typed by hand: the twin
of ``left_x`` is ``right_x`` (and ``mouth_left`` of ``mouth_right``); a name without a side maps
to itself. This avoids the MiGA'23 mistake of COCO-style pairs applied to a 22-joint layout.

Axis legend: V joints, L limbs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Layout:
    """A named keypoint layout.

    Attributes:
        name: registry name (``coco17``, ``openpose137`` ...).
        joints: V joint names, in array order.
        limbs: L (a, b) joint-index pairs, the edges of limb heatmaps and skeleton drawings.
    """

    name: str
    joints: tuple[str, ...]
    limbs: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if len(set(self.joints)) != len(self.joints):
            raise ValueError(f"layout {self.name}: duplicate joint names")
        for a, b in self.limbs:
            if not (0 <= a < len(self.joints) and 0 <= b < len(self.joints)) or a == b:
                raise ValueError(f"layout {self.name}: bad limb ({a}, {b})")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @property
    def num_limbs(self) -> int:
        return len(self.limbs)

    def index(self, name: str) -> int:
        """Index of joint ``name``; raises KeyError naming the layout."""
        try:
            return self.joints.index(name)
        except ValueError:
            raise KeyError(f"layout {self.name!r} has no joint {name!r}") from None

    @cached_property
    def flip_index(self) -> np.ndarray:
        """(V,) permutation: flipped joint i is original joint ``flip_index[i]``."""
        return np.array([self.index(mirror_name(n)) for n in self.joints], dtype=np.int64)

    @cached_property
    def limb_flip_index(self) -> np.ndarray:
        """(L,) permutation of limbs under a horizontal flip."""
        lookup = {frozenset(limb): i for i, limb in enumerate(self.limbs)}
        out = []
        for a, b in self.limbs:
            mirrored = frozenset((int(self.flip_index[a]), int(self.flip_index[b])))
            if mirrored not in lookup:
                raise ValueError(f"layout {self.name}: limb ({a}, {b}) has no mirror limb")
            out.append(lookup[mirrored])
        return np.array(out, dtype=np.int64)

    def flip_pairs(self) -> list[tuple[int, int]]:
        """(left, right) index pairs, each once, in joint order."""
        return [(i, int(j)) for i, j in enumerate(self.flip_index) if i < j]


_SIDE = re.compile(r"(?<![a-z])(left|right)(?![a-z])")


def mirror_name(name: str) -> str:
    """``left_elbow`` -> ``right_elbow``; names without a side are returned unchanged."""
    return _SIDE.sub(lambda m: "right" if m.group(1) == "left" else "left", name)


def _chain(start: int, stop: int) -> list[tuple[int, int]]:
    """Edges of the polyline start, start+1, ..., stop-1."""
    return [(i, i + 1) for i in range(start, stop - 1)]


# ---- COCO-17 (also PoseConv3D's default) ----------------------------------------------------
_COCO = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
# PoseConv3D's GeneratePoseTarget default skeleton (reference-spec 3.4)
_COCO_LIMBS = (
    (0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6), (6, 8), (8, 10),
    (5, 11), (11, 13), (13, 15), (6, 12), (12, 14), (14, 16), (11, 12),
)  # fmt: skip

# ---- OpenPose COCO-18 (PYSKL / MMAction2 'openpose') ----------------------------------------
_OPENPOSE18 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
# the reference's 'openpose' graph: a tree on the neck whose hips hang on the shoulders
_OPENPOSE18_LIMBS = (
    (1, 0), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (2, 8), (8, 9), (9, 10),
    (5, 11), (11, 12), (12, 13), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip

# ---- OpenPose BODY_25 ----------------------------------------------------------------------
_BODY25 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist", "mid_hip",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
    "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel",
)  # fmt: skip
_BODY25_LIMBS = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11),
    (8, 12), (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18),
    (14, 19), (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
)  # fmt: skip


# ---- OpenPose face (70 = 68 landmarks + 2 pupils), image-left = subject's right -------------
def _face70() -> tuple[str, ...]:
    jaw = (
        [f"right_jaw_{8 - i}" for i in range(8)] + ["chin"] + [f"left_jaw_{i}" for i in range(1, 9)]
    )
    brows = [f"right_brow_{i}" for i in range(1, 6)] + [f"left_brow_{i}" for i in range(5, 0, -1)]
    nose = [f"nose_bridge_{i}" for i in range(1, 5)]
    nostrils = [
        "right_nostril_2",
        "right_nostril_1",
        "nose_base",
        "left_nostril_1",
        "left_nostril_2",
    ]
    right_eye = ["outer", "upper_outer", "upper_inner", "inner", "lower_inner", "lower_outer"]
    left_eye = ["inner", "upper_inner", "upper_outer", "outer", "lower_outer", "lower_inner"]
    eyes = [f"right_eye_{p}" for p in right_eye] + [f"left_eye_{p}" for p in left_eye]
    outer_lip = [
        "right_mouth_corner", "right_upper_lip_2", "right_upper_lip_1", "upper_lip_top",
        "left_upper_lip_1", "left_upper_lip_2", "left_mouth_corner", "left_lower_lip_2",
        "left_lower_lip_1", "lower_lip_bottom", "right_lower_lip_1", "right_lower_lip_2",
    ]  # fmt: skip
    inner_lip = [
        "right_inner_mouth_corner", "right_inner_upper_lip", "inner_upper_lip",
        "left_inner_upper_lip", "left_inner_mouth_corner", "left_inner_lower_lip",
        "inner_lower_lip", "right_inner_lower_lip",
    ]  # fmt: skip
    names = jaw + brows + nose + nostrils + eyes + outer_lip + inner_lip
    return tuple([*names, "right_pupil", "left_pupil"])


def _face70_limbs(o: int) -> list[tuple[int, int]]:
    edges = _chain(0, 17) + _chain(17, 22) + _chain(22, 27) + _chain(27, 31) + _chain(31, 36)
    edges += [*_chain(36, 42), (41, 36), *_chain(42, 48), (47, 42)]
    edges += [*_chain(48, 60), (59, 48), *_chain(60, 68), (67, 60)]
    return [(a + o, b + o) for a, b in edges]


# ---- Hands (OpenPose / MediaPipe 21-point hand) ---------------------------------------------
_FINGERS = ("thumb", "index", "middle", "ring", "pinky")
_FINGER_PARTS = {
    "thumb": ("cmc", "mcp", "ip", "tip"),
    "index": ("mcp", "pip", "dip", "tip"),
    "middle": ("mcp", "pip", "dip", "tip"),
    "ring": ("mcp", "pip", "dip", "tip"),
    "pinky": ("mcp", "pip", "dip", "tip"),
}


def _hand21(side: str) -> tuple[str, ...]:
    names = [f"{side}_hand_wrist"]
    for finger in _FINGERS:
        names += [f"{side}_{finger}_{part}" for part in _FINGER_PARTS[finger]]
    return tuple(names)


def _hand21_limbs(o: int) -> list[tuple[int, int]]:
    edges = []
    for f in range(5):
        base = 1 + 4 * f
        edges += [(0, base), *_chain(base, base + 4)]
    return [(a + o, b + o) for a, b in edges]


def _openpose137() -> Layout:
    joints = _BODY25 + _face70() + _hand21("left") + _hand21("right")
    limbs = list(_BODY25_LIMBS) + _face70_limbs(25) + _hand21_limbs(95) + _hand21_limbs(116)
    return Layout("openpose137", joints, tuple(limbs))


# ---- iMiGUE / MiGA'23 22-joint upper body (reference-spec section 7) ------------------------
# The organisers name joints by image side: BODY_25's RShoulder (index 2) is "ShoulderLeft",
# REye is "EyeLeft", and their drawing code hangs "LeftFinger1-5" off "HandLeft" (BODY_25
# RWrist). So their "RightFinger1-5" (indices 12-16) are the subject's LEFT fingertips and
# "LeftFinger1-5" (17-21) the subject's RIGHT ones. (The MiGA'23 winners' graph attaches 12-16
# to index 4, the right wrist; we follow the data provider's naming. See docs/datasets.md.)
_TIPS = tuple(f"{f}_tip" for f in _FINGERS)
_IMIGUE22 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist", "right_eye", "left_eye", "right_ear", "left_ear",
    *(f"left_{t}" for t in _TIPS), *(f"right_{t}" for t in _TIPS),
)  # fmt: skip
_IMIGUE22_LIMBS = (
    (1, 0), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (0, 8), (8, 10), (0, 9), (9, 11),
    *((7, 12 + k) for k in range(5)), *((4, 17 + k) for k in range(5)),
)  # fmt: skip

# ---- MM-Gesture (MiGA'25) 36 points: body 0-7, 15-18, 12 face points, wrist + tips per hand --
_IMIGUE36 = (
    *_BODY25[:8], *_BODY25[15:19],
    "right_jaw_6", "right_jaw_4", "chin", "left_jaw_4", "left_jaw_6",
    "right_brow_3", "left_brow_3", "nose_bridge_1",
    "right_mouth_corner", "upper_lip_top", "left_mouth_corner", "lower_lip_bottom",
    "left_hand_wrist", *(f"left_{t}" for t in _TIPS),
    "right_hand_wrist", *(f"right_{t}" for t in _TIPS),
)  # fmt: skip
_IMIGUE36_LIMBS = (
    (1, 0), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (0, 8), (8, 10), (0, 9), (9, 11),
    (12, 13), (13, 14), (14, 15), (15, 16), (17, 19), (18, 19), (19, 0), (19, 21), (23, 14),
    (20, 21), (20, 23), (21, 22), (22, 23),
    (7, 24), *((24, 25 + k) for k in range(5)), (4, 30), *((30, 31 + k) for k in range(5)),
)  # fmt: skip

# ---- Kinect v1 (20 joints: MSR Action3D, UTKinect) -----------------------------------------
_KINECT20 = (
    "hip_center", "spine", "shoulder_center", "head",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot",
    "right_hip", "right_knee", "right_ankle", "right_foot",
)  # fmt: skip
_KINECT20_LIMBS = (
    (0, 1), (1, 2), (2, 3), (2, 4), (4, 5), (5, 6), (6, 7), (2, 8), (8, 9), (9, 10), (10, 11),
    (0, 12), (12, 13), (13, 14), (14, 15), (0, 16), (16, 17), (17, 18), (18, 19),
)  # fmt: skip

# ---- Kinect v2 (25 joints: NTU RGB+D, SMG); hand tip and thumb on the hand, as the reference's
# 'nturgb+d' graph ---------------------------------------------------------------------------
_KINECT25 = (
    "spine_base", "spine_mid", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot",
    "right_hip", "right_knee", "right_ankle", "right_foot",
    "spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",
)  # fmt: skip
_KINECT25_LIMBS = (
    (0, 1), (1, 20), (20, 2), (2, 3), (20, 4), (4, 5), (5, 6), (6, 7), (7, 21), (7, 22),
    (20, 8), (8, 9), (9, 10), (10, 11), (11, 23), (11, 24),
    (0, 12), (12, 13), (13, 14), (14, 15), (0, 16), (16, 17), (17, 18), (18, 19),
)  # fmt: skip

# ---- MediaPipe / BlazePose 33 --------------------------------------------------------------
_MEDIAPIPE33 = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer", "left_ear", "right_ear",
    "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
_MEDIAPIPE33_LIMBS = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip


LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout("coco17", _COCO, _COCO_LIMBS),
        Layout("openpose18", _OPENPOSE18, _OPENPOSE18_LIMBS),
        Layout("openpose25", _BODY25, _BODY25_LIMBS),
        _openpose137(),
        Layout("imigue22", _IMIGUE22, _IMIGUE22_LIMBS),
        Layout("imigue36", _IMIGUE36, _IMIGUE36_LIMBS),
        Layout("kinect20", _KINECT20, _KINECT20_LIMBS),
        Layout("kinect25", _KINECT25, _KINECT25_LIMBS),
        Layout("mediapipe33", _MEDIAPIPE33, _MEDIAPIPE33_LIMBS),
    )
}


def get_layout(name: str) -> Layout:
    """The layout called ``name``; raises with the valid names."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; valid layouts: {', '.join(LAYOUTS)}") from None


def subset_indices(src: str | Layout, dst: str | Layout) -> np.ndarray:
    """(V_dst,) indices into ``src`` that give the joints of ``dst``, matched by name."""
    src_l = src if isinstance(src, Layout) else get_layout(src)
    dst_l = dst if isinstance(dst, Layout) else get_layout(dst)
    out = []
    for name in dst_l.joints:
        if name not in src_l.joints:
            raise KeyError(
                f"cannot select layout {dst_l.name!r} from {src_l.name!r}: "
                f"{src_l.name!r} has no joint {name!r}"
            )
        out.append(src_l.joints.index(name))
    return np.array(out, dtype=np.int64)


def select_layout(
    keypoint: np.ndarray, keypoint_score: np.ndarray, src: str, dst: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pick the joints of layout ``dst`` out of arrays in layout ``src`` (e.g. 137 -> 22).

    Args:
        keypoint: (..., V_src, 2) coordinates.
        keypoint_score: (..., V_src) confidences.

    Returns:
        (..., V_dst, 2) and (..., V_dst) arrays (copies).
    """
    idx = subset_indices(src, dst)
    src_v = get_layout(src).num_joints
    if keypoint.shape[-2] != src_v or keypoint_score.shape[-1] != src_v:
        raise ValueError(
            f"layout {src!r} has {src_v} joints but the arrays have "
            f"{keypoint.shape[-2]} / {keypoint_score.shape[-1]}"
        )
    return keypoint[..., idx, :].copy(), keypoint_score[..., idx].copy()
