"""``mgproto convert <format>``: the command-line face of the dataset converters.

Each format has its options and its user-facing description here, and calls its converter's
plain ``convert(...)`` function (``mgproto.data.converters.<format>``, whose docstring holds the
details for developers), which returns ``(AnnotationFile, ConversionReport)``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mgproto.commands.argtypes import degrees, positive_int
from mgproto.data.converters import imigue, miga2023, miga2025, smg, utdmhad, utkinect


@dataclass(frozen=True)
class Format:
    help: str  # one line, in `mgproto convert --help`
    description: str  # `mgproto convert <format> --help`: what is read, how clips are made
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], tuple]


# What every conversion prints and writes, after the format's own description.
COMMON = (
    "Clips that cannot be converted (an unknown class, a range outside the recording, no "
    "skeleton) are skipped; the summary counts them and shows the first few, and a file beside "
    "the output lists them all (out.pkl -> out.skipped.txt). docs/datasets.md gives each "
    "format's details and sources."
)

IMIGUE = """\
Read the iMiGUE raw release: one folder per video (named by its number, e.g. 298 or 0298) of
OpenPose JSON files, one per frame (*_<12-digit frame>_keypoints.json), and the dataset's
label CSV (columns video_id, start_frame, end_frame, class, subject_id, ...).

Each label row becomes one clip, <video>_<k> (k counts the video's rows by start frame). The
main person is followed from frame to frame; frames with no person or a missing file get score
0. Class 99 (non-micro-gesture) becomes class 31, the others class - 1.

Splits: the MiGA track-1 split (val: videos 1-4 and 6-11; test: the subjects outside the
official training subjects; train: the rest), or your own with --split-file. Coordinates
refer to --img-shape (default 720 1280)."""

MIGA2023 = """\
Read the MiGA 2023 skeleton package: per video, a folder <vid4> holding <vid4>_light_hand.csv
(one row per frame: an index, then 35 joints x (x, y, confidence): OpenPose BODY_25 plus five
fingertips per hand) and <vid4>_label.csv (rows class,start,end; frames from 0, end included).

Each label row becomes one clip, <vid4>_<k>. Class 99 (non-micro-gesture) becomes class 31,
the others class - 1. A missing skeleton or label file is an error naming the file.

Give the folders of video folders: the split of each is guessed from its name (train, val or
test in the name; else no split), or named with --split-root NAME=PATH. A folder holding
such folders also works. Coordinates refer to --img-shape (default 1080 1920)."""

MIGA2025 = """\
Read the MiGA 2025 skeleton package: per video, a folder <vid4> holding <vid4>_openpose.xlsx
(or the same sheet saved as <vid4>_openpose.csv, which reads much faster; one row per frame,
137 OpenPose keypoints x (x, y, confidence); a header row and an index column are detected)
and <vid4>_label.csv (rows class,start,end; frames from 0, end included).

Clips, classes and splits as for miga2023. The default layout is imigue36 (the 36 points
MM-Gesture used); coordinates refer to --img-shape (default 720 1280)."""

SMG = """\
Read the SMG dataset (Kinect v2, 17 micro-gesture classes): per sample, a folder SampleXXXX
holding SampleXXXX_skeleton.csv (one row per frame, 25 joints x 11 values),
SampleXXXX_finelabels.csv (rows label,start,end; labels 1-17, frames from 0, end included) and
optionally SampleXXXX_data.csv (the frame rate).

Each label row becomes one clip, SampleXXXX_<k>, of class label - 1, in layout kinect25 with
2-D points in the colour image (1080 x 1920) or, with --coords depth, the depth image
(424 x 512). Split: cross-subject, the sample number is the subject; test subjects 36-40 unless
--test-subjects says otherwise."""

UTKINECT = """\
Read UTKinect-Action3D (Kinect v1, 20 joints, 10 actions): joints_sSS_eEE.txt (one line per
frame: a frame id, then 20 joints x (x, y, z) in metres) and the label file actionLabel.txt
(per recording, "action: start end" in frame ids).

Each action of a recording becomes one clip, sSS_eEE_<action>, in layout kinect20: by default
the joints projected into the 640 x 480 depth image (--coords 2d), or the native x, y, z in
metres (--coords 3d, for the coordinate models). Split: cross-subject, odd subjects train and
even subjects test unless --test-subjects says otherwise.

--yaw and --frame-step make a different dataset from the same people (a camera to the side, a
lower frame rate), to check that a recipe carries over."""

UTDMHAD = """\
Read the UTD-MHAD skeletons (Kinect v1, 20 joints, 27 actions, 8 subjects): one
aA_sS_tT_skeleton.mat per sequence (action A, subject S, trial T), a MATLAB file holding
d_skel, 20 joints x (x, y, z) in metres x frames. Other .mat files are not read.

Each file becomes one clip, aA_sS_tT, of class A - 1. The joints are reordered by name from
the dataset's order (head first) into layout kinect20, as for UTKinect: by default projected
into the 640 x 480 depth image (--coords 2d), or the native x, y, z in metres (--coords 3d).
Split: cross-subject, odd subjects train and even subjects test unless --test-subjects says
otherwise. --yaw and --frame-step make the variants that utkinect's do. UTD-MHAD is free for
research use only; cite its paper (docs/datasets.md)."""


def _img_shape(parser: argparse.ArgumentParser, default: tuple[int, int], why: str) -> None:
    parser.add_argument(
        "--img-shape", type=positive_int, nargs=2, metavar=("H", "W"), default=list(default),
        help=f"frame size the pixel coordinates refer to (default {default[0]} {default[1]}, "
        f"{why})",
    )  # fmt: skip


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", required=True,
        help="output file: .pkl (PYSKL / MMAction2) or .npz (mgproto, pickle-free)",
    )  # fmt: skip


def _imigue_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="folder with one OpenPose JSON folder per video")
    p.add_argument("--labels", required=True, help="the dataset label CSV")
    p.add_argument("--layout", choices=imigue.LAYOUTS, default="imigue22", help="output layout")
    _img_shape(p, imigue.IMG_SHAPE, "some MiGA 2023 entries used 1080 1920")
    p.add_argument(
        "--split-file", default=None,
        help="JSON {split: [video ids]} (default: the MiGA track-1 train/val/test split)",
    )  # fmt: skip
    p.add_argument(
        "--skip-corrupt", action="store_true",
        help="give a corrupt JSON frame score 0 and report it instead of stopping",
    )  # fmt: skip
    _output(p)


def _imigue_run(args: argparse.Namespace) -> tuple:
    return imigue.convert(
        Path(args.root), labels=Path(args.labels), layout=args.layout,
        img_shape=tuple(args.img_shape), progress=True, skip_corrupt=args.skip_corrupt,
        split_file=Path(args.split_file) if args.split_file else None,
    )  # fmt: skip


def _package_args(layouts: tuple[str, ...], layout: str, shape: tuple[int, int], why: str):
    """The options shared by the MiGA'23 and '25 skeleton packages."""

    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "roots", nargs="*", type=Path,
            help="folders of <vid4> video folders (split guessed from the name), or their parent",
        )  # fmt: skip
        p.add_argument(
            "--split-root", action="append", default=[], type=miga2023.parse_split_root,
            metavar="NAME=PATH", help="a folder of video folders whose clips form split NAME "
            "(repeatable)",
        )  # fmt: skip
        p.add_argument("--layout", choices=layouts, default=layout, help="output layout")
        _img_shape(p, shape, why)
        _output(p)

    return add


def _package_run(module) -> Callable[[argparse.Namespace], tuple]:
    def run(args: argparse.Namespace) -> tuple:
        return module.convert(
            list(args.roots), split_roots=list(args.split_root), layout=args.layout,
            img_shape=tuple(args.img_shape), progress=True,
        )  # fmt: skip

    return run


def _test_subjects(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument(
        "--test-subjects", type=int, nargs="*", default=None,
        help=f"subjects of the test split (default: {default})",
    )  # fmt: skip


def _smg_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="folder with the SampleXXXX folders")
    p.add_argument(
        "--coords", choices=tuple(smg.COORDS), default="color",
        help="2-D points: colour image (1080x1920, default) or depth image (424x512)",
    )  # fmt: skip
    _test_subjects(p, "sample numbers 36-40")
    _output(p)


def _utkinect_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="folder with joints_sSS_eEE.txt and the label file")
    p.add_argument(
        "--labels",
        default=utkinect.LABELS,
        help=f"label file inside root (default {utkinect.LABELS}; {utkinect.LABELS_CORRECTED} "
        "corrects ranges that run into other actions: docs/datasets.md)",
    )
    p.add_argument(
        "--coords",
        choices=utkinect.COORDS,
        default="2d",
        help="2d: joints projected to 640x480 pixels (default); 3d: the native x, y, z in "
        "metres (for the coordinate models; data.pose.representation=coords)",
    )
    _variants(p)
    _test_subjects(p, "the even ones")
    _output(p)


def _variants(p: argparse.ArgumentParser) -> None:
    """The view and frame-rate variants of the Kinect v1 converters (30 fps recordings)."""
    p.add_argument(
        "--yaw",
        type=degrees,
        default=0.0,
        help="turn the view by this many degrees (-360 to 360) about the vertical axis (a camera "
        "to the side)",
    )
    p.add_argument(
        "--frame-step", type=positive_int, default=1,
        help="keep every n-th frame (30 fps -> 30 / n)",
    )  # fmt: skip


def _utdmhad_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("root", help="folder with the aA_sS_tT_skeleton.mat files")
    p.add_argument(
        "--coords", choices=utdmhad.COORDS, default="2d",
        help="2d: joints projected to 640x480 pixels (default); 3d: the native x, y, z in "
        "metres (for the coordinate models; data.pose.representation=coords)",
    )  # fmt: skip
    _test_subjects(p, "2 4 6 8")
    _variants(p)
    _output(p)


FORMATS: dict[str, Format] = {
    "imigue": Format(
        "iMiGUE raw release (OpenPose JSON per frame + the dataset label CSV)",
        IMIGUE, _imigue_args, _imigue_run,
    ),
    "miga2023": Format(
        "MiGA 2023 skeleton package (<vid4>_light_hand.csv + <vid4>_label.csv per video)",
        MIGA2023,
        _package_args(miga2023.LAYOUTS, "imigue22", miga2023.IMG_SHAPE,
                      "as a MiGA 2023 entry's code assumed"),
        _package_run(miga2023),
    ),
    "miga2025": Format(
        "MiGA 2025 skeleton package (<vid4>_openpose.xlsx or .csv + <vid4>_label.csv per video)",
        MIGA2025,
        _package_args(miga2025.LAYOUTS, "imigue36", miga2025.IMG_SHAPE,
                      "as the MM-Gesture code of MiGA 2025 used"),
        _package_run(miga2025),
    ),
    "smg": Format(
        "SMG skeletons (SampleXXXX_skeleton.csv + SampleXXXX_finelabels.csv)", SMG, _smg_args,
        lambda a: smg.convert(Path(a.root), coords=a.coords,
                              test_subjects=tuple(a.test_subjects) if a.test_subjects else None),
    ),
    "utdmhad": Format(
        "UTD-MHAD skeletons (aA_sS_tT_skeleton.mat)", UTDMHAD, _utdmhad_args,
        lambda a: utdmhad.convert(Path(a.root), coords=a.coords, test_subjects=a.test_subjects,
                                  yaw=a.yaw, frame_step=a.frame_step),
    ),
    "utkinect": Format(
        "UTKinect-Action3D skeletons (joints_sSS_eEE.txt + actionLabel.txt)", UTKINECT,
        _utkinect_args,
        lambda a: utkinect.convert(Path(a.root), labels=a.labels, test_subjects=a.test_subjects,
                                   coords=a.coords, yaw=a.yaw, frame_step=a.frame_step),
    ),
}  # fmt: skip
