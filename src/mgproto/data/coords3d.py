"""3-D skeletons (x, y, z from a depth sensor): PYSKL's PreNormalize3D and flip.

PreNormalize3D (PYSKL ``PreNormalize3D``, from 2s-AGCN's NTU preprocessing) puts every clip in
one body frame: all joints are moved so that the body centre (the spine joint; NTU joint 1) of
the reference frame sits at the origin, then rotated so that the hip -> spine bone of that frame
points along +z and the left -> right shoulder vector along +x (NTU joints 0 -> 1 and 4 -> 8:
PYSKL's ``zaxis=[0, 1]``, ``xaxis=[8, 4]``). The reference frame is the first frame, of the
first person, whose hip, spine and both shoulders are valid (PYSKL takes frame 0 of person 0).
The x axis is the shoulder vector made orthogonal to the spine (Gram-Schmidt), so the spine stays
exactly on z; PYSKL's second rotation turns about ``shoulders x [1, 0, 0]`` instead, which tilts
the spine a little when the shoulders are not perpendicular to it. Invalid joints (score 0) stay
at 0. The joints are found by name in the layout (``kinect20``: hip_center, spine; ``kinect25``:
spine_base, spine_mid), never by index.

Augmentation in 3-D: a flip negates x and swaps left and right joints (in the body frame x is the
shoulder axis, so this is the mirror image of the body). Pixel crops and resizes have no 3-D
meaning and are not applied (PYSKL's 3-D pipelines crop nothing either).

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

import numpy as np

from mgproto.data.layouts import Layout
from mgproto.data.transforms import Sample, Transform, keypoint_sets

# Joint names PreNormalize3D looks up, first match wins: (hip, spine/body centre).
HIP_NAMES = ("spine_base", "hip_center")
SPINE_NAMES = ("spine_mid", "spine")


def normalization_joints(layout: Layout) -> tuple[int, int, int, int]:
    """Indices (hip, spine, right_shoulder, left_shoulder) of ``layout`` for PreNormalize3D.

    Raises:
        ValueError: naming the layout and the joints it lacks.
    """

    def first(names: tuple[str, ...]) -> int | None:
        return next((layout.joints.index(n) for n in names if n in layout.joints), None)

    found = {
        " / ".join(HIP_NAMES): first(HIP_NAMES),
        " / ".join(SPINE_NAMES): first(SPINE_NAMES),
        "right_shoulder": first(("right_shoulder",)),
        "left_shoulder": first(("left_shoulder",)),
    }
    missing = [name for name, index in found.items() if index is None]
    if missing:
        raise ValueError(
            f"layout {layout.name!r} has no joint {', '.join(map(repr, missing))} that 3-D "
            "normalisation needs (Kinect layouts have them: kinect20, kinect25); set "
            "data.pose.normalize_3d=false to use the raw coordinates"
        )
    hip, spine, right, left = found.values()
    return hip, spine, right, left  # type: ignore[return-value]


def body_frame(
    hip: np.ndarray, spine: np.ndarray, right_shoulder: np.ndarray, left_shoulder: np.ndarray
) -> np.ndarray | None:
    """(3, 3) rotation whose rows are the body's x, y, z axes in input coordinates.

    z = hip -> spine, x = left -> right shoulder minus its part along z, y = z cross x (a
    right-handed frame). None when the bones are degenerate (zero length or parallel).
    """
    z = spine - hip
    x = right_shoulder - left_shoulder
    z_len = np.linalg.norm(z)
    if z_len < 1e-9:
        return None
    z = z / z_len
    x = x - np.dot(x, z) * z
    x_len = np.linalg.norm(x)
    if x_len < 1e-9:
        return None
    x = x / x_len
    return np.stack([x, np.cross(z, x), z])


def prenormalize_3d(
    keypoint: np.ndarray, keypoint_score: np.ndarray, joints: tuple[int, int, int, int]
) -> np.ndarray:
    """Centre on the reference frame's spine joint and rotate into its body frame.

    Args:
        keypoint: (M, T, V, 3) x, y, z (any unit, e.g. metres).
        keypoint_score: (M, T, V); joints with score <= 0 are invalid.
        joints: (hip, spine, right_shoulder, left_shoulder) indices
            (:func:`normalization_joints`).

    Returns:
        (M, T, V, 3) float32 in the body frame of the reference frame (see the module
        docstring); invalid joints are 0. Without a usable reference frame the valid joints are
        returned unchanged.
    """
    if keypoint.ndim != 4 or keypoint.shape[-1] != 3:
        raise ValueError(f"prenormalize_3d needs (M, T, V, 3) keypoints, got {keypoint.shape}")
    kp = np.asarray(keypoint, np.float64)
    valid = (keypoint_score > 0) & np.isfinite(kp).all(-1)
    kp = np.where(valid[..., None], kp, 0.0)
    has_body = valid[..., list(joints)].all(-1)  # (M, T)
    rotation = None
    if has_body.any():
        m, t = np.argwhere(has_body)[0]  # person-major: person 0 first, its first such frame
        hip, spine, right, left = (kp[m, t, j] for j in joints)
        rotation = body_frame(hip, spine, right, left)
    if rotation is None:
        return kp.astype(np.float32)
    out = (kp - spine) @ rotation.T  # (M, T, V, 3): coordinates along the body's x, y, z
    return np.where(valid[..., None], out, 0.0).astype(np.float32)


def flip_keypoints_3d(
    keypoint: np.ndarray, keypoint_score: np.ndarray, flip_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror in x: x -> -x for valid joints, then swap left and right joints.

    Args:
        keypoint: (M, T, V, 3); keypoint_score: (M, T, V).
        flip_index: (V,) permutation of the layout (``Layout.flip_index``).

    Returns:
        The flipped (keypoint, keypoint_score); flipping twice gives the input back.
    """
    out = keypoint.copy()
    out[..., 0] = np.where(keypoint_score > 0, -out[..., 0], out[..., 0])
    return out[..., flip_index, :], keypoint_score[..., flip_index].copy()


class PreNormalize3D(Transform):
    """:func:`prenormalize_3d` on the record's whole sequence (before frames are sampled)."""

    requires = ("keypoint", "keypoint_score")

    def __init__(self, *, joints: tuple[int, int, int, int]) -> None:
        self.joints = tuple(joints)

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        sample["keypoint"] = prenormalize_3d(
            sample["keypoint"], sample["keypoint_score"], self.joints
        )
        return sample


class Flip3D(Transform):
    """:func:`flip_keypoints_3d` with probability ``flip_ratio``; adds ``flipped``."""

    requires = ("keypoint", "keypoint_score")
    adds = ("flipped",)

    def __init__(self, *, flip_index: np.ndarray, flip_ratio: float = 0.5) -> None:
        self.flip_index = np.asarray(flip_index)
        self.flip_ratio = flip_ratio

    def __call__(self, sample: Sample, rng: np.random.Generator) -> Sample:
        flipped = bool(rng.random() < self.flip_ratio)
        for kp, score in keypoint_sets(sample) if flipped else ():
            sample[kp], sample[score] = flip_keypoints_3d(
                sample[kp], sample[score], self.flip_index
            )
        sample["flipped"] = flipped
        return sample
