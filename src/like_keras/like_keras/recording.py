"""Recordings: recorded port values in an MCAP file, readable by Foxglove and by us.

One channel per recorded output port, topic ``/<component>/<port>``, JSON message
encoding with a JSON Schema per type (bytes and array data base64-encoded). Each
channel carries its port type in metadata (``like_keras.type``) so a recording
decodes back to the exact values without the system's code for scalars and arrays.
The file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import base64
import json
import os
import typing
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from mcap.reader import make_reader
from mcap.writer import Writer

from . import types
from .errors import RecordError
from .graph import SystemGraph


def parse_record(graph: SystemGraph, record: list[str]) -> frozenset[tuple[str, str]]:
    """Check ``record`` entries (``"component.port"``) against the graph."""
    out = set()
    for key in record:
        comp_name, _, port = key.partition(".")
        try:
            comp = graph.component(comp_name)
        except KeyError:
            raise RecordError(
                f"record: '{key}' names no component; components are "
                f"{', '.join(c.name for c in graph.components)}"
            ) from None
        if port not in {p.name for p in comp.outputs}:
            feeding = [f"{c.src}.{c.src_port}" for c in graph.connections if (c.dst, c.dst_port) == (comp_name, port)]
            hint = f": it is an input fed by '{feeding[0]}', record that" if feeding else ""
            raise RecordError(
                f"record: '{key}' is not an output port of '{comp_name}'{hint}. "
                f"Its outputs: {', '.join(p.name for p in comp.outputs) or 'none'}"
            )
        out.add((comp_name, port))
    return frozenset(out)


# --- values <-> JSON ------------------------------------------------------------------


def _to_json_leaf(value: Any, t: Any) -> Any:
    if t is bytes:
        return base64.b64encode(value).decode("ascii")
    if isinstance(t, types.Array):
        arr = np.ascontiguousarray(value, dtype=t.dtype.newbyteorder("<"))
        return {"shape": list(arr.shape), "data": base64.b64encode(arr.tobytes()).decode("ascii")}
    return value


def _from_json_leaf(obj: Any, t: Any) -> Any:
    if t is bytes:
        return base64.b64decode(obj)
    if isinstance(t, types.Array):
        raw = base64.b64decode(obj["data"])
        return np.frombuffer(raw, dtype=t.dtype.newbyteorder("<")).astype(t.dtype).reshape(obj["shape"])
    return t(obj)


def to_jsonable(value: Any, t: Any) -> Any:
    return types.to_tree(value, t, _to_json_leaf)


def from_jsonable(obj: Any, t: Any) -> Any:
    return types.from_tree(obj, t, _from_json_leaf)


def json_schema(t: Any) -> dict[str, Any]:
    """A JSON Schema for the JSON form of a port type (for viewers such as Foxglove)."""
    if t is bytes:
        return {"type": "string", "contentEncoding": "base64"}
    if t in types.SCALARS:
        return {"type": {bool: "boolean", int: "integer", float: "number", str: "string"}[t]}
    if isinstance(t, types.Array):
        return {
            "type": "object",
            "description": f"{t!r}, C order, little-endian",
            "properties": {
                "shape": {"type": "array", "items": {"type": "integer"}},
                "data": {"type": "string", "contentEncoding": "base64"},
            },
        }
    if typing.get_origin(t) is list:
        return {"type": "array", "items": json_schema(typing.get_args(t)[0])}
    return {
        "type": "object",
        "title": t.__qualname__,
        "properties": {name: json_schema(ft) for name, ft in t.__lk_fields__.items()},
    }


# --- writing and reading ------------------------------------------------------------


class McapRecorder:
    """Writes recorded port values to ``path`` (atomically: complete or absent)."""

    def __init__(self, path: Path, graph: SystemGraph, ports: frozenset[tuple[str, str]]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._file: BinaryIO = open(self._tmp, "wb")
        self._writer = Writer(self._file)
        self._writer.start(profile="", library="like-keras")
        self._channels: dict[tuple[str, str], tuple[int, Any]] = {}
        self._seq: dict[int, int] = {}
        for comp_name, port in sorted(ports):
            spec = graph.component(comp_name).output(port)
            t = types.from_json(spec.type)
            schema_id = self._writer.register_schema(
                name=types.describe(t), encoding="jsonschema", data=json.dumps(json_schema(t)).encode()
            )
            channel_id = self._writer.register_channel(
                topic=f"/{comp_name}/{port}", message_encoding="json", schema_id=schema_id,
                metadata={"like_keras.type": json.dumps(spec.type), "like_keras.port": f"{comp_name}.{port}"},
            )
            self._channels[(comp_name, port)] = (channel_id, t)
            self._seq[channel_id] = 0

    def write(self, component: str, port: str, value: Any, time_ns: int) -> None:
        channel_id, t = self._channels[(component, port)]
        seq = self._seq[channel_id] = self._seq[channel_id] + 1
        data = json.dumps(to_jsonable(value, t), separators=(",", ":")).encode()
        self._writer.add_message(channel_id, log_time=time_ns, publish_time=time_ns, data=data, sequence=seq)

    def close(self) -> Path:
        """Finish the file and move it into place."""
        self._writer.finish()
        self._file.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop a recording that will not be completed."""
        self._file.close()
        self._tmp.unlink(missing_ok=True)


def read_messages(path: Path) -> dict[str, list[Any]]:
    """All recorded values, by ``"component.port"``, in the order they were sent."""
    out: dict[str, list[tuple[int, Any]]] = {}
    with open(path, "rb") as f:
        reader = make_reader(f)
        summary = reader.get_summary()
        if summary is not None:
            for ch in summary.channels.values():
                out.setdefault(ch.metadata["like_keras.port"], [])
        decoders: dict[int, tuple[str, Any]] = {}
        for _, channel, message in reader.iter_messages(log_time_order=False):
            if channel.id not in decoders:
                t = types.from_json(json.loads(channel.metadata["like_keras.type"]))
                decoders[channel.id] = (channel.metadata["like_keras.port"], t)
            key, t = decoders[channel.id]
            out.setdefault(key, []).append((message.sequence, from_jsonable(json.loads(message.data), t)))
    return {k: [v for _, v in sorted(items, key=lambda x: x[0])] for k, items in out.items()}


def merge(parts: list[Path], path: Path) -> Path:
    """Merge per-process recordings into one file at ``path``, messages in log-time order
    (sequence numbers kept, so per-port send order survives clock skew)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as out:
        writer = Writer(out)
        writer.start(profile="", library="like-keras")
        entries = []
        for part in parts:
            with open(part, "rb") as f:
                reader = make_reader(f)
                summary = reader.get_summary()
                assert summary is not None, f"{part} has no summary"
                channel_ids = {}
                for channel in summary.channels.values():  # every recorded port, even a silent one
                    schema = summary.schemas[channel.schema_id]
                    schema_id = writer.register_schema(schema.name, schema.encoding, schema.data)
                    channel_ids[channel.id] = writer.register_channel(
                        channel.topic, channel.message_encoding, schema_id, dict(channel.metadata)
                    )
                for _, channel, m in reader.iter_messages(log_time_order=False):
                    entries.append((m.log_time, channel_ids[channel.id], m.sequence, m.publish_time, m.data))
        entries.sort(key=lambda e: e[:3])
        for log_time, channel_id, sequence, publish_time, data in entries:
            writer.add_message(channel_id, log_time=log_time, data=data, publish_time=publish_time,
                               sequence=sequence)
        writer.finish()
    os.replace(tmp, path)
    return path
