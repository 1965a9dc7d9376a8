"""Port types: scalars, ``Array``, ``Msg`` and ``list[T]``.

A port type is one of ``bool, int, float, str, bytes``, a fixed-width number
(``np.float32``, ``np.uint8``, ... ``np.int64``: the primitives of ROS messages), an
``Array(dtype, shape)``, a ``Msg`` subclass, or ``list[T]`` of one of those. ``int``
is a 64-bit signed integer and ``float`` a float64 (``np.int64`` and ``np.float64``
are the same types). A fixed-width number holds a Python ``int`` or ``float`` that
fits its width: a float32 value is rounded to float32 when it is sent, so every
transport carries the same value.

Every transport has one codec per type; this module only knows what a type *is*:
how to describe it, compare it, check a value against it and write it as JSON for
the graph IR.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable
from typing import Any

import numpy as np

from like_keras.utils.paths import class_path, resolve

# Fixed-width numbers, by numpy scalar class: their names are numpy's (and ROS's).
NUMBERS: dict[type, str] = {
    t: np.dtype(t).name
    for t in (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32, np.uint64, np.float32)
}
SCALARS: dict[type, str] = {bool: "bool", int: "int", float: "float", str: "str", bytes: "bytes", **NUMBERS}
_SCALAR_BY_NAME = {name: t for t, name in SCALARS.items()}
# numpy names of the Python scalars: np.int64 *is* int, np.float64 float, np.bool_ bool.
_SAME = {np.int64: int, np.float64: float, np.bool_: bool, np.str_: str, np.bytes_: bytes}

Coercer = Callable[[Any], Any]
# Every Msg class defined in this process, by "module:qualname" (finds local classes too).
_MSG_CLASSES: dict[str, type] = {}


class Array:
    """A numpy array port type: ``Array(np.float64, (4,))``; a dimension may be None."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype: Any, shape: tuple[int | None, ...] | list[int | None]) -> None:
        try:
            dt = np.dtype(dtype)
        except TypeError as exc:
            raise TypeError(f"Array: {dtype!r} is not a numpy dtype") from exc
        if dt.kind not in "biuf" or dt.byteorder == ">":
            raise TypeError(
                f"Array: dtype {dt} is not supported; use a native-endian bool, int, uint or float dtype"
            )
        if isinstance(shape, int):
            shape = (shape,)
        dims = tuple(shape)
        for d in dims:
            if d is not None and (not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 0):
                raise TypeError(f"Array: shape {dims!r} must hold non-negative ints or None")
        object.__setattr__(self, "dtype", dt)
        object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in dims))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Array is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and other.dtype == self.dtype and other.shape == self.shape

    def __hash__(self) -> int:
        return hash((self.dtype.str, self.shape))

    def __repr__(self) -> str:
        dims = ", ".join("None" if d is None else str(d) for d in self.shape)
        if len(self.shape) == 1:
            dims += ","
        return f"Array({self.dtype.name}, ({dims}))"

    @property
    def max_nbytes(self) -> int | None:
        """Size of one value in bytes, or None when a dimension is open."""
        if any(d is None for d in self.shape):
            return None
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


class Msg:
    """Base class of structured messages.

    Subclasses list annotated fields and become dataclasses; field types are port
    types (so messages nest)::

        class Detection(Msg):
            x: float
            y: float
            score: float = 0.0
    """

    __lk_fields__: typing.ClassVar[dict[str, Any]] = {}
    # The ROS 2 type a class of the catalog (like_keras.msgs.ros) is; None for others.
    __ros_type__: typing.ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__dataclass_fields__" not in cls.__dict__:
            dataclasses.dataclass(cls, eq=False)  # Msg.__eq__ compares array fields too
        try:
            hints = typing.get_type_hints(cls)
        except NameError as exc:
            raise TypeError(f"Msg {cls.__qualname__}: cannot resolve a field annotation: {exc}") from exc
        fields = {}
        for f in dataclasses.fields(cls):
            try:
                fields[f.name] = check_type(hints[f.name])
            except TypeError as exc:
                raise TypeError(f"Msg {cls.__qualname__}.{f.name}: {exc}") from None
        cls.__lk_fields__ = fields
        _MSG_CLASSES[class_path(cls)] = cls

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        for name in self.__lk_fields__:
            a, b = getattr(self, name), getattr(other, name)
            if a is b:
                continue
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):  # NaN equals NaN, as in a recording
                if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                        and np.array_equal(a, b, equal_nan=True)):
                    return False
            elif a != b and not (isinstance(a, float) and isinstance(b, float) and a != a and b != b):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq


def _is_list(t: Any) -> bool:
    return typing.get_origin(t) is list


def check_type(t: Any) -> Any:
    """Return ``t`` (``np.int64`` as ``int``...) if it is a valid port type, else raise
    TypeError saying why."""
    if t in _SAME:
        return _SAME[t]
    if t in SCALARS or isinstance(t, Array):
        return t
    if isinstance(t, type) and issubclass(t, Msg) and t is not Msg:
        return t
    if _is_list(t):
        (item,) = typing.get_args(t) or (None,)
        if item is None:
            raise TypeError("list needs an item type, e.g. list[float]")
        return list[check_type(item)]  # type: ignore[misc]
    if t in (np.ndarray, list, dict, tuple):
        raise TypeError(f"{getattr(t, '__name__', t)} is not a port type; use Array(dtype, shape) or a Msg")
    raise TypeError(
        f"{t!r} is not a port type; use bool, int, float, str, bytes, Array(dtype, shape), "
        "a Msg subclass or list[T]"
    )


def describe(t: Any) -> str:
    """A short human name for a port type."""
    if t in SCALARS:
        return SCALARS[t]
    if isinstance(t, Array):
        return repr(t)
    if _is_list(t):
        return f"list[{describe(typing.get_args(t)[0])}]"
    return t.__qualname__


def compatible(src: Any, dst: Any) -> bool:
    """True when values of type ``src`` may be sent to a port of type ``dst``."""
    if isinstance(src, Array) and isinstance(dst, Array):
        return (
            src.dtype == dst.dtype
            and len(src.shape) == len(dst.shape)
            and all(a is None or b is None or a == b for a, b in zip(src.shape, dst.shape))
        )
    if _is_list(src) and _is_list(dst):
        return compatible(typing.get_args(src)[0], typing.get_args(dst)[0])
    return src is dst


def iter_arrays(t: Any) -> list[Array]:
    """Every Array type reachable in ``t`` (for sizing buffers)."""
    if isinstance(t, Array):
        return [t]
    if isinstance(t, type) and issubclass(t, Msg):
        return [a for ft in t.__lk_fields__.values() for a in iter_arrays(ft)]
    return []


def max_nbytes(t: Any) -> int:
    """The bytes of the largest Array reachable in ``t`` (0: none, or unbounded)."""
    return max((a.max_nbytes or 0 for a in iter_arrays(t)), default=0)


# --- checking values ------------------------------------------------------------


def _scalar_coercer(t: type) -> Coercer:
    name = SCALARS[t]

    def bad(v: Any) -> TypeError:
        return TypeError(f"expected {name}, got {type(v).__name__} {_short(v)}")

    if t in NUMBERS:
        return _number_coercer(t)
    if t is bool:

        def coerce(v: Any) -> Any:
            if type(v) is bool:
                return v
            if isinstance(v, np.bool_):
                return bool(v)
            raise bad(v)

    elif t is int:

        def coerce(v: Any) -> Any:
            if type(v) is int:
                return v
            if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
                return int(v)
            raise bad(v)

    elif t is float:

        def coerce(v: Any) -> Any:
            if type(v) is float:
                return v
            if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, (bool, np.bool_)):
                return float(v)
            raise bad(v)

    elif t is str:

        def coerce(v: Any) -> Any:
            if isinstance(v, str):
                return str(v)
            raise bad(v)

    else:

        def coerce(v: Any) -> Any:
            if type(v) is bytes:
                return v
            if isinstance(v, (bytes, bytearray, memoryview)):
                return bytes(v)
            raise bad(v)

    return coerce


def _number_coercer(t: type) -> Coercer:
    name = NUMBERS[t]

    if issubclass(t, np.floating):

        def coerce(v: Any) -> Any:
            if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, (bool, np.bool_)):
                with np.errstate(over="ignore"):
                    f = float(t(v))  # rounded to the width, as every transport will carry it
                if math.isinf(f) and not math.isinf(float(v)):
                    raise TypeError(f"{v!r} does not fit {name}")
                return f
            raise TypeError(f"expected {name}, got {type(v).__name__} {_short(v)}")

    else:
        info = np.iinfo(t)

        def coerce(v: Any) -> Any:
            if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
                if not info.min <= v <= info.max:
                    raise TypeError(f"{v} does not fit {name} ({info.min}..{info.max})")
                return int(v)
            raise TypeError(f"expected {name}, got {type(v).__name__} {_short(v)}")

    return coerce


def _array_coercer(spec: Array) -> Coercer:
    shape = tuple(spec.shape)
    fixed = None not in shape  # then one tuple comparison checks the shape

    def coerce(v: Any) -> Any:
        if not isinstance(v, np.ndarray):
            raise TypeError(f"expected {spec!r}, got {type(v).__name__} {_short(v)}")
        if (v.shape != shape) if fixed else (
                v.ndim != len(shape) or any(d is not None and d != n for d, n in zip(shape, v.shape))):
            raise TypeError(f"expected {spec!r}, got an array of shape {v.shape}")
        if v.dtype != spec.dtype:
            if not np.can_cast(v.dtype, spec.dtype, casting="safe"):
                raise TypeError(
                    f"expected {spec!r}, got dtype {v.dtype} which does not convert safely; "
                    f"convert it with .astype(np.{spec.dtype.name})"
                )
            v = v.astype(spec.dtype)
        elif not v.flags.writeable:
            return v  # read-only already: a view of Dora's shared memory, or checked before
        else:
            v = v.view()
        # Receivers get a read-only view, as they would from shared memory.
        v.flags.writeable = False
        return v

    return coerce


def _msg_coercer(cls: type[Msg]) -> Coercer:
    field_coercers: dict[str, Coercer] | None = None

    def coerce(v: Any) -> Any:
        nonlocal field_coercers
        if not isinstance(v, cls):
            raise TypeError(f"expected {cls.__qualname__}, got {type(v).__name__} {_short(v)}")
        if field_coercers is None:
            field_coercers = {n: coercer(t) for n, t in cls.__lk_fields__.items()}
        changes = {}
        for name, c in field_coercers.items():
            old = getattr(v, name)
            try:
                new = c(old)
            except TypeError as exc:
                raise TypeError(f"field {cls.__qualname__}.{name}: {exc}") from None
            if new is not old:
                changes[name] = new
        return dataclasses.replace(v, **changes) if changes else v

    return coerce


def _list_coercer(t: Any) -> Coercer:
    item = coercer(typing.get_args(t)[0])

    def coerce(v: Any) -> Any:
        if not isinstance(v, (list, tuple)):
            raise TypeError(f"expected {describe(t)}, got {type(v).__name__} {_short(v)}")
        out = []
        for i, x in enumerate(v):
            try:
                out.append(item(x))
            except TypeError as exc:
                raise TypeError(f"item {i}: {exc}") from None
        return out

    return coerce


def coercer(t: Any) -> Coercer:
    """A function that checks a value against ``t`` and returns it in canonical form.

    Safe conversions are made (a numpy integer to ``int``, float32 to float64 for an
    ``Array(float64, ...)``); anything else raises TypeError describing the mismatch.
    """
    if t in SCALARS:
        return _scalar_coercer(t)
    if isinstance(t, Array):
        return _array_coercer(t)
    if _is_list(t):
        return _list_coercer(t)
    return _msg_coercer(t)


def _short(v: Any) -> str:
    text = repr(v)
    return f"({text[:60]}...)" if len(text) > 60 else f"({text})"


# --- values <-> trees of dicts and lists (for codecs) ----------------------------------

Leaf = Callable[[Any, Any], Any]  # (value, scalar or Array type) -> encoded value, or back


def to_tree(value: Any, t: Any, leaf: Leaf) -> Any:
    """``value`` of type ``t`` as dicts (Msg fields) and lists, ``leaf`` encoding
    the scalars and Arrays; codecs give their own ``leaf``."""
    if _is_list(t):
        item = typing.get_args(t)[0]
        return [to_tree(v, item, leaf) for v in value]
    if isinstance(t, type) and issubclass(t, Msg):
        return {name: to_tree(getattr(value, name), ft, leaf) for name, ft in t.__lk_fields__.items()}
    return leaf(value, t)


def from_tree(obj: Any, t: Any, leaf: Leaf) -> Any:
    """The inverse of ``to_tree``: rebuilds Msg instances and lists, ``leaf`` decoding leaves."""
    if _is_list(t):
        item = typing.get_args(t)[0]
        return [from_tree(v, item, leaf) for v in obj]
    if isinstance(t, type) and issubclass(t, Msg):
        return t(**{name: from_tree(obj[name], ft, leaf) for name, ft in t.__lk_fields__.items()})
    return leaf(obj, t)


# --- JSON form (for the graph IR) -------------------------------------------------


def to_json(t: Any) -> dict[str, Any]:
    """The JSON form of a port type, as stored in ``SystemGraph``."""
    if t in SCALARS:
        return {"kind": SCALARS[t]}
    if isinstance(t, Array):
        return {"kind": "array", "dtype": t.dtype.name, "shape": list(t.shape)}
    if _is_list(t):
        return {"kind": "list", "item": to_json(typing.get_args(t)[0])}
    return {
        "kind": "msg",
        "class": class_path(t),
        "fields": {n: to_json(ft) for n, ft in t.__lk_fields__.items()},
    }


def from_json(d: dict[str, Any]) -> Any:
    """Rebuild a port type from its JSON form (Msg classes are imported by path)."""
    kind = d["kind"]
    if kind in _SCALAR_BY_NAME:
        return _SCALAR_BY_NAME[kind]
    if kind == "array":
        return Array(d["dtype"], tuple(d["shape"]))
    if kind == "list":
        return list[from_json(d["item"])]  # type: ignore[misc]
    if d["class"] in _MSG_CLASSES:
        return _MSG_CLASSES[d["class"]]
    return resolve(d["class"])
