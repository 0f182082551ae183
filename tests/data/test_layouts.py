import numpy as np
import pytest

from mgproto.data.layouts import LAYOUTS, get_layout, mirror_name, select_layout, subset_indices

ALL = sorted(LAYOUTS)


def test_expected_layouts_and_sizes():
    sizes = {name: layout.num_joints for name, layout in LAYOUTS.items()}
    assert sizes == {
        "coco17": 17,
        "openpose18": 18,
        "openpose25": 25,
        "openpose137": 137,
        "imigue22": 22,
        "imigue36": 36,
        "kinect20": 20,
        "kinect25": 25,
        "mediapipe33": 33,
    }


@pytest.mark.parametrize("name", ALL)
def test_each_left_joint_maps_to_its_right_twin(name):
    layout = get_layout(name)
    for i, joint in enumerate(layout.joints):
        twin = layout.joints[layout.flip_index[i]]
        if "left" in joint.split("_"):
            assert twin == joint.replace("left", "right"), (name, joint, twin)
        elif "right" in joint.split("_"):
            assert twin == joint.replace("right", "left"), (name, joint, twin)
        else:
            assert twin == joint, (name, joint)


@pytest.mark.parametrize("name", ALL)
def test_flip_is_an_involution_and_limbs_mirror(name):
    layout = get_layout(name)
    assert np.array_equal(layout.flip_index[layout.flip_index], np.arange(layout.num_joints))
    lf = layout.limb_flip_index
    assert np.array_equal(lf[lf], np.arange(layout.num_limbs))
    for i, (a, b) in enumerate(layout.limbs):
        ma, mb = layout.limbs[lf[i]]
        assert {ma, mb} == {layout.flip_index[a], layout.flip_index[b]}


# openpose137 and mediapipe33 follow their tools' drawings, where face parts, the mouth and the
# hands are separate pieces; every other layout is one connected skeleton.
@pytest.mark.parametrize(
    "name", ["coco17", "openpose25", "imigue22", "imigue36", "kinect20", "kinect25"]
)
def test_limb_graph_is_connected(name):
    layout = get_layout(name)
    seen, frontier = {0}, [0]
    adj = {i: set() for i in range(layout.num_joints)}
    for a, b in layout.limbs:
        adj[a].add(b)
        adj[b].add(a)
    while frontier:
        for n in adj[frontier.pop()] - seen:
            seen.add(n)
            frontier.append(n)
    assert len(seen) == layout.num_joints


def test_imigue22_is_the_miga23_order_with_correct_flip():
    layout = get_layout("imigue22")
    assert layout.joints[:8] == (
        "nose",
        "neck",
        "right_shoulder",
        "right_elbow",
        "right_wrist",
        "left_shoulder",
        "left_elbow",
        "left_wrist",
    )
    # reference-spec 7: the semantically correct pairs, not the COCO-style 1<->2, 3<->4 ...
    assert layout.flip_pairs() == [(2, 5), (3, 6), (4, 7), (8, 9), (10, 11)] + [
        (12 + k, 17 + k) for k in range(5)
    ]


def test_subsets_match_published_index_lists():
    # fmt: off
    # MM-Gesture's 36 points (reference-spec 7)
    assert subset_indices("openpose137", "imigue36").tolist() == [
        0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 18, 27, 29, 33, 37, 39, 44, 49, 52, 73, 76, 79, 82,
        95, 99, 103, 107, 111, 115, 116, 120, 124, 128, 132, 136,
    ]
    # the MiGA'23 22 joints: BODY_25 upper body, then left and right fingertips
    assert subset_indices("openpose137", "imigue22").tolist() == [
        0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 18, 99, 103, 107, 111, 115, 120, 124, 128, 132, 136,
    ]
    # BlazePose -> COCO-17 (oracle-and-deps.md)
    assert subset_indices("mediapipe33", "coco17").tolist() == [
        0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28,
    ]
    # fmt: on


def test_imigue36_flip_matches_mm_gesture_lists():
    left = [17, 8, 10, 12, 13, 20, 2, 3, 4, 30, 31, 32, 33, 34, 35]
    right = [18, 9, 11, 16, 15, 22, 5, 6, 7, 24, 25, 26, 27, 28, 29]
    assert sorted(get_layout("imigue36").flip_pairs()) == sorted(
        (min(a, b), max(a, b)) for a, b in zip(left, right)
    )


def test_select_layout_moves_values():
    kp = np.arange(137 * 2, dtype=np.float32).reshape(1, 1, 137, 2)
    score = np.arange(137, dtype=np.float32).reshape(1, 1, 137) / 137
    sub_kp, sub_score = select_layout(kp, score, "openpose137", "imigue22")
    assert sub_kp.shape == (1, 1, 22, 2) and sub_score.shape == (1, 1, 22)
    assert sub_kp[0, 0, 17].tolist() == kp[0, 0, 120].tolist()  # right thumb tip
    with pytest.raises(ValueError, match="137 joints"):
        select_layout(kp[..., :25, :], score[..., :25], "openpose137", "imigue22")
    with pytest.raises(KeyError, match="has no joint"):
        subset_indices("openpose25", "imigue22")


def test_unknown_layout_lists_valid_names():
    with pytest.raises(KeyError, match="valid layouts: coco17"):
        get_layout("coco18")


def test_mirror_name():
    assert mirror_name("left_thumb_tip") == "right_thumb_tip"
    assert mirror_name("mouth_left") == "mouth_right"
    assert mirror_name("upright") == "upright"
