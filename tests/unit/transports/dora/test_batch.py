"""Batching small messages on Dora: what is held, when it leaves, and how it travels."""

import pyarrow as pa
import pytest

from like_keras import Msg
from like_keras.transports.dora import batch, codec
from like_keras.transports.dora.batch import Batch


class Point(Msg):
    x: float
    label: str


def test_messages_of_one_output_leave_together_and_in_order():
    sent = []
    b = Batch(lambda oid, values: sent.append((oid, values)))
    for v in (1, 2, 3):
        b.add("a__out", v)
    assert sent == []  # held until a flush
    b.add("b__out", 9)  # another output: the held ones leave first, so sends keep their order
    b.flush()
    b.flush()  # nothing held: nothing sent
    assert sent == [("a__out", [1, 2, 3]), ("b__out", [9])]


def test_a_full_batch_leaves_at_once():
    sent = []
    b = Batch(lambda oid, values: sent.append(len(values)))
    for v in range(batch.MAX - 1):
        b.add("a__out", v)
    assert sent == []
    b.add("a__out", batch.MAX - 1)  # the add that fills it sends it: it waits for no next add
    assert sent == [batch.MAX]
    b.add("a__out", batch.MAX)
    b.flush()
    assert sent == [batch.MAX, 1]


@pytest.mark.parametrize("t, values", [
    (int, [1, -2, 2**62]),
    (float, [0.5, float("inf")]),
    (str, ["a", "é", ""]),
    (list[int], [[1, 2], [], [3]]),
    (Point, [Point(x=1.0, label="a"), Point(x=-2.5, label="b")]),
])
def test_a_batch_decodes_to_the_values_encoded(t, values):
    array = codec.encode_many(values, t)
    assert len(array) == len(values)
    assert codec.decode_many(array, len(values), t) == values


def test_a_batch_of_the_wrong_length_or_type_is_refused():
    with pytest.raises(TypeError, match="expected 3 values of int, got 2 values"):
        codec.decode_many(pa.array([1, 2]), 3, int)
    with pytest.raises(TypeError, match="expected int"):
        codec.decode_many(pa.array([1.0, 2.0]), 2, int)
