"""``mgproto convert <format>``: the command-line face of the dataset converters.

Each format has its options here and calls its converter's plain ``convert(...)`` function
(``mgproto.data.converters.<format>``), which returns ``(AnnotationFile, ConversionReport)``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mgproto.commands.argtypes import positive_int
from mgproto.data.converters import imigue, miga2023, miga2025, smg, utkinect


@dataclass(frozen=True)
class Format:
    help: str
    module: object  # the converter module (its docstring is the verb's description)
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], tuple]


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
    _img_shape(p, imigue.IMG_SHAPE, "HFUT'23 used 1080 1920")
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
    p.add_argument(
        "--yaw",
        type=float,
        default=0.0,
        help="turn the view by this many degrees about the vertical axis (a camera to the side)",
    )
    p.add_argument(
        "--frame-step", type=int, default=1, help="keep every n-th frame (30 fps -> 30 / n)",
    )  # fmt: skip
    _test_subjects(p, "the even ones")
    _output(p)


FORMATS: dict[str, Format] = {
    "imigue": Format(
        "iMiGUE raw release (OpenPose JSON per frame + the dataset label CSV)",
        imigue, _imigue_args, _imigue_run,
    ),
    "miga2023": Format(
        "MiGA 2023 skeleton package (<vid4>_light_hand.csv + <vid4>_label.csv per video)",
        miga2023,
        _package_args(miga2023.LAYOUTS, "imigue22", miga2023.IMG_SHAPE, "as HFUT'23 used"),
        _package_run(miga2023),
    ),
    "miga2025": Format(
        "MiGA 2025 skeleton package (<vid4>_openpose.xlsx or .csv + <vid4>_label.csv per video)",
        miga2025,
        _package_args(miga2025.LAYOUTS, "imigue36", miga2025.IMG_SHAPE, "as MM-Gesture used"),
        _package_run(miga2025),
    ),
    "smg": Format(
        "SMG skeletons (SampleXXXX_skeleton.csv + SampleXXXX_finelabels.csv)", smg, _smg_args,
        lambda a: smg.convert(Path(a.root), coords=a.coords,
                              test_subjects=tuple(a.test_subjects) if a.test_subjects else None),
    ),
    "utkinect": Format(
        "UTKinect-Action3D skeletons (joints_sSS_eEE.txt + actionLabel.txt)", utkinect,
        _utkinect_args,
        lambda a: utkinect.convert(Path(a.root), labels=a.labels, test_subjects=a.test_subjects,
                                   coords=a.coords, yaw=a.yaw, frame_step=a.frame_step),
    ),
}  # fmt: skip
