"""Safe readers: crafted tiny files must not make numpy or pickle allocate what they declare.

Each crafted file declares ~1e14..1e15 bytes, so without the guards numpy fails fast with a
MemoryError (a different error than the one asserted) instead of allocating anything.
"""

import io
import pickle
import struct
import zipfile

import numpy as np
import pytest

from mgproto.data.annotations import AnnotationError, load_annotations
from mgproto.fileio import UnsafeFileError, restricted_loads, safe_unpickle

_reconstruct = np.arange(1).__reduce__()[0]  # numpy's array reconstructor


class _Reduce:
    """Pickles as ``callable(*args)`` followed by ``__setstate__(state)`` when given."""

    def __init__(self, *reduce_value):
        self.reduce_value = reduce_value

    def __reduce__(self):
        return self.reduce_value


CRAFTED = {
    "reconstruct": _Reduce(_reconstruct, (np.ndarray, (10**15,), b"b")),
    "setstate": _Reduce(
        _reconstruct, (np.ndarray, (0,), b"b"), (1, (10**14,), np.dtype("O"), False, [])
    ),
    "subarray dtype": _Reduce(_reconstruct, (np.ndarray, (10**8,), np.dtype(("f8", (1000,))))),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_tiny_pickle_declaring_a_huge_array_is_refused(tmp_path, name):
    path = tmp_path / "crafted.pkl"
    path.write_bytes(pickle.dumps({"annotations": [CRAFTED[name]]}, protocol=4))
    assert path.stat().st_size < 300
    with pytest.raises(
        AnnotationError, match=r"crafted\.pkl: refusing a numpy array of shape .* pickle cannot"
    ):
        load_annotations(path)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (_Reduce(np.ndarray, ((10**15,), "f8")), "refusing to call numpy.ndarray"),
        (_Reduce(_reconstruct, (np.dtype, (1,), b"b")), "refusing to reconstruct anything"),
    ],
)
def test_other_ways_to_allocate_are_refused(obj, message):
    with pytest.raises(UnsafeFileError, match=message):
        restricted_loads(pickle.dumps(obj, protocol=4))


def test_codecs_other_than_latin1_are_refused():
    import _codecs

    nested = b"ab"  # protocol 2 stores bytes as _codecs.encode(text, "latin1"): allowed
    for _ in range(3):  # each hex encode doubles the data: 40 of them would need 2**40 times
        nested = _Reduce(_codecs.encode, (nested, "hex"))
    with pytest.raises(UnsafeFileError, match=r"x\.pkl: refusing _codecs.encode with 'hex'"):
        safe_unpickle(pickle.dumps(nested, protocol=2), source="x.pkl")


def test_memo_index_and_lengths_beyond_the_pickle_are_refused():
    # LONG_BINPUT 2**22 would grow the unpickler's memo to 2**23 slots (64 MB) for 8 bytes
    memo = b"\x80\x04N" + b"r" + struct.pack("<I", 2**22) + b"."
    with pytest.raises(UnsafeFileError, match=r"m\.pkl: refusing memo index 4194304 at byte 3"):
        safe_unpickle(memo, source="m.pkl")
    huge_bytes = b"\x80\x04\x8e" + struct.pack("<Q", 10**12) + b"abc."
    with pytest.raises(UnsafeFileError, match=r"b\.pkl: not a readable pickle .*bytes8"):
        safe_unpickle(huge_bytes, source="b.pkl")


def test_real_arrays_load_as_plain_ndarrays_with_every_protocol():
    arrays = {
        "float": np.arange(12.0).reshape(3, 4),
        "fortran": np.asfortranarray(np.ones((3, 4), np.float32)),
        "object": np.array([1, "x", None], dtype=object),
        "record": np.zeros(2, dtype=[("x", "f4"), ("y", "O")]),
        "nested": [(np.arange(3),)],
        "scalar": np.float32(2.5),
    }
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        out = restricted_loads(pickle.dumps(arrays, protocol=protocol))
        assert type(out["float"]) is np.ndarray and type(out["nested"][0][0]) is np.ndarray
        np.testing.assert_array_equal(out["float"], arrays["float"])
        assert out["fortran"].flags.f_contiguous and out["object"].tolist() == [1, "x", None]
        assert out["scalar"] == np.float32(2.5)
        assert pickle.loads(pickle.dumps(out))["float"].shape == (3, 4)


def test_npz_member_declaring_a_huge_array_is_refused(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (10**14,)}
    )
    path = tmp_path / "crafted.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("__doc__.npy", header.getvalue())
    with pytest.raises(
        AnnotationError,
        match=r"crafted\.npz: refusing member '__doc__.npy': it declares a \(100000000000000,\)",
    ):
        load_annotations(path)
