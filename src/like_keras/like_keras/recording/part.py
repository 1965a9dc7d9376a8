"""One process's part of a recording: an MCAP file of CDR messages, written as it goes.

Messages are not chunked and the file is flushed at least every ``FLUSH_S`` seconds
(when writing, and when the node process is idle), so a process killed with ``kill -9``
loses at most that much; ``read_part`` reads a part up to where it was cut. Log times
never go back within a part and strictly increase per port, so parts merge as streams
and a port's order survives any sort by time. The launcher merges parts into the bag
(``bag.write_bag``).
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from mcap.exceptions import McapError
from mcap.records import Channel, Message, Schema
from mcap.stream_reader import StreamReader
from mcap.writer import Writer

from like_keras.graph.ir import SystemGraph
from like_keras.msgs.cdr import typestore
from like_keras.recording.cdr import PortCodec

FLUSH_S = 0.5


class PartWriter:
    """Records ``ports`` (``(component, port)``) of ``graph`` into the part at ``path``;
    ``start_ns`` is when the run began (replay times messages from it)."""

    def __init__(self, path: Path, graph: SystemGraph, ports: frozenset[tuple[str, str]],
                 start_ns: int | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        store = typestore(graph)
        self._file: BinaryIO = open(self.path, "wb")
        self._writer = Writer(self._file, use_chunking=False, use_summary_offsets=False)
        self._writer.start(profile="ros2", library="like-keras")
        self._ports: dict[tuple[str, str], tuple[int, PortCodec]] = {}
        for comp, port in sorted(ports):
            codec = PortCodec.of(graph, comp, port, store)
            schema = self._writer.register_schema(codec.ros_type, "ros2msg", codec.msgdef().encode())
            info = json.dumps({**codec.info, "rihs01": codec.rihs01(), "start_ns": start_ns or time.time_ns()})
            channel = self._writer.register_channel(codec.topic, "cdr", schema, {"like_keras": info})
            self._ports[(comp, port)] = (channel, codec)
        self._file.flush()
        self._last_ns = {channel: 0 for channel, _ in self._ports.values()}
        self._last = 0
        self._flushed = time.monotonic()
        self._pending = False  # written since the last flush
        self._closed = False

    def write(self, component: str, port: str, value: Any, time_ns: int,
              header: tuple[int, str] | None = None) -> None:
        channel, codec = self._ports[(component, port)]
        # Never before the part's previous message, and after the port's previous one.
        t = self._last = self._last_ns[channel] = max(time_ns, self._last, self._last_ns[channel] + 1)
        self._writer.add_message(channel, log_time=t, data=codec.encode(value, header), publish_time=t)
        self._pending = True
        self.flush_due()

    def flush_due(self) -> None:
        """Flush what is written if ``FLUSH_S`` has passed since the last flush. ``write``
        calls it; so does an idle node process, so a message sent just before a long
        silence reaches the disk too."""
        if self._pending and time.monotonic() - self._flushed >= FLUSH_S:
            self._file.flush()
            self._pending = False
            self._flushed = time.monotonic()

    def close(self) -> Path:
        """Finish the part (safe to call twice, and after a failure)."""
        if not self._closed:
            self._closed = True
            self._writer.finish()
            self._file.close()
        return self.path


_CUT = (McapError, EOFError, struct.error, ValueError, KeyError, IndexError, UnicodeDecodeError)


class Part:
    """A part, read back: its ports by channel id (read at once) and its messages (streamed,
    in write order, up to where a killed writer stopped)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # channel id -> topic, ros_type, msgdef and the port's info (PortCodec.info, rihs01)
        self.channels: dict[int, dict[str, Any]] = {}
        self.complete = True  # False once messages() met the cut of a killed writer
        schemas: dict[int, Schema] = {}
        for record in self._records():
            if isinstance(record, Schema):
                schemas[record.id] = record
            elif isinstance(record, Channel):
                schema = schemas[record.schema_id]
                self.channels[record.id] = {
                    "topic": record.topic, "ros_type": schema.name, "msgdef": schema.data.decode(),
                    "info": json.loads(record.metadata["like_keras"]),
                }
            elif isinstance(record, Message):
                break  # a writer declares every port before its first message

    def messages(self) -> Iterator[tuple[int, int, bytes]]:
        """``(log_time, channel id, CDR bytes)`` of each message, as written."""
        for record in self._records():
            if isinstance(record, Message):
                yield record.log_time, record.channel_id, record.data

    def _records(self) -> Iterator[Any]:
        with open(self.path, "rb") as f:
            try:
                yield from StreamReader(f).records
            except _CUT:
                self.complete = False  # cut short by a kill: what came before stands


def read_part(path: Path) -> Part:
    return Part(path)
