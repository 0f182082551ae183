import numpy as np
import pytest

from mgproto.data.layouts import LAYOUTS, get_layout
from mgproto.models.graph import bone_parents, centre_joint, parents, spatial_adjacency

# PYSKL / MMAction2's hand-written COCO graph: inward edges (joint, parent), centred on the nose
COCO_INWARD = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8),
               (8, 6), (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2)]  # fmt: skip


# ... its 'openpose' (18 joints, centred on the neck) and 'nturgb+d' graphs (1-based in the
# reference, here 0-based: the hand tips and thumbs hang on the hands)
OPENPOSE_INWARD = [(4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8),
                   (11, 5), (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15),
                   (16, 14)]  # fmt: skip
NTU_INWARD = [(i - 1, j - 1) for i, j in [
    (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
    (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19),
    (22, 8), (23, 8), (24, 12), (25, 12)]]  # fmt: skip

# The reference's bone pairs (JointToBone: (joint, the joint its bone starts from)), by index.
COCO_BONES = [(0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 0), (6, 0), (7, 5), (8, 6), (9, 7),
              (10, 8), (11, 0), (12, 0), (13, 11), (14, 12), (15, 13), (16, 14)]  # fmt: skip
OPENPOSE_BONES = [(0, 0), (1, 0), (2, 1), (3, 2), (4, 3), (5, 1), (6, 5), (7, 6), (8, 2), (9, 8),
                  (10, 9), (11, 5), (12, 11), (13, 12), (14, 0), (15, 0), (16, 14),
                  (17, 15)]  # fmt: skip
NTU_BONES = [(0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (8, 20), (9, 8),
             (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14), (16, 0), (17, 16),
             (18, 17), (19, 18), (21, 22), (20, 20), (22, 7), (23, 24), (24, 11)]  # fmt: skip


def _reference_partition(num_joints: int, inward: list[tuple[int, int]]) -> np.ndarray:
    edges = np.zeros((num_joints, num_joints))
    for joint, parent in inward:
        edges[parent, joint] = 1  # the reference's edge2mat: A[j, i] = 1 for edge (i, j)
    norm = lambda m: m / np.maximum(m.sum(0), 1)[None]  # noqa: E731  column-normalised
    return np.stack([np.eye(num_joints), norm(edges), norm(edges.T)])


@pytest.mark.parametrize(
    ("name", "inward"),
    [("coco17", COCO_INWARD), ("openpose18", OPENPOSE_INWARD), ("kinect25", NTU_INWARD)],
)
def test_graphs_equal_the_reference_partition(name, inward):
    layout = get_layout(name)
    a = spatial_adjacency(layout)
    np.testing.assert_allclose(a, _reference_partition(layout.num_joints, inward))


def test_the_coco_hip_to_hip_limb_is_not_a_graph_edge():
    a = spatial_adjacency(get_layout("coco17"))  # it would close a cycle
    assert a[1, 11, 12] == a[1, 12, 11] == 0


@pytest.mark.parametrize(
    ("name", "pairs"),
    [("coco17", COCO_BONES), ("openpose18", OPENPOSE_BONES), ("kinect25", NTU_BONES)],
)
def test_bones_equal_the_reference_pairs(name, pairs):
    expected = np.arange(get_layout(name).num_joints)
    for joint, parent in pairs:
        expected[joint] = parent
    np.testing.assert_array_equal(bone_parents(get_layout(name)), expected)


def test_bones_differ_from_the_graph_where_the_reference_does():
    coco = get_layout("coco17")
    hip, nose, shoulder = (coco.index(n) for n in ("left_hip", "nose", "left_shoulder"))
    assert bone_parents(coco)[hip] == nose and parents(coco)[hip] == shoulder


def test_openpose25_bones_follow_openpose18_by_name():
    body25, op18 = get_layout("openpose25"), get_layout("openpose18")
    bones25, bones18 = bone_parents(body25), bone_parents(op18)
    for v, name in enumerate(op18.joints):
        assert body25.joints[bones25[body25.index(name)]] == op18.joints[bones18[v]], name
    tree = parents(body25)  # the joints OpenPose-18 lacks keep the graph's tree
    for name in ("mid_hip", "left_big_toe", "right_heel"):
        assert bones25[body25.index(name)] == tree[body25.index(name)]


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_bone_parents_end_at_a_root(name):
    parent = bone_parents(get_layout(name))
    for v in range(len(parent)):
        seen = set()
        while parent[v] != v:
            assert v not in seen
            seen.add(v)
            v = int(parent[v])


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_layout_gives_a_tree_over_its_limbs(name):
    layout = get_layout(name)
    parent = parents(layout)
    limbs = {frozenset(limb) for limb in layout.limbs}
    for v, p in enumerate(parent):
        assert p == v or frozenset((v, int(p))) in limbs  # every tree edge is a limb
    roots = [v for v, p in enumerate(parent) if p == v]
    assert centre_joint(layout) in roots
    for v in range(layout.num_joints):  # following parents always ends at a root
        seen = set()
        while parent[v] != v:
            assert v not in seen
            seen.add(v)
            v = int(parent[v])
    a = spatial_adjacency(layout)
    assert a.shape == (3, layout.num_joints, layout.num_joints) and a.dtype == np.float32
    np.testing.assert_allclose(a[1].sum(0)[[v for v in range(len(parent)) if v not in roots]], 1)


def test_centres_are_the_neck_like_joints():
    names = {n: get_layout(n).joints[centre_joint(get_layout(n))] for n in LAYOUTS}
    assert names["coco17"] == "nose" and names["openpose25"] == names["openpose18"] == "neck"
    assert names["kinect25"] == "spine_shoulder" and names["kinect20"] == "shoulder_center"
    assert names["imigue22"] == "neck"
