"""Dora's node logic without a Dora daemon: the node's ``Host`` driven by
``dora.testing.MockNode`` (the stand-in dora-rs ships for ``dora.Node``), as the ROS 2
host is tested without rclpy."""

from __future__ import annotations

import pyarrow as pa
import pytest
from dora.testing import MockNode

from like_keras import Component, Node, Output, System
from like_keras.errors import RunError
from like_keras.transports.common import drain
from like_keras.transports.dora import codec
from like_keras.transports.dora.compiler import PROBE, REPORT
from like_keras.transports.dora.host import Host
from like_keras.transports.dora.sequence import Numbering

from assets.components import Double, Sink


class Source(Component):
    out = Output(int)

    def on_start(self):
        return 1


class Line(System):
    """a: source -> b: doubler -> c: sink, each in a node (process) of its own."""

    def __init__(self):
        self.a, self.b, self.c = Node("a"), Node("b"), Node("c")
        self.source = Source.from_node(self.a)
        self.doubler = Double.from_node(self.b)
        self.sink = Sink.from_node(self.c)
        self.connect(self.source.out, self.doubler.x)
        self.connect(self.doubler.y, self.sink.x)
        super().__init__(name="line")


def _host(events: list) -> tuple[Host, MockNode, dict[str, Component]]:
    system = Line()
    graph = system.build()
    components = {c.name: c for c in system._components()}
    dora = MockNode(events)
    return Host(graph, "b", components, dora), dora, components


def _inputs(values: list, seqs: list[int] | None = None) -> list[dict]:
    """What node a sends node b: each value encoded as on Dora, numbered in order."""
    host, _, _ = _host([])
    (iid,) = host.plan.routes
    numbering = Numbering([iid])
    events = []
    for i, value in enumerate(values):
        array, metadata = codec.encode(value, int)
        numbering.stamp(iid, metadata)
        if seqs is not None:
            metadata["seq"] = seqs[i]
        events.append({"type": "INPUT", "id": iid, "value": array, "metadata": metadata})
    return events


def _sent(dora: MockNode, output: str) -> list:
    return [v for array in dora.outputs.get(output, []) for v in array.to_pylist()]


def test_inputs_are_decoded_stepped_and_sent_on_in_order():
    host, dora, _ = _host(_inputs([1, 2, 3]))
    host.run()
    assert host.runtime.steps == {"doubler": 3}
    (oid,) = host.plan.outputs
    assert _sent(dora, oid) == [2, 4, 6]  # small messages leave in batches, still in order


def test_a_lost_message_ends_the_run_naming_the_node():
    host, _, _ = _host(_inputs([1, 2, 3], seqs=[1, 3, 4]))
    with pytest.raises(RunError) as info:
        host.run()
    assert info.value.node == "b" and "doubler" in str(info.value)


def test_a_value_that_does_not_fit_the_port_is_refused():
    host, _, _ = _host([])
    (iid,) = host.plan.routes
    bad = {"type": "INPUT", "id": iid, "value": pa.array(["seven"]), "metadata": {"seq": 1}}
    host, _, _ = _host([bad])
    with pytest.raises(RunError, match=r"node 'b' received a value for doubler.x that does not fit the port"):
        host.run()


def test_a_probe_is_answered_once_the_inbox_is_empty_and_an_exit_probe_ends_the_node():
    events = _inputs([5, 6]) + [
        {"type": "INPUT", "id": PROBE, "value": pa.array([drain.probe(1)]), "metadata": {}},
        {"type": "INPUT", "id": PROBE, "value": pa.array([drain.probe(2, exit=True)]), "metadata": {}},
        *_inputs([7]),  # never read: the node has left
    ]
    host, dora, _ = _host(events)
    host.run()
    assert host.runtime.steps == {"doubler": 2} and host.drain.leaving
    (answer,) = _sent(dora, REPORT)
    assert drain.parse(answer) == drain.parse(drain.report("b", 1, sent=2, received=2))


def test_on_stop_runs_once_at_the_end():
    stopped = []
    host, _, components = _host(_inputs([1]))
    components["doubler"].on_stop = lambda: stopped.append(True)
    host.run()
    assert stopped == [True]
