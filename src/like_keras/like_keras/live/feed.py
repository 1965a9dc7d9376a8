"""A node process's side of the live view (Dora and ROS 2 runs).

When its launcher serves a live view, a node process connects to it (the address and
key are in ``<run_dir>/live/address.json``), learns which ports Foxglove clients watch,
and sends the CDR bytes of each value sent on one of its own watched ports. A thread
does the sending; the node only encodes and queues, and when the queue is full the
oldest message goes: the viewer may lose messages, the system never waits for it.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
from collections import deque
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

from like_keras.graph.ir import SystemGraph

HEADER = struct.Struct("<HQ")  # the port's index in the launcher's list, the time (ns)
QUEUE = 64  # messages a node holds for the launcher before dropping the oldest  # pragma: no mutate
_POLL_S = 0.02  # how often the sending thread looks for news when it has nothing to send  # pragma: no mutate
_CLOSE_S = 2.0  # how long an ending node may spend sending what it holds  # pragma: no mutate


def address_file(run_dir: Path) -> Path:
    return Path(run_dir) / "live" / "address.json"


class NodeFeed:
    """Sends the watched ports of ``node`` to the launcher's live view. ``ports``: the
    streamed ports of this node; the runtime hands ``write`` the watched ones only."""

    def __init__(self, path: Path, graph: SystemGraph, node: str) -> None:
        info = json.loads(Path(path).read_text())
        self.keys = [tuple(key.split(".", 1)) for key in info["ports"]]
        self.ports = frozenset(k for k in self.keys if graph.node_of(k[0]) == node)
        self._index = {key: i for i, key in enumerate(self.keys)}
        self._graph = graph
        self._codecs: dict[tuple[str, str], Any] = {}
        self._store: Any = None  # the typestore, built when a client first watches
        self._conn: Connection = Client(tuple(info["address"]), authkey=bytes.fromhex(info["authkey"]))
        self.watched: frozenset[tuple[str, str]] = frozenset()
        self._callbacks: list[Any] = []
        if self._conn.poll(_CLOSE_S):  # the launcher says at once what is watched
            self._news()
        self.dropped = 0
        self._queue: deque[tuple[int, int, memoryview]] = deque(maxlen=QUEUE)
        self._closing = False
        self._thread = threading.Thread(target=self._pump, name="lk-live-feed", daemon=True)
        self._thread.start()

    def watch(self, callback: Any) -> None:
        """Call ``callback`` with the watched ports now and whenever they change."""
        self._callbacks.append(callback)
        callback(self.watched)

    def write(self, component: str, port: str, value: Any, time_ns: int,
              header: tuple[int, str] | None = None) -> None:
        """A value sent on a watched ``component.port``: queued for the launcher."""
        if len(self._queue) == QUEUE:
            self.dropped += 1
        self._queue.append((self._index[(component, port)], time_ns,
                            self._codecs[(component, port)].encode(value, header)))

    def _news(self) -> None:
        while self._conn.poll():
            watched = frozenset(self.keys[i] for i in json.loads(self._conn.recv_bytes())) & self.ports
            self._make_codecs(watched)
            if watched != self.watched:
                self.watched = watched
                for callback in self._callbacks:
                    callback(watched)

    def _make_codecs(self, ports: frozenset[tuple[str, str]]) -> None:
        """Codecs of ``ports``, made before the runtime is told they are watched (here, not in
        a step: the typestore takes a while, and only a client's first look needs it)."""
        from like_keras.msgs.cdr import typestore
        from like_keras.recording.cdr import PortCodec

        for key in ports - self._codecs.keys():
            if self._store is None:
                self._store = typestore(self._graph)
            self._codecs[key] = PortCodec.of(self._graph, *key, self._store)

    def _pump(self) -> None:
        try:
            while True:
                self._news()
                if not self._queue:
                    if self._closing:
                        return
                    self._conn.poll(_POLL_S)
                    continue
                index, time_ns, data = self._queue.popleft()
                self._conn.send_bytes(HEADER.pack(index, time_ns))
                self._conn.send_bytes(data)
        except (OSError, EOFError):  # the launcher is gone: nothing to show any more
            self.watched = frozenset()
            for callback in self._callbacks:
                callback(self.watched)

    def close(self) -> None:
        """Send what is queued (for a while), then hang up."""
        self._closing = True
        self._thread.join(_CLOSE_S)
        if self._thread.is_alive():  # stuck sending to a launcher that reads nothing: cut it off
            hang_up(self._conn)
            self._thread.join(_CLOSE_S)
        self._conn.close()
        if self.dropped:
            print(f"like-keras live view: {self.dropped} messages were not shown (the viewer lagged)",
                  file=sys.stderr)


def hang_up(conn: Connection) -> None:
    """Shut ``conn``'s socket down both ways: a thread blocked reading or writing it wakes
    (closing it alone would not), and the other end sees the end of the stream."""
    try:
        with socket.fromfd(conn.fileno(), socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already gone


def connect(run_dir: str | Path | None, graph: SystemGraph, node: str) -> NodeFeed | None:
    """This node's feed when its launcher serves a live view, else None (a failed connection
    too: the view is not worth failing a run for)."""
    if run_dir is None or not address_file(Path(run_dir)).exists():
        return None
    try:
        return NodeFeed(address_file(Path(run_dir)), graph, node)
    except Exception as exc:  # refused, gone, a stale file: the run goes on unwatched
        print(f"like-keras live view: node '{node}' cannot reach its launcher ({exc}); not streamed",
              file=sys.stderr)
        return None
