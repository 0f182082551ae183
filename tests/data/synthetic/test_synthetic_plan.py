"""Dataset plans: subject-disjoint splits and the long-tailed class distribution."""

import re

import numpy as np
import pytest

from mgproto.data.synthetic.classes import ILLUSTRATIVE, NUM_CLASSES, class_probabilities
from mgproto.data.synthetic.generate import SIZES, SPLITS, get_size, plan_dataset, split_counts


@pytest.mark.parametrize("size", list(SIZES))
def test_splits_are_subject_disjoint(size):
    plans = plan_dataset(size, seed=3)
    subjects = {s: {p.subject_id for p in plans if p.split == s} for s in ("train", "val", "test")}
    assert all(subjects.values())
    assert not subjects["train"] & subjects["val"]
    assert not subjects["train"] & subjects["test"]
    assert not subjects["val"] & subjects["test"]
    n = SIZES[size].num_subjects
    assert sum(len(v) for v in subjects.values()) == n
    assert len(subjects["train"]) == n - 2 * max(1, round(0.2 * n))


def test_full_plan_follows_the_long_tail():
    plans = plan_dataset("full", seed=0)
    labels = np.array([p.label for p in plans])
    freq = np.bincount(labels, minlength=NUM_CLASSES) / len(labels)
    assert len(plans) >= 3000
    np.testing.assert_allclose(freq, class_probabilities(), atol=0.01)
    for split in ("train", "val", "test"):
        counts = np.bincount([p.label for p in plans if p.split == split], minlength=NUM_CLASSES)
        assert np.argmax(counts) == ILLUSTRATIVE
        assert counts.min() >= 1


def test_small_and_demo_have_every_class_in_every_split_and_tiny_in_train():
    for size, splits in (("small", SPLITS), ("demo", SPLITS), ("tiny", ("train",))):
        plans = plan_dataset(size, seed=0)
        for split in splits:
            assert {p.label for p in plans if p.split == split} == set(range(NUM_CLASSES))


def test_plan_is_deterministic_and_seeded():
    a, b, c = (plan_dataset("small", seed=s) for s in (0, 0, 1))
    assert a == b
    assert a != c


def test_ids_lengths_and_sizes():
    preset = get_size("small")
    plans = plan_dataset(preset, seed=0)
    ids = [p.clip_id for p in plans]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"s\d\d_\d{4}", i) for i in ids)
    frames = [p.num_frames for p in plans]
    assert preset.min_frames <= min(frames) and max(frames) <= preset.max_frames
    assert 500 <= len(plans) <= 700
    assert all(s.frame_size % 2 == 0 for s in SIZES.values())
    with pytest.raises(KeyError, match="valid sizes: tiny, demo, small, full"):
        get_size("huge")


def test_split_counts_rounding():
    p = class_probabilities()
    for n in (0, 7, 15, 16, 100, 1234):
        counts = split_counts(n, p)
        assert counts.sum() == n and counts.min() >= (1 if n >= NUM_CLASSES else 0)


def test_demo_is_half_of_small_with_its_frames():
    """`make demo`'s data: the `small` clips' frames and lengths, about half as many clips."""
    demo, small = get_size("demo"), get_size("small")
    assert (demo.frame_size, demo.min_frames, demo.max_frames, demo.supersample) == (
        small.frame_size, small.min_frames, small.max_frames, small.supersample)  # fmt: skip
    plans = plan_dataset(demo, seed=0)
    assert 250 <= len(plans) <= 350
    assert sum(p.split == "test" for p in plans) >= 45
