import numpy as np
import pytest

from mgproto.data.layouts import LAYOUTS, get_layout
from mgproto.models.graph import centre_joint, parents, spatial_adjacency

# PYSKL / MMAction2's hand-written COCO graph: inward edges (joint, parent), centred on the nose
COCO_INWARD = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8),
               (8, 6), (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2)]  # fmt: skip


def test_coco_graph_equals_the_reference_partition():
    a = spatial_adjacency(get_layout("coco17"))
    inward = np.zeros((17, 17))
    for joint, parent in COCO_INWARD:
        inward[parent, joint] = 1  # the reference's edge2mat: A[j, i] = 1 for edge (i, j)
    norm = lambda m: m / np.maximum(m.sum(0), 1)[None]  # noqa: E731  column-normalised
    np.testing.assert_allclose(a, np.stack([np.eye(17), norm(inward), norm(inward.T)]))
    # the hip-to-hip limb of our COCO layout would close a cycle: it is not an edge of the tree
    assert a[1, 11, 12] == a[1, 12, 11] == 0


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
    assert names["coco17"] == "nose" and names["openpose25"] == "neck"
    assert names["kinect25"] == "spine_shoulder" and names["kinect20"] == "shoulder_center"
    assert names["imigue22"] == "neck"
