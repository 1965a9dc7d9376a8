"""Arrow codecs of the Dora transport: every port type round-trips, mismatches are refused."""

import numpy as np
import pyarrow as pa
import pytest

from like_keras import Array, Msg
from like_keras.transports.dora import codec


class Point(Msg):
    x: float
    y: float


class Scan(Msg):
    stamp: int
    frame: str
    ranges: Array(np.float32, (None,))
    origin: Point
    hits: list[Point]
    ok: bool = True
    raw: bytes = b""


CASES = [
    (bool, True),
    (int, -(2**62)),
    (float, 3.25),
    (str, "héllo"),
    (bytes, b"\x00\xffdata"),
    (Array(np.float32, (2, 3)), np.arange(6, dtype=np.float32).reshape(2, 3)),
    (Array(np.uint8, (None, None, 3)), np.full((4, 5, 3), 7, np.uint8)),
    (Array(np.bool_, (3,)), np.array([True, False, True])),
    (Array(np.int64, (0,)), np.zeros(0, np.int64)),
    (list[float], [1.0, 2.5]),
    (Scan, Scan(7, "laser", np.array([1.0, 2.0], np.float32), Point(1, 2), [Point(3, 4)], False, b"x")),
]


def _equal(a, b):
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, Scan):
        return _equal(a.ranges, b.ranges) and (a.stamp, a.frame, a.origin, a.hits, a.ok, a.raw) == (
            b.stamp, b.frame, b.origin, b.hits, b.ok, b.raw)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("t, value", CASES, ids=lambda x: repr(x)[:30])
def test_round_trip(t, value):
    array, metadata = codec.encode(value, t)
    assert isinstance(array, pa.Array)
    assert _equal(value, codec.decode(array, metadata, t))


def test_arrays_travel_without_copies_and_arrive_read_only():
    value = np.arange(1 << 20, dtype=np.float32).reshape(1024, 1024)
    array, metadata = codec.encode(value, Array(np.float32, (1024, 1024)))
    assert array.buffers()[1].address == value.ctypes.data  # the numpy buffer itself
    assert metadata == {"shape": [1024, 1024]}
    back = codec.decode(array, metadata, Array(np.float32, (1024, 1024)))
    assert back.ctypes.data == value.ctypes.data and not back.flags.writeable


def test_a_plain_dora_node_may_send_a_flat_buffer_for_a_fixed_shape():
    back = codec.decode(pa.array(np.arange(6, dtype=np.float64)), {}, Array(np.float64, (2, 3)))
    assert back.shape == (2, 3)


@pytest.mark.parametrize(
    "t, array, metadata, message",
    [
        (Array(np.float64, (4,)), pa.array(np.zeros(4, np.float32)), {"shape": [4]}, "got Arrow float"),
        (Array(np.float64, (None,)), pa.array(np.zeros(4)), {}, "'shape' in the metadata"),
        (int, pa.array([1.5]), {}, "expected int"),
        (Point, pa.array([{"x": 1.0}], type=pa.struct([("x", pa.float64())])), {}, "expected Point"),
        (float, pa.array([1.0, 2.0]), {}, "got 2 values"),
        (float, pa.array([], type=pa.float64()), {}, "expected one float, got 0 values"),
    ],
)
def test_values_that_do_not_fit_the_port_are_refused(t, array, metadata, message):
    with pytest.raises(TypeError, match=message):
        codec.decode(array, metadata, t)


def test_bool_arrays_travel_as_uint8_bytes():
    value = np.array([[True, False, True], [False, False, True]])
    array, metadata = codec.encode(value, Array(np.bool_, (2, 3)))
    assert array.type == pa.uint8() and array.to_pylist() == [1, 0, 1, 0, 0, 1]
    back = codec.decode(array, metadata, Array(np.bool_, (2, 3)))
    assert back.dtype == np.bool_ and np.array_equal(back, value)
    with pytest.raises(TypeError, match="got Arrow bool"):
        codec.decode(pa.array([True, False]), {"shape": [2]}, Array(np.bool_, (2,)))


def test_a_transposed_array_is_sent_row_major():
    value = np.arange(6, dtype=np.int32).reshape(2, 3).T  # not C-contiguous
    array, metadata = codec.encode(value, Array(np.int32, (3, 2)))
    assert array.to_pylist() == [0, 3, 1, 4, 2, 5] and metadata == {"shape": [3, 2]}
    assert np.array_equal(codec.decode(array, metadata, Array(np.int32, (3, 2))), value)


def test_arrays_inside_messages_and_lists_keep_dtype_and_shape():
    t = list[Array(np.bool_, (None, 2))]
    value = [np.array([[True, False]]), np.zeros((0, 2), np.bool_)]
    array, metadata = codec.encode(value, t)
    back = codec.decode(array, metadata, t)
    assert [(b.dtype, b.shape) for b in back] == [(np.bool_, (1, 2)), (np.bool_, (0, 2))]
    assert np.array_equal(back[0], value[0])
