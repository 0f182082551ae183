"""The class table: labels, cues, long-tail weights, pose-identical pairs."""

import numpy as np

from mgproto.data.synthetic.classes import (
    CLASS_NAMES,
    CLASSES,
    ILLUSTRATIVE,
    NUM_CLASSES,
    POSE_IDENTICAL_PAIRS,
    RGB_CUES,
    class_probabilities,
)
from mgproto.data.synthetic.gestures import MOTIONS


def test_labels_are_indices_and_names_unique():
    assert NUM_CLASSES >= 13  # at least 12 micro-gestures plus illustrative
    assert [c.label for c in CLASSES] == list(range(NUM_CLASSES))
    assert len(set(CLASS_NAMES)) == NUM_CLASSES
    assert CLASS_NAMES[ILLUSTRATIVE] == "illustrative"


def test_every_motion_exists_and_cues_are_known():
    for c in CLASSES:
        assert c.motion in MOTIONS, c.name
        assert c.rgb_cue is None or c.rgb_cue in RGB_CUES, c.name
        assert c.modality in ("pose", "rgb", "both"), c.name


def test_pose_identical_pairs_share_motion_and_differ_in_rgb():
    assert POSE_IDENTICAL_PAIRS == ((6, 5), (13, 12))
    for cued, twin in POSE_IDENTICAL_PAIRS:
        assert CLASSES[cued].motion == CLASSES[twin].motion
        assert CLASSES[cued].rgb_cue is not None
        assert CLASSES[cued].rgb_cue != CLASSES[twin].rgb_cue
    motions = [c.motion for c in CLASSES]
    shared = {m for m in motions if motions.count(m) > 1}
    assert shared == {CLASSES[a].motion for a, _ in POSE_IDENTICAL_PAIRS}  # no accidental twins


def test_long_tail_weights():
    p = class_probabilities()
    assert np.isclose(p.sum(), 1.0)
    assert np.argmax(p) == ILLUSTRATIVE
    assert 0.27 <= p[ILLUSTRATIVE] <= 0.33
    assert 0.015 <= p.min() <= 0.025
    tail = np.sort(np.delete(p, ILLUSTRATIVE))[::-1]
    assert tail[0] <= 0.12 and tail[0] / tail[-1] >= 4  # a real tail, not a flat one
