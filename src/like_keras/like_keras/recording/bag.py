"""rosbag2 bags: the parts of a run merged into one bag, and bags read back.

A bag is a directory (``metadata.yaml`` and one MCAP file) written by rosbags'
rosbag2 Writer: CDR messages, ``ros2msg`` schemas, one topic per recorded port.
``metadata.yaml`` keeps, under ``custom_data: like_keras.ports``, the port and port
type of each topic, so ``read_messages`` returns the exact values that were sent.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer

from ..msgs.ros_mapping import mapping
from .cdr import PortCodec, typestore
from .part import read_part

PORTS_KEY = "like_keras.ports"


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
        entries = []
        for index, part_path in enumerate(parts):
            part = read_part(part_path)
            connections = {}
            for channel_id, ch in part.channels.items():  # every recorded port, even a silent one
                info = dict(ch["info"])
                connections[channel_id] = writer.add_connection(
                    ch["topic"], ch["ros_type"], msgdef=ch["msgdef"], rihs01=info.pop("rihs01"))
                ports[ch["topic"]] = info
            entries += [(log_time, index, n, connections[cid], data)
                        for n, (log_time, cid, data) in enumerate(part.messages)]
        entries.sort(key=lambda e: e[:3])
        for log_time, _, _, connection, data in entries:
            writer.write(connection, log_time, data)
        writer.set_custom_data(PORTS_KEY, json.dumps(ports, sort_keys=True))
        writer.close()
    except BaseException:
        writer.close()
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)
    aside.rmdir()
    return path


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
    from ..msgs.ros import BY_ROS_TYPE

    if ros_type not in BY_ROS_TYPE:
        return lambda m: m  # not a Jazzy common interface: rosbags' own message
    return mapping(BY_ROS_TYPE[ros_type]).from_ros
