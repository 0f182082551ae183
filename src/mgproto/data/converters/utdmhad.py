"""UTD-MHAD (Chen, Jafari and Kehtarnavaz, ICIP 2015): Kinect v1 skeletons, 27 actions.

Files: one ``aA_sS_tT_skeleton.mat`` per sequence (action A 1-27, subject S 1-8, trial T 1-4;
the numbers may be zero-padded), a MATLAB v5 file holding ``d_skel``, an array of 20 joints x
3 coordinates (x, y, z in metres, camera coordinates, y up) x frames. Each file is one clip,
named by its stem without ``_skeleton`` (``a1_s1_t1``), of class action - 1; its frames are
rows 0..T-1 at 30 fps. Other ``.mat`` files (the release's depth and inertial files) are not
read.

Joint order: the dataset's ``Skeleton_joint_order.txt`` (:data:`JOINTS`) lists the same 20
joints as the Kinect SDK but starts from the head (head, shoulder centre, spine, hip centre);
the converter reorders them by name into layout ``kinect20`` (:data:`TO_KINECT20`), so every
recipe and graph made for UTKinect applies unchanged. Left and right are the subject's, as in
``kinect20``: the joint the file calls ``right_hand`` is the one that moves in the right-hand
actions, and it lies at larger x, where UTKinect's right hand lies.

Coordinates: those of UTKinect (:mod:`mgproto.data.converters.utkinect`), the same Kinect v1
camera space: by default the joints projected into the 640x480 depth image with
:func:`~mgproto.data.converters.utkinect.project`, with ``coords="3d"`` the native metres.
A joint that is not finite or has z <= 0 gets score 0; a clip with such joints is written with
a warning, and one with no valid joint is skipped.

Split: cross-subject, odd subjects (1, 3, 5, 7) train and even subjects (2, 4, 6, 8) test (the
usual protocol, as the dataset's README gives it), unless ``test_subjects`` says otherwise.

``yaw`` and ``frame_step`` make the view and frame-rate variants of UTKinect's converter (a
camera turned about the vertical axis, :func:`~mgproto.data.converters.utkinect.rotate_view`;
every ``frame_step``-th frame), recorded in ``meta["variant"]``.

Axis legend: M persons, T frames, V joints.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from mgproto.data.annotations import AnnotationFile
from mgproto.data.converters.utkinect import (
    COORDS,
    IMG_SHAPE,
    Coords,
    camera_joints,
    project,
    rotate_view,
)
from mgproto.data.layouts import get_layout
from mgproto.data.sequences import (
    ClipRange,
    ConversionError,
    ConversionReport,
    Recording,
    UnknownClassError,
    build_file,
    cut_clips,
)

# The dataset README's action list, in label order (action A is class A - 1).
CLASSES = (
    "right arm swipe to the left", "right arm swipe to the right", "right hand wave",
    "two hand front clap", "right arm throw", "cross arms in the chest", "basketball shoot",
    "right hand draw x", "right hand draw circle clockwise",
    "right hand draw circle counter clockwise", "draw triangle", "bowling right hand",
    "front boxing", "baseball swing from right", "tennis right hand forehand swing",
    "arm curl two arms", "tennis serve", "two hand push", "right hand knock on door",
    "right hand catch an object", "right hand pick up and throw", "jogging in place",
    "walking in place", "sit to stand", "stand to sit", "forward lunge left foot forward",
    "squat two arms stretch out",
)  # fmt: skip
# Skeleton_joint_order.txt: the rows of d_skel, by the names of layout kinect20.
JOINTS = (
    "head", "shoulder_center", "spine", "hip_center",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot",
    "right_hip", "right_knee", "right_ankle", "right_foot",
)  # fmt: skip
# (20,) row of d_skel that gives each kinect20 joint: keypoint[..., TO_KINECT20, :]
TO_KINECT20 = np.array([JOINTS.index(name) for name in get_layout("kinect20").joints])
VARIABLE = "d_skel"  # the array each file holds
FPS = 30.0
MAX_METRES = 100.0  # larger coordinates are damage: the Kinect v1 sees 0.8-4 m (the data: < 4.1)
TEST_SUBJECTS = (2, 4, 6, 8)  # cross-subject: even subjects test
_NAME = re.compile(r"^a(\d+)_s(\d+)_t(\d+)_skeleton\.mat$")


def read_mat(path: Path) -> np.ndarray:
    """The joints of one ``aA_sS_tT_skeleton.mat``, in the file's joint order.

    Returns:
        (T, 20, 3) float64 x, y, z in metres (T may be 0).
    """
    from scipy.io import loadmat  # imported here: scipy.io takes 0.2 s, and only this reads it

    try:
        contents = loadmat(path)
    except Exception as err:  # damaged bytes fail in many ways: OSError, zlib.error, ...
        raise ConversionError(
            f"{path}: not a readable MATLAB file ({type(err).__name__}: {err})"
        ) from None
    if VARIABLE not in contents:
        found = ", ".join(k for k in contents if not k.startswith("__")) or "none"
        raise ConversionError(f"{path}: no variable {VARIABLE!r} (variables: {found})")
    skel = contents[VARIABLE]
    if not isinstance(skel, np.ndarray) or skel.dtype.kind not in "fiu":
        kind = getattr(skel, "dtype", type(skel).__name__)
        raise ConversionError(f"{path}: {VARIABLE} is not a numeric array ({kind})")
    if skel.shape == (20, 3):  # MATLAB drops the trailing axis of a one-frame sequence
        skel = skel[..., None]
    if skel.ndim != 3 or skel.shape[:2] != (20, 3):
        raise ConversionError(
            f"{path}: {VARIABLE} has shape {skel.shape}, expected (20, 3, frames): "
            "20 joints x (x, y, z) x frames"
        )
    skel = skel.astype(np.float64)
    far = np.abs(np.where(np.isfinite(skel), skel, 0))
    if far.size and far.max() > MAX_METRES:
        joint, axis, frame = np.unravel_index(far.argmax(), far.shape)
        raise ConversionError(
            f"{path}: frame {frame}, joint {joint + 1} ({JOINTS[joint]}): {'xyz'[axis]} = "
            f"{skel[joint, axis, frame]:.4g} m, beyond the +-{MAX_METRES:g} m of a Kinect"
        )
    return np.moveaxis(skel, 2, 0)  # (20, 3, T) -> (T, 20, 3)


def read_skeleton(
    path: Path, *, coords: Coords = "2d", yaw: float = 0.0, frame_step: int = 1
) -> Recording:
    """Read one ``aA_sS_tT_skeleton.mat`` into a Recording (M=1, V=20, layout kinect20):
    pixels of the 640x480 depth image, or metres with ``coords="3d"``; ``yaw`` (degrees) turns
    the view, ``frame_step`` keeps every n-th frame."""
    if frame_step < 1:
        raise ValueError(f"frame_step must be >= 1, got {frame_step}")
    match = _NAME.match(path.name)
    if match is None:
        raise ConversionError(f"{path}: name must look like aA_sS_tT_skeleton.mat")
    xyz = read_mat(path)[::frame_step, TO_KINECT20]
    if yaw:
        xyz = rotate_view(xyz, yaw)
    kp, score = camera_joints(xyz) if coords == "3d" else project(xyz)
    return Recording(
        video_id=path.name.removesuffix("_skeleton.mat"),
        keypoint=kp[None],
        keypoint_score=score[None],
        img_shape=IMG_SHAPE,
        layout="kinect20",
        subject_id=str(int(match.group(2))),
        fps=FPS / frame_step,
        source=str(path),
    )


def label_of(action: int) -> int:
    """Class of action number ``action`` (1-27)."""
    if not 1 <= action <= len(CLASSES):
        raise UnknownClassError(f"unknown UTD-MHAD action {action} (valid: 1..{len(CLASSES)})")
    return action - 1


def convert(
    root: Path,
    *,
    coords: Coords = "2d",
    test_subjects: tuple[int, ...] | None = None,
    yaw: float = 0.0,
    frame_step: int = 1,
) -> tuple[AnnotationFile, ConversionReport]:
    """Convert the UTD-MHAD skeleton folder ``root``: every ``aA_sS_tT_skeleton.mat`` in it
    becomes one clip; ``coords`` picks 2-D pixels (projected) or the native 3-D joints; ``yaw``
    and ``frame_step`` make the view and frame-rate variants of the module docstring."""
    if coords not in COORDS:
        raise ValueError(f"coords must be one of {', '.join(COORDS)}, got {coords!r}")
    if frame_step < 1:
        raise ValueError(f"frame_step must be >= 1, got {frame_step}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: folder not found")
    paths = sorted(root.glob("*_skeleton.mat"))
    if not paths:
        raise ConversionError(f"{root}: no *_skeleton.mat files (UTD-MHAD's aA_sS_tT_skeleton.mat)")
    report = ConversionReport()
    named = []
    for path in paths:
        match = _NAME.match(path.name)
        if match is None:
            report.skip(str(path), "name is not aA_sS_tT_skeleton.mat (A action, S subject, "
                        "T trial)", kind="name does not parse", unit="file", clips=1)  # fmt: skip
            continue
        named.append((tuple(int(g) for g in match.groups()), path))
    records = []
    for (action, _, _), path in sorted(named):
        recording = read_skeleton(path, coords=coords, yaw=yaw, frame_step=frame_step)
        if recording.num_frames == 0:
            report.skip(str(path), f"{VARIABLE} has no frames", kind="no frames")
            continue
        score = recording.keypoint_score
        missing = int(np.sum(score == 0))
        if 0 < missing < score.size:
            report.warn(str(path), f"{missing} of {score.size} joint positions are not finite or "
                        "have z <= 0 (score 0)")  # fmt: skip
        clip = ClipRange(recording.video_id, action, 0, recording.num_frames - 1)
        records += cut_clips(recording, [clip], label_of=label_of, report=report)
    test = set(test_subjects) if test_subjects else set(TEST_SUBJECTS)

    def split_of(r: dict) -> str:
        return "test" if int(r["subject_id"]) in test else "train"

    meta = {"dataset": "utdmhad", "layout": "kinect20", "classes": list(CLASSES)}
    if yaw or frame_step != 1:
        meta["variant"] = {"yaw": float(yaw), "frame_step": int(frame_step)}
    file = build_file(records, split_of=split_of, meta=meta, report=report, source=str(root))
    return file, report
