"""The public API: ports, components, nodes, systems, the IR and its views."""

import json
from dataclasses import dataclass

import numpy as np
import pytest

from like_keras import Array, Component, Input, Msg, Node, Output, System, SystemGraph
from like_keras.errors import TransportError
from like_keras.system.ports import PortRef

from assets import components
from assets.components import Double, Sink


class Source(components.Ticker):  # counts 1, 2, 3...
    rate_hz = 10.0


class Chain(System):
    def __init__(self):
        self.source = Source()
        self.double = Double()
        self.sink = Sink()
        self.connect(self.source.out, self.double.x)
        self.connect(self.double.y, self.sink.x)
        super().__init__(config=System.Config(name="chain"))


def test_ports_are_class_declarations_bound_per_instance():
    a, b = Double(), Double()
    assert isinstance(a.x, PortRef) and a.x.component is a and b.x.component is b
    assert Double.inputs == {"x": Double.__dict__["x"]}
    assert list(Double.outputs) == ["y"]
    with pytest.raises(AttributeError, match="is a port"):
        a.x = 3


def test_component_names_default_to_system_attribute_names():
    system = Chain()
    graph = system.build()
    assert [c.name for c in graph.components] == ["source", "double", "sink"]
    assert system.double.name == "double"
    # One implicit node when the system declares none.
    assert [n.name for n in graph.nodes] == ["main"]
    assert graph.clock == "source"


def test_functional_form_matches_the_class_form():
    src, dbl, snk = Source(name="source"), Double(name="double"), Sink(name="sink")
    system = System(
        name="chain", components=[src, dbl, snk],
        connections=[(src.out, dbl.x), ("double.y", "sink.x")],
    )
    untargeted = {"target": None, "target_kwargs": None}
    assert system.build().to_dict() | untargeted == Chain().build().to_dict() | untargeted
    result = system.launch(iterations=5)
    assert snk.seen == [2, 4, 6, 8, 10]
    assert result.steps == {"source": 5, "double": 5, "sink": 5}


def test_from_node_and_constructor_place_components():
    n1, n2 = Node("one"), Node("two", machine="robot")
    a = Source.from_node(n1, name="a")
    b = Double(name="b", node=n2)
    system = System(name="placed", nodes=[n1, n2], components=[a, b], connections=[(a.out, b.x)])
    graph = system.build()
    assert graph.node("one").components == ("a",)
    assert graph.node("two").components == ("b",) and graph.node("two").machine == "robot"
    assert graph.is_cross_node(graph.connections[0])


def test_config_dataclass_and_rate_from_config_or_class():
    class Ticker(Component):
        out = Output(float)

        @dataclass
        class Config:
            rate_hz: float = 4.0
            gain: float = 1.5

        def step(self):
            return self.config.gain

    t = Ticker()
    assert t.config.gain == 1.5 and t.effective_rate_hz == 4.0
    assert Ticker(config=Ticker.Config(rate_hz=8.0)).effective_rate_hz == 8.0
    assert Ticker(config={"gain": 2.0}).config.gain == 2.0
    assert Source().effective_rate_hz == 10.0
    system = System(name="t", components=[Ticker(name="ticker")])
    spec = system.build().component("ticker")
    assert spec.config == {"rate_hz": 4.0, "gain": 1.5} and spec.rate_hz == 4.0
    # Two simulated seconds at 4 Hz: 8 ticks.
    assert system.launch(duration=2.0).steps == {"ticker": 8}


def test_sampled_inputs_and_defaults():
    class Slow(Component):
        v = Input(int, trigger=False, default=-1)
        seen = Output(int)
        rate_hz = 2.5

        def step(self, v):
            return v

    class Trig(Component):
        v = Input(int)
        other = Input(int, default=7)
        got = Output(int)

        def step(self, v, other):
            return v * 100 + other

    fast, slow, trig = Source(name="fast"), Slow(name="slow"), Trig(name="trig")
    system = System(
        name="sampling", components=[fast, slow, trig],
        connections=[(fast.out, slow.v), (fast.out, trig.v)], clock="fast",
    )
    result = system.launch(iterations=10, record=["slow.seen", "trig.got"])
    # slow ticks at 0.4 s and 0.8 s: it sees the fast counter's latest value, not every message.
    assert result.steps["slow"] == 2
    assert result.messages("slow.seen") == [4, 8]
    # trig steps on every message; its unconnected input keeps its default.
    assert result.messages("trig.got") == [n * 100 + 7 for n in range(1, 11)]


def test_msg_types_nest_and_round_trip():
    class Point(Msg):
        x: float
        y: float

    class Blob(Msg):
        centre: Point
        pixels: Array(np.uint8, (None, 2))
        label: str = ""

    class Emit(Component):
        blob = Output(Blob)

        def on_start(self):
            return Blob(Point(1.0, 2), np.array([[1, 2], [3, 4]], np.uint8), "a")

    class Keep(Component):
        blob = Input(Blob)

        def step(self, blob):
            self.got = blob

    e, k = Emit(name="emit"), Keep(name="keep")
    result = System(name="msgs", components=[e, k], connections=[(e.blob, k.blob)]).launch(record=["emit.blob"])
    assert k.got.centre == Point(1.0, 2.0) and isinstance(k.got.centre.y, float)
    assert not k.got.pixels.flags.writeable
    (recorded,) = result.messages("emit.blob")
    assert recorded.centre == Point(1.0, 2.0) and recorded.label == "a"
    np.testing.assert_array_equal(recorded.pixels, [[1, 2], [3, 4]])


def test_graph_is_frozen_and_json_round_trips():
    graph = Chain().build()
    with pytest.raises(AttributeError):
        graph.name = "other"
    data = json.loads(graph.to_json())
    assert data["connections"][0] == {"src": "source", "src_port": "out", "dst": "double", "dst_port": "x"}
    assert data["components"][0]["outputs"][0]["type"] == {"kind": "int"}
    assert SystemGraph.from_json(graph.to_json()) == graph
    assert graph.target == "unit.system.test_api:Chain"


def test_graph_lookups_answer_by_name_and_by_node():
    from like_keras_examples.sensor_pipeline import SensorPipeline

    graph = SensorPipeline().build()
    assert graph.component("tracker").node == graph.node_of("tracker") == "control"
    assert graph.node("perception").components == ("camera", "detector")
    with pytest.raises(KeyError, match="no component named 'nope' in system 'sensor_pipeline'"):
        graph.component("nope")
    with pytest.raises(KeyError, match="no node named 'nope'"):
        graph.node("nope")
    (cross,) = graph.cross_node_connections()  # the detections, not the images
    assert str(cross) == "detector.detection -> tracker.detection"
    assert graph.cross_node_connections("control") == graph.cross_node_connections("perception") == (cross,)
    assert graph.reader_nodes("detector", "detection") == {"control"}
    assert graph.reader_nodes("camera", "image") == frozenset()  # read in its own node only
    assert [str(c) for c in graph.connections_from("camera")] == ["camera.image -> detector.image"]
    assert SystemGraph.from_json(graph.to_json()).cross_node_connections() == (cross,)  # rebuilt on a copy


def test_summary_prints_nodes_components_ports_and_connections():
    lines = []
    Chain().summary(print_fn=lines.append)
    text = "\n".join(lines)
    for word in ("System 'chain'", "main", "source (Source)", "x: int", "timer 10 Hz (clock)",
                 "double.y", "sink.x", "1 node, 3 components, 2 connections"):
        assert word in text, word


def test_mermaid_has_a_subgraph_per_node_and_an_edge_per_connection():
    text = Chain().to_mermaid()
    assert text.startswith("flowchart LR\n")
    assert 'subgraph node_main["node main"]' in text
    assert "source -->|out to x| double" in text and "double -->|y to x| sink" in text


def test_compile_to_transport_names_the_transports():
    with pytest.raises(TransportError, match="available transports: native"):
        Chain().compile_to_transport("nope", "/tmp/x")
    with pytest.raises(TransportError, match="nothing to compile"):
        Chain().compile_to_transport("native", "/tmp/x")
    with pytest.raises(TransportError, match="unknown transport 'carrier-pigeon'"):
        Chain().launch(transport="carrier-pigeon")
