"""Recordings decode to exactly the values sent, for every port type, and every message
in them is valid against its channel's JSON Schema (what Foxglove reads them by)."""

import json
import re

import jsonschema
import numpy as np
import pytest
from mcap.reader import make_reader

from like_keras import Array, Component, Msg, Output, System, msgs
from like_keras.recording import read_messages


class Sample(Msg):
    name: str
    blob: bytes
    pose: msgs.Pose
    grid: Array(np.int16, (2, None))
    tags: list[str]


VALUES = {
    "flag": (bool, [True, False]),
    "count": (int, [0, -(2**62), 2**62]),
    "level": (float, [0.5, -1e300, float("inf")]),
    "text": (str, ["", "naïve \"quoted\"\nnew line"]),
    "raw": (bytes, [b"", b"\x00", b"\xff\x00\x01\xfe", bytes(range(256))]),
    "image": (Array(np.uint8, (2, 3)), [np.arange(6, dtype=np.uint8).reshape(2, 3)]),
    "vec": (Array(np.float32, (None,)), [np.array([1.5, -2.25, 3e-8], np.float32), np.zeros(0, np.float32)]),
    "sample": (Sample, [Sample("a", b"\x00\xff", msgs.Pose(), np.array([[1, -2, 3], [4, 5, -6]], np.int16),
                               ["x", "y"])]),
    "names": (list[str], [["a", "b"], []]),
}


def everything():
    ports = {name: Output(t) for name, (t, _) in VALUES.items()}

    def on_start(self):
        return None

    def step(self):
        k = self.k = getattr(self, "k", -1) + 1
        return {name: values[k] for name, (_, values) in VALUES.items() if k < len(values)}

    Source = type("Source", (Component,), {**ports, "rate_hz": 10.0, "step": step, "on_start": on_start})
    return System(name="rec", components=[Source(name="src")])


def test_every_type_reads_back_exactly_and_validates_against_its_schema():
    n = max(len(v) for _, v in VALUES.values())
    result = everything().launch(iterations=n, record=[f"src.{name}" for name in VALUES])
    got = read_messages(result.recording)
    for name, (_, values) in VALUES.items():
        back = got[f"src.{name}"]
        assert len(back) == len(values), name
        for b, v in zip(back, values):
            if isinstance(v, np.ndarray):
                assert b.dtype == v.dtype and b.shape == v.shape and np.array_equal(b, v), name
            elif isinstance(v, Sample):
                assert (b.name, b.blob, b.pose, b.tags) == (v.name, v.blob, v.pose, v.tags)
                assert b.grid.dtype == np.int16 and np.array_equal(b.grid, v.grid)
            else:
                assert b == v and type(b) is type(v), name
    with open(result.recording, "rb") as f:
        reader = make_reader(f)
        schemas = {s.id: json.loads(s.data) for s in reader.get_summary().schemas.values()}
        checked = 0
        for schema, channel, message in reader.iter_messages():
            jsonschema.validate(json.loads(message.data), schemas[schema.id])
            checked += 1
    assert checked == sum(len(v) for _, v in VALUES.values())


def test_schemas_say_what_the_json_holds():
    result = everything().launch(iterations=1, record=["src.count", "src.raw", "src.sample"])
    with open(result.recording, "rb") as f:
        summary = make_reader(f).get_summary()
    schemas = {c.topic: json.loads(summary.schemas[c.schema_id].data) for c in summary.channels.values()}
    # A schema that constrains nothing would accept all of these.
    for topic, wrong in (("/src/count", "3"), ("/src/raw", 3), ("/src/sample", {"name": 1})):
        try:
            jsonschema.validate(wrong, schemas[topic])
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"the schema of {topic} accepts {wrong!r}")
    assert schemas["/src/raw"]["contentEncoding"] == "base64"
    assert set(schemas["/src/sample"]["properties"]) == {"name", "blob", "pose", "grid", "tags"}


def _recorder(path, graph, ports):
    from like_keras.recording import McapRecorder

    return McapRecorder(path, graph, frozenset(ports))


def test_messages_are_numbered_per_port_and_a_silent_port_is_still_there(tmp_path):
    graph = everything().build()
    rec = _recorder(tmp_path / "a" / "b" / "rec.mcap", graph, [("src", "count"), ("src", "flag"), ("src", "raw")])
    for k in range(3):
        rec.write("src", "count", k, time_ns=100 - k)  # clocks may disagree: the numbers decide the order
    rec.write("src", "flag", True, time_ns=5)
    path = rec.close()
    assert path == tmp_path / "a" / "b" / "rec.mcap" and not list(path.parent.glob(".*"))  # complete, atomic
    with open(path, "rb") as f:
        seqs = [(c.topic, m.sequence) for _, c, m in make_reader(f).iter_messages(log_time_order=False)]
    assert seqs == [("/src/count", 1), ("/src/count", 2), ("/src/count", 3), ("/src/flag", 1)]
    assert read_messages(path) == {"src.count": [0, 1, 2], "src.flag": [True], "src.raw": []}


def test_an_aborted_recording_leaves_nothing(tmp_path):
    rec = _recorder(tmp_path / "rec.mcap", everything().build(), [("src", "count")])
    rec.write("src", "count", 1, time_ns=1)
    rec.abort()
    assert list(tmp_path.iterdir()) == []


def test_per_process_recordings_merge_into_one_in_send_order(tmp_path):
    from like_keras.recording import merge

    graph = everything().build()
    a = _recorder(tmp_path / "rec" / "a.mcap", graph, [("src", "count"), ("src", "raw")])
    b = _recorder(tmp_path / "rec" / "b.mcap", graph, [("src", "text"), ("src", "flag")])
    for k, t in enumerate([30, 10, 20]):  # a skewed clock: log times out of order
        a.write("src", "count", k, time_ns=t)
    b.write("src", "text", "x", time_ns=15)
    b.write("src", "text", "y", time_ns=16)
    parts = [a.close(), b.close()]
    merged = merge(parts, tmp_path / "all.mcap")
    assert read_messages(merged) == {"src.count": [0, 1, 2], "src.raw": [], "src.text": ["x", "y"], "src.flag": []}
    with open(merged, "rb") as f:
        reader = make_reader(f)
        times = [m.log_time for _, _, m in reader.iter_messages(log_time_order=False)]
        summary = reader.get_summary()
    assert times == sorted(times)  # one timeline
    assert {c.topic for c in summary.channels.values()} == {"/src/count", "/src/raw", "/src/text", "/src/flag"}
    assert all(s.encoding == "jsonschema" and json.loads(s.data) for s in summary.schemas.values())
    assert not list(tmp_path.glob(".*"))


def test_the_schema_of_a_list_is_an_array_of_its_items():
    from like_keras.recording import json_schema

    assert json_schema(list[str]) == {"type": "array", "items": {"type": "string"}}
    assert json_schema(bytes) == {"type": "string", "contentEncoding": "base64"}
    assert json_schema(bool) == {"type": "boolean"}


def test_record_names_an_input_by_what_feeds_it():
    from like_keras import Input
    from like_keras.errors import RecordError
    from like_keras.recording import parse_record

    class Src(Component):
        out = Output(int)
        rate_hz = 1.0

        def step(self):
            return 1

    class Sink(Component):
        x = Input(int)
        z = Input(int)

        def step(self, x, z):
            pass

    a, d, b = Src(name="a"), Src(name="d"), Sink(name="b")
    # In both orders, so that a comparison other than equality would pick the wrong one.
    for connections in ([(d.out, b.z), (a.out, b.x)], [(a.out, b.x), (d.out, b.z)]):
        graph = System(name="s", components=[a, d, b], connections=connections).build()
        for port, source in (("b.x", "a.out"), ("b.z", "d.out")):
            with pytest.raises(RecordError, match=re.escape(
                    f"'{port}' is not an output port of 'b': it is an input fed by '{source}', record that. "
                    f"Its outputs: none")):
                parse_record(graph, [port])
    with pytest.raises(RecordError, match=re.escape("'a.nope' is not an output port of 'a'. Its outputs: out")):
        parse_record(graph, ["a.nope"])
    assert parse_record(graph, ["a.out", "d.out"]) == {("a", "out"), ("d", "out")}


def test_aborting_twice_is_harmless(tmp_path):
    rec = _recorder(tmp_path / "rec.mcap", everything().build(), [("src", "count")])
    rec.abort()
    rec.abort()
    assert list(tmp_path.iterdir()) == []
