"""Pure maps from MediaPipe landmarks to the project's keypoint layouts, and a subject gate.

MediaPipe returns landmarks normalised by the image size (x / W, y / H). Its names follow the
*subject's* left and right, as ours do: pose ``LEFT_SHOULDER`` (11) is the subject's left
shoulder, which appears on the image's right when they face the camera, and Holistic's
``left_hand_landmarks`` is the hand it found at the pose's left wrist. So no side swaps here.

Every joint of a layout is looked up by name in one stacked array of all landmarks of a frame
(:func:`stack_landmarks`): the 33 BlazePose points (names of layout ``mediapipe33``), the
21 points of each hand (same order as the OpenPose hand, names ``{side}_{finger}_{part}``),
12 face-mesh points for the iMiGUE-36 face joints, and ``neck`` (shoulder midpoint).

Axis legend: S stacked landmarks (33 + 21 + 21 + 12 + 1), V joints, 2 = (x, y) pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mgproto.data.layouts import LAYOUTS, Layout, get_layout

SUPPORTED_LAYOUTS = ("coco17", "imigue22", "imigue36")

# BlazePose 33 -> COCO-17 (also what subset_indices('mediapipe33', 'coco17') gives).
POSE_TO_COCO17 = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
HAND_TIPS = (4, 8, 12, 16, 20)  # MediaPipe hand: thumb, index, middle, ring, pinky tips

# Face-mesh (468) indices of the iMiGUE-36 face joints (68-point names). Chosen on the mesh's
# face oval by the 68-point mean shape: jaw_6 at the nose-tip height, jaw_4 at the mouth
# corners' height; brow_3 = brow centre, nose_bridge_1 = between the eyes.
FACE_MESH_POINTS = {
    "right_jaw_6": 132,
    "right_jaw_4": 58,
    "chin": 152,
    "left_jaw_4": 288,
    "left_jaw_6": 361,
    "right_brow_3": 105,
    "left_brow_3": 334,
    "nose_bridge_1": 168,
    "right_mouth_corner": 61,
    "upper_lip_top": 0,
    "left_mouth_corner": 291,
    "lower_lip_bottom": 17,
}

_POSE_NAMES = LAYOUTS["mediapipe33"].joints
_FINGER_PARTS = (
    ("thumb", ("cmc", "mcp", "ip", "tip")),
    ("index", ("mcp", "pip", "dip", "tip")),
    ("middle", ("mcp", "pip", "dip", "tip")),
    ("ring", ("mcp", "pip", "dip", "tip")),
    ("pinky", ("mcp", "pip", "dip", "tip")),
)
_HAND_NAMES = ("hand_wrist", *(f"{f}_{part}" for f, parts in _FINGER_PARTS for part in parts))
STACK_NAMES: tuple[str, ...] = (
    *_POSE_NAMES,
    *(f"left_{n}" for n in _HAND_NAMES),
    *(f"right_{n}" for n in _HAND_NAMES),
    *FACE_MESH_POINTS,
    "neck",
)
_L_HAND, _R_HAND, _FACE = 33, 54, 75
_NECK = len(STACK_NAMES) - 1


@dataclass(frozen=True, kw_only=True)
class FrameLandmarks:
    """What MediaPipe found in one frame, normalised to [0, 1] by width and height.

    Attributes:
        pose: (33, 3) x, y, visibility of the BlazePose landmarks, or None (no person).
        left_hand: (21, 2) the subject's left hand, or None.
        right_hand: (21, 2) the subject's right hand, or None.
        face: (468, 2) face-mesh points, or None.
    """

    pose: np.ndarray | None = None
    left_hand: np.ndarray | None = None
    right_hand: np.ndarray | None = None
    face: np.ndarray | None = None


def layout_indices(layout: str | Layout) -> np.ndarray:
    """(V,) index of each joint of ``layout`` in the stacked landmarks (-1 = no source)."""
    lay = layout if isinstance(layout, Layout) else get_layout(layout)
    return np.array([STACK_NAMES.index(n) if n in STACK_NAMES else -1 for n in lay.joints])


def assign_hands(
    left: np.ndarray | None,
    right: np.ndarray | None,
    left_wrist: np.ndarray,
    right_wrist: np.ndarray,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Give each hand to the side whose pose wrist is nearer its own wrist point.

    Holistic crops each hand around the matching pose wrist, so this only changes anything when
    the hands cross; it makes the hands' sides follow the pose's sides.

    Args:
        left, right: (21, 2) hands (any common unit) or None.
        left_wrist, right_wrist: (2,) the pose's left and right wrists, same unit.

    Returns:
        (left, right), possibly swapped.
    """

    def dist(hand: np.ndarray | None, wrist: np.ndarray) -> float:
        return 0.0 if hand is None else float(np.linalg.norm(hand[0] - wrist))

    kept = dist(left, left_wrist) + dist(right, right_wrist)
    swapped = dist(left, right_wrist) + dist(right, left_wrist)
    return (right, left) if swapped < kept else (left, right)


def stack_landmarks(
    frame: FrameLandmarks,
    *,
    img_shape: tuple[int, int],
    hand_score: float = 1.0,
    face_score: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """All landmarks of a frame in pixels, in :data:`STACK_NAMES` order.

    Args:
        frame: normalised landmarks.
        img_shape: (H, W) of the frame.
        hand_score, face_score: score of every point of a detected hand / face (MediaPipe gives
            these points no per-point confidence). Pose points score their visibility.

    Returns:
        (S, 2) float32 pixel coordinates and (S,) float32 scores; parts not found are (0, 0)
        with score 0.
    """
    h, w = img_shape
    scale = np.array([w, h], np.float32)
    xy = np.zeros((len(STACK_NAMES), 2), np.float32)
    score = np.zeros(len(STACK_NAMES), np.float32)
    if frame.pose is not None:
        pose = np.asarray(frame.pose, np.float32)
        xy[:33] = pose[:, :2] * scale
        score[:33] = np.clip(pose[:, 2], 0, 1)
        left_sh, right_sh = _POSE_NAMES.index("left_shoulder"), _POSE_NAMES.index("right_shoulder")
        xy[_NECK] = (xy[left_sh] + xy[right_sh]) / 2
        score[_NECK] = min(score[left_sh], score[right_sh])
    parts = (
        (frame.left_hand, _L_HAND, 21, hand_score),
        (frame.right_hand, _R_HAND, 21, hand_score),
    )
    face = None if frame.face is None else np.asarray(frame.face)[list(FACE_MESH_POINTS.values())]
    for points, start, n, s in (*parts, (face, _FACE, len(FACE_MESH_POINTS), face_score)):
        if points is not None:
            xy[start : start + n] = np.asarray(points, np.float32)[:, :2] * scale
            score[start : start + n] = s
    return xy, score


def to_layout(
    xy: np.ndarray,
    score: np.ndarray,
    *,
    layout: str | Layout,
    img_shape: tuple[int, int],
    min_score: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick the joints of ``layout`` from stacked landmarks and apply the missing-joint rule.

    A joint is missing, i.e. (0, 0) with score 0, if it has no MediaPipe source, its part was not
    found, its score is below ``min_score`` or it lies outside the frame (MediaPipe extrapolates
    body parts beyond the image border; such guesses are dropped).

    Args:
        xy: (S, 2) pixels from :func:`stack_landmarks`.
        score: (S,) scores.
        layout: target layout name.
        img_shape: (H, W) of the frame.
        min_score: scores below this count as not detected.

    Returns:
        (V, 2) float32 keypoints and (V,) float32 scores.
    """
    idx = layout_indices(layout)
    has = idx >= 0
    kp = np.where(has[:, None], xy[idx], 0).astype(np.float32)
    sc = np.where(has, score[idx], 0).astype(np.float32)
    h, w = img_shape
    inside = (kp[:, 0] >= 0) & (kp[:, 0] <= w) & (kp[:, 1] >= 0) & (kp[:, 1] <= h)
    keep = inside & (sc >= min_score) & (sc > 0)
    return np.where(keep[:, None], kp, 0).astype(np.float32), np.where(keep, sc, 0).astype(
        np.float32
    )


_SHOULDERS = (_POSE_NAMES.index("left_shoulder"), _POSE_NAMES.index("right_shoulder"))
_TORSO = (*_SHOULDERS, _POSE_NAMES.index("left_hip"), _POSE_NAMES.index("right_hip"))


def body_centre_and_size(
    xy: np.ndarray, score: np.ndarray, *, min_score: float = 0.5
) -> tuple[np.ndarray, float] | None:
    """Torso centre and body size of one BlazePose detection, or None if nothing is confident.

    Args:
        xy: (33, 2) pose landmarks in pixels (the first 33 rows of the stack).
        score: (33,) visibilities.
        min_score: landmarks below this are ignored.

    Returns:
        ((2,) mean of the confident shoulders and hips, or of all confident points when no
        torso point is; the shoulder width, or when a shoulder is not confident the diagonal
        of the confident points' bounding box), or None. The shoulder width is used first
        because it does not depend on how much of the body the frame shows.
    """
    ok = score[:33] >= min_score
    if not ok.any():
        return None
    torso = [i for i in _TORSO if ok[i]]
    centre = xy[torso].mean(axis=0) if torso else xy[:33][ok].mean(axis=0)
    if ok[list(_SHOULDERS)].all():
        return centre, float(np.linalg.norm(xy[_SHOULDERS[0]] - xy[_SHOULDERS[1]]))
    pts = xy[:33][ok]
    return centre, float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0)))


@dataclass(kw_only=True)
class SubjectGate:
    """Rejects a detection that looks like a different, smaller person than the main subject.

    MediaPipe Pose finds one person and then tracks it; when it loses that person it re-detects
    and may land on someone else (often a smaller person in the background). A detection is
    rejected if, compared with the last accepted one no more than ``memory`` frames earlier,
    its torso centre moved more than ``max_jump`` frame diagonals *and* its body is smaller than
    ``min_size_ratio`` times. After ``memory`` frames without an accepted detection the gate
    accepts anyone again (the main subject has gone).

    Attributes:
        max_jump: largest torso-centre move, as a fraction of the frame diagonal.
        min_size_ratio: a jumping detection smaller than this times the subject is rejected.
        memory: frames an accepted detection stays the reference.
    """

    max_jump: float = 0.25
    min_size_ratio: float = 0.5
    memory: int = 50
    _ref: tuple[int, np.ndarray, float] | None = None

    def accept(self, t: int, centre: np.ndarray, size: float, *, diagonal: float) -> bool:
        """Whether the detection at frame ``t`` is the main subject; updates the reference.

        Args:
            t: frame index (increasing).
            centre: (2,) torso centre in pixels.
            size: body size in pixels.
            diagonal: the frame diagonal in pixels.
        """
        if self._ref is not None and t - self._ref[0] <= self.memory:
            _, ref_centre, ref_size = self._ref
            jump = float(np.linalg.norm(np.asarray(centre) - ref_centre)) / diagonal
            if jump > self.max_jump and size < self.min_size_ratio * ref_size:
                return False
        self._ref = (t, np.asarray(centre, np.float32), float(size))
        return True
