"""Arrow codecs: how each port type travels through Dora. Never pickle.

- ``bool, int, float, str, bytes`` and fixed-width numbers: a length-1 Arrow array
  (bool, int64, float64, string, binary, float32, uint8...).
- ``Array``: the flat numpy buffer as an Arrow array without copying (bool arrays as
  uint8), with ``shape`` and ``dtype`` in the metadata; received as a read-only
  numpy view of Dora's buffer, checked against the port's declared spec.
- ``Msg`` and ``list[T]``: a length-1 Arrow struct / list array; Arrays inside
  them are ``struct<shape: list<int64>, data: list<dtype>>``.
- A batch (``batch.py``) of messages without Arrays: one Arrow array of all of them.
"""

from __future__ import annotations

import functools
import typing
from typing import Any

import numpy as np
import pyarrow as pa

from like_keras.system import types

_SCALAR_ARROW = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string(), bytes: pa.binary(),
                 **{t: pa.from_numpy_dtype(t) for t in types.NUMBERS}}


@functools.lru_cache(maxsize=None)
def arrow_type(t: Any) -> pa.DataType:
    """The Arrow type of one value of port type ``t`` inside a struct or list."""
    if t in _SCALAR_ARROW:
        return _SCALAR_ARROW[t]
    if isinstance(t, types.Array):
        return pa.struct([("shape", pa.list_(pa.int64())), ("data", pa.list_(pa.from_numpy_dtype(t.dtype)))])
    if typing.get_origin(t) is list:
        return pa.list_(arrow_type(typing.get_args(t)[0]))
    return pa.struct([(name, arrow_type(ft)) for name, ft in t.__lk_fields__.items()])


def _to_py(value: Any, t: Any) -> Any:
    """A leaf inside a struct or list: scalars as they are, Arrays as shape + flat data."""
    if isinstance(t, types.Array):
        return {"shape": list(value.shape), "data": np.ascontiguousarray(value).ravel()}
    return value


def _from_py(obj: Any, t: Any) -> Any:
    if isinstance(t, types.Array):
        return np.asarray(obj["data"], dtype=t.dtype).reshape(obj["shape"])
    return obj


@functools.lru_cache(maxsize=None)
def _flat_type(dtype: np.dtype) -> pa.DataType:
    """The Arrow type of an Array's flat buffer (bool arrays travel as uint8)."""
    return pa.from_numpy_dtype(np.uint8 if dtype == np.bool_ else dtype)


def encode(value: Any, t: Any) -> tuple[pa.Array, dict[str, Any]]:
    """Encode a checked value of port type ``t``: (Arrow array, metadata)."""
    if isinstance(t, types.Array):
        flat = value.reshape(-1) if value.flags.c_contiguous else np.ascontiguousarray(value).reshape(-1)
        if flat.dtype == np.bool_:
            flat = flat.view(np.uint8)
        return pa.array(flat), {"shape": list(value.shape)}
    return encode_many([value], t), {}


def encode_many(values: list[Any], t: Any) -> pa.Array:
    """Checked values of port type ``t`` (not an ``Array``) as one Arrow array."""
    if t in _SCALAR_ARROW:
        return pa.array(values, type=_SCALAR_ARROW[t])
    return pa.array([types.to_tree(v, t, _to_py) for v in values], type=arrow_type(t))


def decode(array: pa.Array, metadata: dict[str, Any], t: Any) -> Any:
    """Decode what ``encode`` produced; raises TypeError if it does not fit ``t``."""
    if isinstance(t, types.Array):
        shape = metadata.get("shape")
        if shape is None and None not in t.shape:
            shape = list(t.shape)  # a plain Dora node may send the flat buffer alone
        if not isinstance(shape, list):
            raise TypeError(f"expected {t!r} with a 'shape' in the metadata, got metadata {metadata!r}")
        if array.type != _flat_type(t.dtype):
            raise TypeError(f"expected {t!r}, got Arrow {array.type}")
        flat = array.to_numpy(zero_copy_only=True)
        if t.dtype == np.bool_:
            flat = flat.view(np.bool_)
        return flat.reshape(shape)
    return decode_many(array, 1, t)[0]


def decode_many(array: pa.Array, n: int, t: Any) -> list[Any]:
    """Decode ``n`` values that ``encode_many`` produced; TypeError if they do not fit ``t``."""
    if len(array) != n:
        what = f"one {types.describe(t)}" if n == 1 else f"{n} values of {types.describe(t)}"
        raise TypeError(f"expected {what}, got {len(array)} values")
    if not array.type.equals(arrow_type(t)):
        raise TypeError(f"expected {types.describe(t)} (Arrow {arrow_type(t)}), got Arrow {array.type}")
    if t in _SCALAR_ARROW:
        return array.to_pylist()
    return [types.from_tree(obj, t, _from_py) for obj in array.to_pylist()]
