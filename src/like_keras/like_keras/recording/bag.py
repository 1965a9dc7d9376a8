"""rosbag2 bags: the parts of a run merged into one bag, and bags read back.

A bag is a directory (``metadata.yaml`` and one MCAP file) written by rosbags'
rosbag2 Writer: CDR messages, ``ros2msg`` schemas, one topic per recorded port.
``metadata.yaml`` keeps, under ``custom_data: like_keras.ports``, the port and port
type of each topic, so ``read_messages`` returns the exact values that were sent.
"""

from __future__ import annotations

import heapq
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer

from like_keras.msgs.cdr import typestore
from like_keras.msgs.ros_mapping import mapping
from like_keras.recording.cdr import PortCodec
from like_keras.recording.part import read_part

PORTS_KEY = "like_keras.ports"
START_KEY = "like_keras.start_ns"  # when the recorded run began


def write_bag(parts: list[Path], path: Path) -> Path:
    """Merge per-process parts into the bag ``path``, messages in log-time order.

    The bag appears complete or not at all (written aside, then renamed). A part cut
    short by a killed process contributes what it holds."""
    path = Path(path)
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir(parents=True)
    tmp = aside / path.name  # rosbag2 names the MCAP file after its directory
    writer = Writer(tmp, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    try:
        ports: dict[str, dict[str, Any]] = {}
        starts = []
        streams = []
        for part_path in parts:
            part = read_part(part_path)
            connections = {}
            for channel_id, ch in part.channels.items():  # every recorded port, even a silent one
                info = dict(ch["info"])
                connections[channel_id] = writer.add_connection(
                    ch["topic"], ch["ros_type"], msgdef=ch["msgdef"], rihs01=info.pop("rihs01"))
                starts.append(info.pop("start_ns"))
                ports[ch["topic"]] = info
            streams.append(_stream(part, connections))
        # Each part is in time order: merge them as streams (a run may record more than fits in
        # memory); heapq.merge is stable, so equal times keep the parts' order.
        for t, connection, data in heapq.merge(*streams, key=lambda e: e[0]):
            writer.write(connection, t, data)
        writer.set_custom_data(PORTS_KEY, json.dumps(ports, sort_keys=True))
        if starts:
            writer.set_custom_data(START_KEY, str(min(starts)))
        writer.close()
    except BaseException:
        writer.close()
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)
    aside.rmdir()
    return path


def _stream(part: Any, connections: dict[int, Any]) -> Iterator[tuple[int, Any, bytes]]:
    for t, channel_id, data in part.messages():
        yield t, connections[channel_id], data


def read_messages(path: Path) -> dict[str, list[Any]]:
    """Every message of the bag at ``path``, in the order sent: by ``"component.port"``
    with its exact port values for a like-keras recording; by topic, as messages of
    the ROS catalog (``like_keras.msgs.ros``), for a bag recorded elsewhere."""
    path = Path(path)
    ports = json.loads(_custom(path).get(PORTS_KEY) or "{}")
    with AnyReader([path], default_typestore=typestore()) as reader:
        out: dict[str, list[Any]] = {}
        decoders = {}
        for conn in reader.connections:
            info = ports.get(conn.topic)
            key = info["port"] if info else conn.topic
            out[key] = []
            if info:
                decoders[conn.id] = (key, PortCodec.reader(info, reader.typestore).mapping.from_ros)
            else:
                decoders[conn.id] = (key, _catalog_decoder(conn.msgtype))
        for conn, _, raw in reader.messages():
            key, decode = decoders[conn.id]
            out[key].append(decode(reader.deserialize(raw, conn.msgtype)))
    return out


def _custom(path: Path) -> dict[str, str]:
    """The bag's ``custom_data`` (rosbag2 metadata, version 6 and later)."""
    info = yaml.safe_load((path / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    return dict(info.get("custom_data") or {})


def _catalog_decoder(ros_type: str) -> Any:
    from like_keras.msgs.ros import BY_ROS_TYPE

    if ros_type not in BY_ROS_TYPE:
        return lambda m: m  # not a Jazzy common interface: rosbags' own message
    return mapping(BY_ROS_TYPE[ros_type]).from_ros


@dataclass(frozen=True)
class Wanted:
    """A port to feed from a bag: its topic (``explicit``: given by the user, so it must be
    there), the ROS type it needs and how to turn a message into its value."""

    port: str
    topic: str
    explicit: bool
    ros_type: str
    from_ros: Callable[[Any], Any]


class Topics:
    """The topics of a bag that feed ``wanted`` ports of ``component``."""

    def __init__(self, path: Path, component: str, wanted: list[Wanted], recorded_as: dict[str, str]) -> None:
        """``recorded_as``: port -> like-keras port name whose recorded topic to prefer."""
        from like_keras.errors import ReplayError

        if not (path / "metadata.yaml").exists():
            raise ReplayError(f"replay: {path} is not a rosbag2 bag (no metadata.yaml there)")
        custom = _custom(path)
        recorded = {info["port"]: topic for topic, info in json.loads(custom.get(PORTS_KEY) or "{}").items()}
        self.reader = AnyReader([path], default_typestore=typestore())
        self.reader.open()
        in_bag = {c.topic: c for c in self.reader.connections}
        self.ports: dict[str, tuple[str, Any]] = {}  # topic -> (port, from_ros)
        try:
            for w in wanted:
                topic = w.topic if w.explicit else recorded.get(recorded_as.get(w.port, ""), w.topic)
                if topic not in in_bag:
                    if w.explicit:
                        raise ReplayError(f"replay: {path} has no topic '{topic}' (for {component}.{w.port}); "
                                          f"its topics: {', '.join(sorted(in_bag)) or 'none'}")
                    continue
                if in_bag[topic].msgtype != w.ros_type:
                    raise ReplayError(
                        f"replay: {component}.{w.port} takes {w.ros_type}, but '{topic}' in {path} holds "
                        f"{in_bag[topic].msgtype}: map the port to a topic of its type with "
                        f"Replay(path, topics={{'{w.port}': ...}})")
                self.ports[topic] = (w.port, w.from_ros)
            if not self.ports:
                raise ReplayError(
                    f"replay: {path} has no topic for '{component}' (looked for {', '.join(w.topic for w in wanted)}); "
                    f"its topics: {', '.join(sorted(in_bag)) or 'none'}. "
                    f"Map them with Replay(path, topics={{port: topic}})")
        except BaseException:
            self.reader.close()
            raise
        self._connections = [in_bag[t] for t in self.ports]
        # When the recorded run began; None for a bag recorded elsewhere.
        self.start_ns: int | None = int(custom[START_KEY]) if START_KEY in custom else None

    def stamps(self) -> Iterator[tuple[int, str]]:
        """``(time, port)`` of every message, in time order (nothing decoded)."""
        for conn, t, _ in self.reader.messages(connections=self._connections):
            yield t, self.ports[conn.topic][0]

    def values(self) -> Iterator[tuple[int, str, Any]]:
        """``(time, port, value)`` of every message, in time order."""
        for conn, t, raw in self.reader.messages(connections=self._connections):
            port, from_ros = self.ports[conn.topic]
            yield t, port, from_ros(self.reader.deserialize(raw, conn.msgtype))

    def __enter__(self) -> Topics:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.reader.close()
