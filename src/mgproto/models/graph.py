"""Skeleton graphs for the graph convolutional networks, built from a keypoint layout.

No adjacency is typed per dataset: the graph is the layout's limbs, made a tree by a
breadth-first search from a centre joint (the neck-like joint where the layout has one, else the
graph centre; a limb that would close a cycle, such as COCO's hip-to-hip, is left out). Each joint's
parent is its neighbour one hop closer to the centre. This gives exactly PYSKL's / MMAction2's
hand-written graphs for the layouts they define (``coco17`` centred on the nose, ``kinect25`` =
NTU RGB+D on the spine-shoulder joint, ``openpose18`` on the neck).

Bones are not always the graph's edges: the reference's bone stream (``JointToBone``) pairs each
joint with a parent of its own table, which for COCO-17 hangs the hips on the nose, and for NTU
the hand tips on the thumbs. :func:`bone_parents` returns that table for the layouts the
reference defines (``REFERENCE_BONES``), and by joint name for the OpenPose layouts that extend
OpenPose-18 (``openpose25``, ``openpose137``); other layouts use the graph's tree.

The ``spatial`` partition (ST-GCN++, ``graph_cfg=dict(mode='spatial')``) has three subsets:
the identity, the inward edges (joint -> parent) and the outward edges (parent -> joint), each
column-normalised: ``A_k[i, j]`` weighs joint j's feature in joint i's output, and each column of
an edge subset sums to one over the joints that receive from j.

Axis legend: K subsets, V joints.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from mgproto.data.layouts import Layout, get_layout

# Names of the joint the graph is centred on, in order of preference (PYSKL's centres: the neck
# of OpenPose, NTU's spine-shoulder, the nose of COCO).
CENTRES = ("spine_shoulder", "neck", "shoulder_center", "nose")


def _neighbours(layout: Layout) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {v: [] for v in range(layout.num_joints)}
    for a, b in layout.limbs:
        out[a].append(b)
        out[b].append(a)
    return {v: sorted(w) for v, w in out.items()}


def _bfs(neighbours: dict[int, list[int]], root: int) -> dict[int, int]:
    """Joint -> its parent on the breadth-first tree from ``root`` (root -> root)."""
    parent, queue = {root: root}, deque([root])
    while queue:
        v = queue.popleft()
        for w in neighbours[v]:
            if w not in parent:
                parent[w] = v
                queue.append(w)
    return parent


def _components(neighbours: dict[int, list[int]]) -> list[list[int]]:
    """Connected components, largest first (ties: by their first joint)."""
    seen: set[int] = set()
    out = []
    for v in neighbours:
        if v not in seen:
            part = sorted(_bfs(neighbours, v))
            seen.update(part)
            out.append(part)
    return sorted(out, key=lambda c: (-len(c), c[0]))


def _graph_centre(neighbours: dict[int, list[int]], part: list[int]) -> int:
    """The joint of ``part`` with the smallest largest hop distance to the others."""

    def depth(root: int) -> int:
        hops, frontier, seen = 0, [root], {root}
        while frontier:
            frontier = [w for v in frontier for w in neighbours[v] if w not in seen]
            seen.update(frontier)
            hops += bool(frontier)
        return hops

    return min(part, key=lambda v: (depth(v), v))


def centre_joint(layout: Layout) -> int:
    """The centre of the largest connected part: its neck-like joint (``CENTRES``) if it has one,
    else its graph centre."""
    neighbours = _neighbours(layout)
    main = _components(neighbours)[0]
    for name in CENTRES:
        if name in layout.joints and layout.index(name) in main:
            return layout.index(name)
    return _graph_centre(neighbours, main)


def parents(layout: Layout) -> np.ndarray:
    """(V,) each joint's parent on the breadth-first tree from its part's centre (the main part:
    :func:`centre_joint`; a part not linked to it, such as a face or a hand a layout does not
    attach, gets its own tree from its graph centre; a centre is its own parent)."""
    neighbours = _neighbours(layout)
    parent = np.arange(layout.num_joints)
    for i, part in enumerate(_components(neighbours)):
        root = centre_joint(layout) if i == 0 else _graph_centre(neighbours, part)
        for v, p in _bfs(neighbours, root).items():
            parent[v] = p
    return parent


def _normalise_columns(a: np.ndarray) -> np.ndarray:
    degree = a.sum(0)
    return a / np.where(degree > 0, degree, 1.0)[None, :]


def spatial_adjacency(layout: Layout) -> np.ndarray:
    """(3, V, V) float32: identity, inward and outward subsets (see the module docstring)."""
    v = layout.num_joints
    parent = parents(layout)
    inward = np.zeros((v, v))
    for j in range(v):
        if parent[j] != j:
            inward[parent[j], j] = 1.0  # j sends to its parent
    return np.stack([np.eye(v), _normalise_columns(inward), _normalise_columns(inward.T)]).astype(
        np.float32
    )


# The bone stream's (joint -> parent) of the reference (MMAction2 1.x / PYSKL ``JointToBone``), by
# joint name; a joint missing here is a root (bone = the joint itself minus itself = 0 in x, y).
REFERENCE_BONES: dict[str, dict[str, str]] = {
    "coco17": {  # 'coco': every head and torso joint hangs on the nose
        "left_eye": "nose", "right_eye": "nose", "left_ear": "left_eye", "right_ear": "right_eye",
        "left_shoulder": "nose", "right_shoulder": "nose", "left_hip": "nose", "right_hip": "nose",
        "left_elbow": "left_shoulder", "right_elbow": "right_shoulder",
        "left_wrist": "left_elbow", "right_wrist": "right_elbow",
        "left_knee": "left_hip", "right_knee": "right_hip",
        "left_ankle": "left_knee", "right_ankle": "right_knee",
    },
    "openpose18": {  # 'openpose': rooted at the nose; hips hang on the shoulders
        "neck": "nose", "right_eye": "nose", "left_eye": "nose",
        "right_ear": "right_eye", "left_ear": "left_eye",
        "right_shoulder": "neck", "left_shoulder": "neck",
        "right_elbow": "right_shoulder", "left_elbow": "left_shoulder",
        "right_wrist": "right_elbow", "left_wrist": "left_elbow",
        "right_hip": "right_shoulder", "left_hip": "left_shoulder",
        "right_knee": "right_hip", "left_knee": "left_hip",
        "right_ankle": "right_knee", "left_ankle": "left_knee",
    },
    "kinect25": {  # 'nturgb+d': rooted at the spine-shoulder; hand tip -> thumb -> hand
        "spine_base": "spine_mid", "spine_mid": "spine_shoulder", "neck": "spine_shoulder",
        "head": "neck", "left_shoulder": "spine_shoulder", "right_shoulder": "spine_shoulder",
        "left_elbow": "left_shoulder", "left_wrist": "left_elbow", "left_hand": "left_wrist",
        "right_elbow": "right_shoulder", "right_wrist": "right_elbow", "right_hand": "right_wrist",
        "left_hip": "spine_base", "left_knee": "left_hip", "left_ankle": "left_knee",
        "left_foot": "left_ankle", "right_hip": "spine_base", "right_knee": "right_hip",
        "right_ankle": "right_knee", "right_foot": "right_ankle",
        "left_hand_tip": "left_thumb", "left_thumb": "left_hand",
        "right_hand_tip": "right_thumb", "right_thumb": "right_hand",
    },
}  # fmt: skip
# Layouts whose joints extend a reference layout's: its table by name, the graph's tree elsewhere.
EXTENDS = {"openpose25": "openpose18", "openpose137": "openpose18"}


def bone_parents(layout: Layout) -> np.ndarray:
    """(V,) the parent each joint's bone is drawn from (the joint itself for a root).

    The reference's table where it defines the layout (``REFERENCE_BONES``; for a layout that
    ``EXTENDS`` one, for the joints they share), the graph's tree (:func:`parents`) elsewhere.
    """
    parent = parents(layout)
    source = EXTENDS.get(layout.name, layout.name)
    if source not in REFERENCE_BONES:
        return parent
    table, shared = REFERENCE_BONES[source], set(get_layout(source).joints)
    for v, name in enumerate(layout.joints):
        if name in table:
            parent[v] = layout.index(table[name])
        elif name in shared:
            parent[v] = v  # the reference's root
    return parent
