"""Sequence numbers on Dora edges: every loss or reordering Dora could make is named."""

import json

import pytest

from like_keras.errors import RunError
from like_keras.transports.dora.sequence import Numbering, SequenceCheck

ROUTES = {"producer__out": [("consumer", "x"), ("logger", "x")], "cam__image": [("viewer", "image")]}


def numbered(n, oid="producer__out"):
    numbering = Numbering([oid, "other__out"])
    out = []
    for _ in range(n):
        metadata = {"kept": True}
        numbering.stamp(oid, metadata)
        out.append(metadata)
    numbering.stamp("other__out", {})
    assert numbering.last == {oid: n, "other__out": 1}  # one count per output
    return out


def test_numbers_in_order_pass():
    check = SequenceCheck("slow", ROUTES, set())
    for metadata in numbered(1000):  # past 256: numbers are compared by value, not identity
        check.check("producer__out", json.loads(json.dumps(metadata)))  # as they arrive, decoded
    assert [m["seq"] for m in numbered(3)] == [1, 2, 3]
    assert check.last == {"producer__out": 1000, "cam__image": 0}


@pytest.mark.parametrize("order, expected, got", [
    ([1, 2, 4], 3, 4),  # lost
    ([1, 3, 2], 2, 3),  # reordered
    ([1, 1], 2, 1),  # duplicated
    ([2], 1, 2),  # the first one lost
])
def test_a_gap_a_swap_or_a_repeat_fails_naming_the_edge(order, expected, got):
    check = SequenceCheck("slow", ROUTES, set())
    with pytest.raises(RunError) as info:
        for seq in order:
            check.check("producer__out", {"seq": seq})
    err = info.value
    assert (err.node, err.component) == ("slow", "consumer")
    assert str(err).startswith(f"Dora lost or reordered messages on producer.out -> consumer.x: expected message "
                               f"#{expected}, got #{got}.")
    assert "keep_last=N" in str(err)


def test_inputs_are_counted_apart_and_lossy_ones_may_skip():
    check = SequenceCheck("slow", ROUTES, {"cam__image"})
    check.check("producer__out", {"seq": 1})
    for seq in (1, 5, 9):  # keep_last: old frames may be dropped
        check.check("cam__image", {"seq": seq})
    check.check("producer__out", {"seq": 2})
    with pytest.raises(RunError, match="expected message #3, got #4"):
        check.check("producer__out", {"seq": 4})


def test_a_message_without_a_number_is_taken_as_the_next():
    # A plain Dora node sends no seq: nothing to check it against, and the count goes on.
    check = SequenceCheck("slow", ROUTES, set())
    with pytest.raises(RunError, match="expected message #1, got #None"):
        check.check("producer__out", {})
    check = SequenceCheck("slow", ROUTES, {"producer__out"})
    check.check("producer__out", {})
    assert check.last["producer__out"] == 1


def test_a_batch_is_numbered_by_its_first_message_and_counts_all_of_them():
    numbering = Numbering(["producer__out"])
    first, batch, single = {}, {}, {}
    numbering.stamp("producer__out", first)
    numbering.stamp("producer__out", batch, 3)
    numbering.stamp("producer__out", single)
    assert (first, batch, single) == ({"seq": 1}, {"seq": 2, "n": 3}, {"seq": 5})
    check = SequenceCheck("slow", ROUTES, set())
    check.check("producer__out", first)
    check.check("producer__out", batch, 3)
    assert check.last["producer__out"] == 4
    check.check("producer__out", single)
    assert check.last["producer__out"] == 5


def test_a_lost_batch_is_a_gap_of_all_its_messages():
    check = SequenceCheck("slow", ROUTES, set())
    check.check("producer__out", {"seq": 1, "n": 3}, 3)
    with pytest.raises(RunError, match="expected message #4, got #7"):
        check.check("producer__out", {"seq": 7, "n": 2}, 2)  # messages 4-6 never came
