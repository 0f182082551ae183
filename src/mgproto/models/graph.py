"""Skeleton graphs for the graph convolutional networks, built from a keypoint layout.

No adjacency is typed per dataset: the graph is the layout's limbs, made a tree by a
breadth-first search from a centre joint (the neck-like joint where the layout has one, else the
graph centre; a limb that would close a cycle, such as COCO's hip-to-hip, is left out). Each joint's
parent is its neighbour one hop closer to the centre. This gives exactly PYSKL's / MMAction2's
hand-written graphs for the layouts they share (COCO-17 centred on the nose, NTU's Kinect-25 on
the spine-shoulder joint, OpenPose-18/25 on the neck).

The ``spatial`` partition (ST-GCN++, ``graph_cfg=dict(mode='spatial')``) has three subsets:
the identity, the inward edges (joint -> parent) and the outward edges (parent -> joint), each
column-normalised: ``A_k[i, j]`` weighs joint j's feature in joint i's output, and each column of
an edge subset sums to one over the joints that receive from j.

Axis legend: K subsets, V joints.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from mgproto.data.layouts import Layout

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
