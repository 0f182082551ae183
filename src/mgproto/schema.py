"""Typed dataclasses from plain dicts: type checks, value ranges, ``key.path=value`` overrides.

A numeric field declares its valid range where it is declared, with ``Annotated``:

    batch_size: PosInt = 10          # >= 1
    sigma: PosFloat = 0.6            # > 0, finite
    flip_ratio: Prob = 0.5           # in [0, 1]

:func:`from_dict` checks every value it is given against its annotation (type, range,
finiteness) and names the key in the error. Floats also accept YAML 1.1 strings such as
``1e-3``, which PyYAML reads as text.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import yaml


class ConfigError(ValueError):
    """A configuration file or override that does not fit the schema."""


@dataclass(frozen=True)
class Range:
    """Valid interval of a numeric field: ``ge`` / ``gt`` below, ``le`` / ``lt`` above."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def check(self, value: float, where: str) -> None:
        ok = (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )
        if not ok:
            raise ConfigError(f"{where}: {value!r} is out of range, expected {self}")

    def __str__(self) -> str:
        bounds = ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt))
        parts = [f"{op} {int(v) if float(v).is_integer() else format(v, 'g')}"
                 for op, v in bounds if v is not None]  # fmt: skip
        return " and ".join(parts)


# Upper bounds of the sizes a run allocates memory by: generous for real use, small enough that a
# typo (``train_size=100000``) is one error naming the key, not an allocation of terabytes.
MAX_SIDE = 1024  # an image or heatmap side, pixels (the references: 56 to 256)
MAX_FRAMES = 1024  # frames per clip, kernel, stride or bins (the references: 8 to 100)
MAX_CLIPS = 100  # clips sampled per test sample or window (PoseConv3D: 10)
MAX_CLASSES = 100_000  # classes of a classifier (iMiGUE: 32, Kinetics: 700)
MAX_PERSONS = 100  # persons per frame
MAX_WIDTH = 16_384  # channels, heads or embedding width of a layer (the references: <= 2048)
MAX_DEPTH = 1_000  # layers, blocks or stages (the references: <= 24)
MAX_BATCH = 4_096  # clips per batch or per optimiser step
MAX_EPOCHS = 100_000  # epochs of a run
MAX_WORKERS = 256  # data-loading processes

PosInt = Annotated[int, Range(ge=1)]
NonNegInt = Annotated[int, Range(ge=0)]
Side = Annotated[int, Range(ge=1, le=MAX_SIDE)]
Frames = Annotated[int, Range(ge=1, le=MAX_FRAMES)]
Clips = Annotated[int, Range(ge=1, le=MAX_CLIPS)]
Classes = Annotated[int, Range(ge=1, le=MAX_CLASSES)]
Persons = Annotated[int, Range(ge=1, le=MAX_PERSONS)]
Width = Annotated[int, Range(ge=1, le=MAX_WIDTH)]
WidthOrAuto = Annotated[int, Range(ge=0, le=MAX_WIDTH)]  # 0 = a preset's width
Depth = Annotated[int, Range(ge=1, le=MAX_DEPTH)]
Batch = Annotated[int, Range(ge=1, le=MAX_BATCH)]
Epochs = Annotated[int, Range(ge=1, le=MAX_EPOCHS)]
Workers = Annotated[int, Range(ge=0, le=MAX_WORKERS)]
Seed = Annotated[int, Range(ge=0, lt=2**32)]
PosFloat = Annotated[float, Range(gt=0)]
NonNegFloat = Annotated[float, Range(ge=0)]
Prob = Annotated[float, Range(ge=0, le=1)]
Dropout = Annotated[float, Range(ge=0, lt=1)]
Share = Annotated[float, Range(gt=0, le=1)]
AnyFloat = Annotated[float, Range()]

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")

T = typing.TypeVar("T")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against annotation ``tp`` and convert lists to tuples, ints to floats."""
    if typing.get_origin(tp) is Annotated:
        base, *extras = typing.get_args(tp)
        value = _coerce(value, base, where)
        for extra in extras:
            if isinstance(extra, Range):
                extra.check(value, where)
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping for {tp.__name__}, got {value!r}")
        return from_dict(tp, value, prefix=f"{where}.")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(f"{where}: {value!r} fits none of {[_type_name(a) for a in args]}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {str(k): _coerce(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads 1e-3 (no dot) as a string
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{where}: {value!r} is not a finite number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported annotation {tp!r}")  # pragma: no cover


def from_dict(cls: type[T], data: dict[str, Any], *, prefix: str = "") -> T:
    """Build dataclass ``cls`` from ``data``; missing keys take defaults, unknown keys raise."""
    hints = typing.get_type_hints(cls, include_extras=True)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(
            f"unknown key {prefix}{unknown[0]!s}; valid keys of "
            f"{prefix.rstrip('.') or cls.__name__}: " + ", ".join(names)
        )
    kwargs = {k: _coerce(v, hints[k], f"{prefix}{k}") for k, v in data.items()}
    return cls(**kwargs)


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain-dict form of a config (tuples become lists), ready for YAML or JSON."""

    def plain(v: Any) -> Any:
        if isinstance(v, tuple | list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def yaml_problem(err: yaml.YAMLError) -> str:
    """Where and what a YAML error is, in one line (PyYAML's own message spans 4 to 8 lines,
    quoting the text with a caret): ``at line 2, column 3: expected ',' or ']', but got ':'``."""
    if isinstance(err, yaml.reader.ReaderError):  # a character YAML text may not hold
        char = err.character if isinstance(err.character, int) else ord(err.character)
        return f"at offset {err.position}: character {char:#04x}: {err.reason}"
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    at = f"at line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(err, "problem", None) or getattr(err, "context", None)
    return at + (problem or (str(err).strip().splitlines() or ["parse error"])[0])


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b=3"`` -> (["a", "b"], 3); the value is parsed as YAML (numbers, lists, bools)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like key.path=value")
    key, raw = text.split("=", 1)
    path = [p for p in key.strip().split(".") if p]
    if not path:
        raise ConfigError(f"override {text!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        problem = yaml_problem(err)
        raise ConfigError(f"override {text!r}: the value is not valid YAML ({problem})") from None
    return path, value


def merge_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.path=value`` overrides to a nested dict (returns a new dict)."""
    out = _deep_copy(data)
    for text in overrides:
        path, value = parse_override(text)
        node = out
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {text!r}: {part!r} is not a section")
            node = child
        node[path[-1]] = value
    return out


def _deep_copy(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in d.items()}
