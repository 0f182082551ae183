"""Reading untrusted skeleton files without running their code or trusting their sizes.

``restricted_loads`` unpickles admitting only numpy arrays, builtin containers and scalars, and
only as much array memory as the pickle itself can hold: a 100-byte pickle that declares a
(10**15,) array is refused before numpy allocates it. ``check_npz`` does the same for the
members of an ``.npz`` (numpy allocates the shape a member's header declares before reading
it) and for their total uncompressed size (a zip bomb), before anything is decompressed;
``read_npz`` reads an ``.npz`` after it. Both raise :class:`UnsafeFileError` with what and why;
:func:`safe_unpickle` adds the file name and also turns a truncated or corrupt pickle into one.
"""

from __future__ import annotations

import codecs
import functools
import io
import math
import operator
import pickle
import pickletools
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # numpy arrays pickled with protocol <= 2 store bytes through it
    ("collections", "OrderedDict"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
    ("builtins", "complex"),
}
# Arrays are stored in a pickle byte for byte (an object array's 8-byte pointers need at least one
# opcode byte each), so all arrays of a pickle may declare at most this many bytes per byte of
# the pickle, plus the slack; more is a crafted file asking for memory it does not hold.
ARRAY_BYTES_PER_PICKLE_BYTE, ARRAY_SLACK = 8, 1 << 20
# What a damaged pickle raises from the C unpickler or the numpy and builtin callables it admits.
UNPICKLE_ERRORS = (
    pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, LookupError,
    ArithmeticError, ImportError, MemoryError, RecursionError, RuntimeError,
)  # fmt: skip
# An .npz may decompress to at most this many bytes per byte of the file, plus the slack:
# deflate reaches ~1000x on constant data, real score and skeleton files 1x to 3x in all.
NPZ_BYTES_PER_FILE_BYTE, NPZ_SLACK = 64, 64 << 20
# What a damaged .npz raises from zipfile, its decompressors, the .npy header parser or json.
NPZ_ERRORS = (
    zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, KeyError, TypeError,
    RuntimeError, NotImplementedError, RecursionError, MemoryError,
)  # fmt: skip


class UnsafeFileError(ValueError):
    """A file the safe readers will not load; the message says what and why."""


class _ArrayBudget:
    """The array bytes a pickle of ``size`` bytes may still declare."""

    def __init__(self, size: int) -> None:
        self.size, self.left = size, ARRAY_BYTES_PER_PICKLE_BYTE * size + ARRAY_SLACK

    def charge(self, shape: Any, dtype: Any) -> None:
        dims = tuple(shape) if isinstance(shape, tuple | list) else (shape,)
        nbytes = math.prod(operator.index(d) for d in dims) * max(np.dtype(dtype).itemsize, 1)
        if nbytes > self.left:
            raise UnsafeFileError(
                f"refusing a numpy array of shape {str(dims)[:60]} ({nbytes} bytes): a "
                f"{self.size}-byte pickle cannot hold it"
            )
        self.left -= max(nbytes, 0)


class _GuardedArray(np.ndarray):
    """``numpy.ndarray`` as a pickle sees it: each array state's declared size is charged to the
    pickle's budget before numpy allocates it; calling the class directly is refused."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _GuardedArray:
        raise UnsafeFileError("refusing to call numpy.ndarray: only numpy's own array pickles load")

    def __setstate__(self, state: Any) -> None:
        budget = self.__dict__.get("_budget")
        if budget is None or not isinstance(state, tuple) or len(state) < 4:
            raise UnsafeFileError("refusing a numpy array state that numpy did not write")
        budget.charge(state[-4], state[-3])  # ([version,] shape, dtype, is_fortran, data)
        super().__setstate__(state)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.view(np.ndarray).__reduce_ex__(protocol)  # pickles as a plain array


def _reconstruct(real: Any, budget: _ArrayBudget, subtype: Any, shape: Any, dtype: Any) -> Any:
    if subtype is not _GuardedArray:
        raise UnsafeFileError("refusing to reconstruct anything but a numpy array")
    budget.charge(shape, dtype)
    array = real(subtype, shape, dtype)
    array._budget = budget
    return array


def _latin1(obj: Any, encoding: Any = "latin1", errors: str = "strict") -> bytes:
    if encoding not in ("latin1", "latin-1"):  # other codecs (hex, base64, ...) expand data
        raise UnsafeFileError(f"refusing _codecs.encode with {encoding!r}; numpy uses latin1")
    return codecs.encode(obj, "latin1", errors)


_TENSOR_GLOBALS = {("torch._utils", "_rebuild_tensor_v2"), ("torch.storage", "_load_from_bytes")}


def _storage_from_bytes(data: bytes) -> Any:
    """A pickled tensor's storage (a small ``torch.save`` file inside the pickle), read with
    torch's own weights-only loader: tensors and numbers, never code."""
    import torch

    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _rebuild_tensor(storage: Any, offset: int, size: Any, stride: Any, *rest: Any) -> Any:
    """torch's ``_rebuild_tensor_v2``, after checking that the view stays inside its storage
    (torch would grow the storage to any size the file declares)."""
    from torch._utils import _rebuild_tensor_v2

    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or any(not isinstance(v, int) or v < 0 for v in (*size, *stride)):
        raise UnsafeFileError(f"refusing a tensor of size {size} and stride {stride}")
    last = offset + sum((n - 1) * st for n, st in zip(size, stride)) if all(size) else -1
    with warnings.catch_warnings():  # old files hold TypedStorage, whose len() is deprecated
        warnings.filterwarnings("ignore", "TypedStorage is deprecated", UserWarning)
        elements = len(storage)
    if not isinstance(offset, int) or offset < 0 or last >= elements:
        raise UnsafeFileError(
            f"refusing a tensor of size {size} (stride {stride}, offset {offset}) over a "
            f"storage of {elements} elements"
        )
    return _rebuild_tensor_v2(storage, offset, size, stride, *rest)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, *, tensors: bool = False) -> None:
        super().__init__(io.BytesIO(data))
        self.budget = _ArrayBudget(len(data))
        self.tensors = tensors

    def find_class(self, module: str, name: str) -> Any:
        if self.tensors and (module, name) in _TENSOR_GLOBALS:
            return _storage_from_bytes if name == "_load_from_bytes" else _rebuild_tensor
        if (module, name) not in _ALLOWED_GLOBALS and not (
            module in ("numpy", "numpy.dtypes") and name.endswith("DType")
        ):
            raise UnsafeFileError(
                f"refusing to load {module}.{name}: only numpy arrays, builtin containers and "
                "scalars (and, in score files, tensors) may appear in a skeleton or score pickle"
            )
        if (module, name) == ("numpy", "ndarray"):
            return _GuardedArray
        if module == "_codecs":
            return _latin1
        found = super().find_class(module, name)
        if name == "_reconstruct":
            return functools.partial(_reconstruct, found, self.budget)
        return found


def _check_opcodes(data: bytes) -> None:
    """Refuse what makes the C unpickler allocate memory the pickle does not hold, before it
    runs: a length past the end (pickletools raises ValueError) or a memo index beyond the
    pickle's size (the unpickler grows its memo to the index)."""
    for op, arg, pos in pickletools.genops(data):
        if op.name in ("PUT", "BINPUT", "LONG_BINPUT") and int(arg) > pos:
            raise UnsafeFileError(f"refusing memo index {arg} at byte {pos} (beyond its size)")


def _plain_arrays(obj: Any, done: dict[int, Any]) -> Any:
    """``obj`` with the guarded arrays in its dicts, lists and tuples made plain ndarrays."""
    if isinstance(obj, _GuardedArray):
        return obj.view(np.ndarray)
    if type(obj).__module__ == "torch" and type(obj).__name__ == "Tensor":
        return obj.detach().cpu().numpy()
    if not isinstance(obj, dict | list | tuple) or id(obj) in done:
        return done.get(id(obj), obj)
    done[id(obj)] = obj
    if isinstance(obj, dict):
        for key, value in obj.items():
            obj[key] = _plain_arrays(value, done)
    elif isinstance(obj, list):
        obj[:] = [_plain_arrays(v, done) for v in obj]
    else:
        done[id(obj)] = obj = tuple(_plain_arrays(v, done) for v in obj)
    return obj


def restricted_loads(data: bytes, *, tensors: bool = False) -> Any:
    """Unpickle ``data`` admitting only numpy arrays, builtin containers and scalars, and arrays
    of at most ``ARRAY_BYTES_PER_PICKLE_BYTE * len(data) + ARRAY_SLACK`` bytes in all.

    ``tensors=True`` also admits pickled torch tensors (MMAction2 1.x ``--dump`` files): their
    storages are read by torch's weights-only loader and come back as numpy arrays.

    Raises:
        UnsafeFileError: for a forbidden global or a declared size the pickle cannot hold.
        One of UNPICKLE_ERRORS: for a truncated or corrupt pickle.
    """
    _check_opcodes(data)
    return _plain_arrays(_RestrictedUnpickler(data, tensors=tensors).load(), {})


def check_npz(path: Path) -> None:
    """Refuse an ``.npz`` whose members declare more uncompressed bytes in all than the file can
    hold (``NPZ_BYTES_PER_FILE_BYTE`` per byte of it, plus ``NPZ_SLACK``: a zip bomb, refused
    before anything is decompressed), or with a member whose header declares more array bytes
    than the member holds (numpy would allocate the declared size first).

    Raises:
        UnsafeFileError, or one of NPZ_ERRORS for a damaged file.
    """
    size = Path(path).stat().st_size
    with zipfile.ZipFile(path) as z:
        declared = sum(info.file_size for info in z.infolist())
        if declared > NPZ_BYTES_PER_FILE_BYTE * size + NPZ_SLACK:
            raise UnsafeFileError(
                f"refusing it: its members would decompress to {declared} bytes, more than a "
                f"{size}-byte .npz holds (at most {NPZ_BYTES_PER_FILE_BYTE} per byte + "
                f"{NPZ_SLACK >> 20} MiB; a zip bomb?)"
            )
        for info in z.infolist():
            with z.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise UnsafeFileError(f"refusing {info.filename!r}: .npy version {version}")
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes > info.file_size:
                raise UnsafeFileError(
                    f"refusing member {info.filename!r}: it declares a {shape} {dtype} array "
                    f"({nbytes} bytes) but holds {info.file_size} bytes"
                )


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every member of an ``.npz`` (no pickled objects), after :func:`check_npz`: the one
    loader of the ``.npz`` files a user gives. Raises UnsafeFileError or NPZ_ERRORS."""
    check_npz(Path(path))
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def safe_unpickle(data: bytes, *, source: str = "<bytes>", tensors: bool = False) -> Any:
    """:func:`restricted_loads` with every failure as one :class:`UnsafeFileError` naming
    ``source`` (a forbidden global, an impossible size, a truncated or corrupt pickle)."""
    try:
        return restricted_loads(data, tensors=tensors)
    except UnsafeFileError as err:
        raise UnsafeFileError(f"{source}: {err}") from None
    except UNPICKLE_ERRORS as err:
        raise UnsafeFileError(
            f"{source}: not a readable pickle (truncated or corrupt: {type(err).__name__}: {err})"
        ) from None
