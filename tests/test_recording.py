"""Recordings decode to exactly the values sent, for every port type, and every message
in them is valid against its channel's JSON Schema (what Foxglove reads them by)."""

import json

import jsonschema
import numpy as np
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
