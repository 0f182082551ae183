"""Property-based fuzzing of the score loaders: any file either loads as finite (N, K) scores
with unique ids, or raises the project's one-line error naming the file."""

from __future__ import annotations

import io
import pickle

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mgproto.engine.scores import load_scores
from mgproto.fileio import InputError

ERRORS = (ValueError,)  # ScoreError, InputError and AnnotationError are ValueErrors
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check(path, ids=None):
    try:
        got_ids, scores = load_scores(path, ids=ids)
    except ERRORS as err:
        assert str(path) in str(err) and "\n" not in str(err)
        return
    assert scores.ndim == 2 and scores.shape[0] == len(got_ids)
    assert np.isfinite(scores).all() and len(set(got_ids)) == len(got_ids)


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(tmp_path, data):
    for name in ("s.npz", "s.pkl"):
        path = tmp_path / name
        path.write_bytes(data)
        _check(path, ids=["a"])


@FUZZ
@given(
    scores=hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=32),
    )
    | hnp.arrays(np.int64, hnp.array_shapes(max_dims=3, max_side=5), elements=st.integers(-5, 5))
    | hnp.arrays("U3", hnp.array_shapes(max_dims=2, max_side=3)),
    ids=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=0, max_size=5),
    cut=st.integers(0, 2000),
)
def test_npz_of_any_shape_and_content(tmp_path, scores, ids, cut):
    buf = io.BytesIO()
    np.savez(buf, frame_dirs=np.array(ids), labels=np.zeros(len(ids)), fused=scores)
    path = tmp_path / "s.npz"
    data = buf.getvalue()
    path.write_bytes(data if cut >= len(data) else data[:cut])
    _check(path)


@FUZZ
@given(
    rows=st.lists(
        st.one_of(
            hnp.arrays(np.float32, st.integers(1, 4), elements=st.floats(width=32)),
            st.floats(),
            st.dictionaries(
                st.sampled_from(["pred_score", "x"]),
                hnp.arrays(np.float32, 3, elements=st.floats(width=32)),
            ),
        ),
        max_size=4,
    ),
    num_ids=st.integers(0, 5),
)
def test_result_pickles(tmp_path, rows, num_ids):
    path = tmp_path / "r.pkl"
    path.write_bytes(pickle.dumps(rows, protocol=4))
    _check(path, ids=[f"c{i}" for i in range(num_ids)])


def test_missing_and_empty_files_name_the_file(tmp_path):
    for path in (tmp_path / "gone.npz", tmp_path / "empty.npz"):
        if path.name == "empty.npz":
            path.write_bytes(b"")
        try:
            load_scores(path)
        except InputError as err:
            assert str(path) in str(err)
        else:
            raise AssertionError(path)
