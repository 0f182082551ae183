"""The synthetic micro-gesture benchmark: seated people performing iMiGUE-like gestures.

``generate_dataset`` writes mp4 clips, the interchange pickle and clip lists; ``synthesize_clip``
draws one clip's keypoints without rendering (for tests and statistics). See docs/synthetic.md.
"""

from mgproto.data.synthetic.classes import (
    CLASS_NAMES,
    CLASSES,
    NUM_CLASSES,
    POSE_IDENTICAL_PAIRS,
    ClassSpec,
    class_probabilities,
)
from mgproto.data.synthetic.generate import (
    SIZES,
    ClipPlan,
    SynthSize,
    generate_dataset,
    get_size,
    plan_dataset,
)
from mgproto.data.synthetic.keypoints import SynthClip, synthesize_clip
from mgproto.data.synthetic.render import render_clip
from mgproto.data.synthetic.subjects import Subject, sample_subject

__all__ = [
    "CLASSES",
    "CLASS_NAMES",
    "NUM_CLASSES",
    "POSE_IDENTICAL_PAIRS",
    "SIZES",
    "ClassSpec",
    "ClipPlan",
    "Subject",
    "SynthClip",
    "SynthSize",
    "class_probabilities",
    "generate_dataset",
    "get_size",
    "plan_dataset",
    "render_clip",
    "sample_subject",
    "synthesize_clip",
]
