"""Rendered frames: shapes, determinism and the RGB-only cues of the pose-identical pairs."""

import numpy as np
import pytest

from mgproto.data.synthetic.classes import CLASSES
from mgproto.data.synthetic.keypoints import synthesize_clip
from mgproto.data.synthetic.render import render_clip
from mgproto.data.synthetic.subjects import sample_subject

SEED, SIZE = 5, 96


def render(label, index=0, *, rgb_cue="class", size=SIZE, subject_id=1, render_seed=0):
    subject = sample_subject(seed=SEED, subject_id=subject_id)
    c = synthesize_clip(seed=SEED, subject=subject, clip_index=index, label=label,
                        num_frames=30, frame_size=size)  # fmt: skip
    cue = CLASSES[label].rgb_cue if rgb_cue == "class" else rgb_cue
    frames = render_clip(subject=subject, clip=c, frame_size=size, supersample=2, rgb_cue=cue,
                         rng=np.random.default_rng(render_seed))  # fmt: skip
    return c, frames, subject


def test_shape_dtype_and_determinism():
    _, frames, _ = render(14)
    assert frames.shape == (30, SIZE, SIZE, 3) and frames.dtype == np.uint8
    assert np.array_equal(frames, render(14)[1])
    assert not np.array_equal(frames, render(14, render_seed=1)[1])  # lighting, object
    assert frames.std() > 10  # textured, not blank


def changed_pixels(a, b):
    """(N, 2) x, y of pixels that differ between two renderings of the same clip."""
    diff = np.abs(a.astype(int) - b.astype(int)).max(axis=-1)  # (T, H, W)
    return diff, np.argwhere(diff > 0)


@pytest.mark.parametrize("index", range(4))
def test_play_things_differs_from_rub_hand_only_near_the_hands(index):
    c, things, _ = render(6, index)
    c2, rub, _ = render(5, index)
    assert np.array_equal(c.keypoint, c2.keypoint)  # pose-identical
    _, where = changed_pixels(things, rub)
    assert len(where) > 0
    hands = c.clean[:, [4, 7, *range(12, 22)]] + c.jitter[:, None]  # (T, 12, 2) frame pixels
    for t, y, x in where:
        assert np.linalg.norm(hands[t] - (x, y), axis=-1).min() < 0.12 * SIZE


@pytest.mark.parametrize("index", range(4))
def test_bite_lip_and_deep_breath_differ_only_on_the_face(index):
    c, lip, subject = render(13, index)
    _, breath, _ = render(12, index)
    _, plain, _ = render(13, index, rgb_cue=None)
    head = c.head_centre + c.jitter
    radius = 1.6 * subject.head_ry * subject.scale * SIZE
    for other in (breath, plain):
        diff, where = changed_pixels(lip, other)
        assert len(where) > 0
        for t, y, x in where:
            assert np.linalg.norm(head[t] - (x, y)) < radius
    # the cue follows the gesture's envelope: strongest change where the cue is strongest
    diff, _ = changed_pixels(lip, plain)
    per_frame = diff.reshape(len(diff), -1).sum(axis=1)
    assert per_frame[np.argmax(c.cue)] > per_frame[np.argmin(c.cue)]
