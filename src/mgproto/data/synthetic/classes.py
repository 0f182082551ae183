"""The classes of the synthetic micro-gesture benchmark.

Fifteen classes named after iMiGUE classes: fourteen micro-gestures and the dominant
"illustrative" class (co-speech arm movements, iMiGUE's non-micro-gesture id 99). Each class names
the motion model that moves the skeleton (``gestures.MOTIONS``) and, where it has one, an RGB cue
that only the rendered frames show. Two classes that share a motion model and differ only in
their RGB cue are *pose-identical*: a pose-only model cannot tell them apart.

Weights are percentages of clips: illustrative 30 %, then a decreasing tail down to 2 %, the
rank order loosely following iMiGUE's training counts (shrug, bite lip and move torso are the
most frequent micro-gestures there; see shared/reference/datasets-and-sota.md, section 1.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# RGB cues the renderer knows (render.py): an object held in the hands, the lower lip drawn in,
# puffed cheeks.
RGB_CUES = ("object", "bite_lip", "puff_cheeks")


@dataclass(frozen=True)
class ClassSpec:
    """One class of the benchmark.

    Attributes:
        label: class index.
        name: iMiGUE class name.
        motion: motion model in ``gestures.MOTIONS``.
        rgb_cue: RGB-only cue (one of ``RGB_CUES``) or None.
        weight: share of clips, in percent.
        modality: which input separates the class from its nearest neighbours: ``pose``,
            ``rgb`` or ``both``.
        cue: one line on what to look for.
    """

    label: int
    name: str
    motion: str
    rgb_cue: str | None
    weight: float
    modality: str
    cue: str


CLASSES: tuple[ClassSpec, ...] = (
    ClassSpec(0, "touch chin", "touch_chin", None, 3.6, "both",
              "one hand rises and its fingertips stop under the chin, small vertical strokes"),
    ClassSpec(1, "touch other face part", "touch_cheek", None, 7.0, "both",
              "the hand stops on the cheek of its own side, a few pixels from chin and ear"),
    ClassSpec(2, "touch ears", "touch_ear", None, 2.2, "both",
              "the hand stops at the ear of its own side"),
    ClassSpec(3, "touch forehead", "touch_forehead", None, 2.0, "both",
              "the hand crosses the face and rubs the forehead sideways"),
    ClassSpec(4, "play hair", "play_hair", None, 2.4, "both",
              "the hand stops on the top side of the head, a little above the forehead, and "
              "twirls in small circles"),
    ClassSpec(5, "rub hand", "rub_hands", None, 5.2, "both",
              "both hands meet in front of the belly, palms together, rubbing up and down"),
    ClassSpec(6, "play things", "rub_hands", "object", 3.1, "rgb",
              "exactly the motion of 'rub hand'; a coloured object is held in the hands"),
    ClassSpec(7, "cross finger", "cross_fingers", None, 6.0, "both",
              "hands clasped with interlaced fingers in front of the belly, thumbs twiddling"),
    ClassSpec(8, "fold arm", "fold_arms", None, 4.1, "both",
              "each wrist goes to the opposite upper arm; the forearms cross the chest"),
    ClassSpec(9, "shake shoulder", "shrug", None, 10.0, "pose",
              "one to three quick rises of the shoulders (a few pixels); hands stay still"),
    ClassSpec(10, "move torso", "move_torso", None, 8.0, "both",
              "the upper body leans sideways and back; the hands stay on the table"),
    ClassSpec(11, "sit straight", "sit_straight", None, 2.7, "pose",
              "a slouched body rises once and stays up; shoulders open slightly"),
    ClassSpec(12, "deep breath", "breath", "puff_cheeks", 4.7, "rgb",
              "slow small rise of shoulders and head; the cheeks puff out"),
    ClassSpec(13, "bite lip", "breath", "bite_lip", 9.0, "rgb",
              "exactly the motion of 'deep breath'; the lower lip is drawn in, teeth show"),
    ClassSpec(14, "illustrative", "illustrative", None, 30.0, "both",
              "co-speech movements: large, varied one- or two-handed paths with beats"),
)  # fmt: skip

CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in CLASSES)
NUM_CLASSES = len(CLASSES)
ILLUSTRATIVE = 14

# (rgb-cued class, its pose twin): same motion model, the difference is drawn only in the frames
POSE_IDENTICAL_PAIRS: tuple[tuple[int, int], ...] = ((6, 5), (13, 12))


def class_probabilities() -> np.ndarray:
    """(K,) float64 share of clips per class, summing to 1."""
    w = np.array([c.weight for c in CLASSES], dtype=np.float64)
    return w / w.sum()
