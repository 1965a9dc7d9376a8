"""The launching process's side of the live view: a Foxglove WebSocket server.

One Foxglove channel per streamed port: its recording's topic, ``cdr`` messages and a
``ros2msg`` schema. Native runs hand the values of watched ports to ``write``; node processes of Dora and
ROS 2 runs connect to ``serve_nodes``'s socket (``feed.py``) and are told which ports
clients watch, so they encode nothing else. Foxglove keeps ``BACKLOG`` messages per
client and drops the oldest past that: a slow client never holds anything up.
"""

from __future__ import annotations

import json
import secrets
import socket
import sys
import threading
import time
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

import foxglove
from foxglove import Channel, Context, Schema

from like_keras.errors import ConfigError
from like_keras.graph.ir import SystemGraph
from like_keras.live import Live
from like_keras.live.feed import HEADER, address_file, hang_up
from like_keras.msgs.cdr import typestore
from like_keras.recording.cdr import PortCodec
from like_keras.utils.files import atomic_write

# Tuning, not behaviour (no test can tell 128 from 129): pragma: no mutate on each.
BACKLOG = 128  # messages queued per client before Foxglove drops the oldest (memory: 128 frames)  # pragma: no mutate
_JOIN_S = 5.0  # how long closing waits for node processes' last messages  # pragma: no mutate
_STOP_S = 2.0  # how long closing waits for clients to hang up  # pragma: no mutate


class LiveServer:
    """Serves ``ports`` of ``graph`` at ``live.host:live.port`` until ``close``."""

    def __init__(self, graph: SystemGraph, ports: frozenset[tuple[str, str]], live: Live) -> None:
        store = typestore(graph)
        self.keys = sorted(ports)  # node processes name a port by its index here
        self._context = Context()
        self._channels: list[tuple[Channel, PortCodec]] = []
        for comp, port in self.keys:
            codec = PortCodec.of(graph, comp, port, store)
            schema = Schema(name=codec.ros_type, encoding="ros2msg", data=codec.msgdef().encode())
            channel = Channel(codec.topic, schema=schema, message_encoding="cdr", context=self._context,
                              metadata={"like_keras.port": f"{comp}.{port}"})
            self._channels.append((channel, codec))
        self._by_key = {key: i for i, key in enumerate(self.keys)}
        self._by_id = {channel.id(): i for i, (channel, _) in enumerate(self._channels)}
        self._watchers = [0] * len(self.keys)  # subscriptions per channel
        self._subscribed = threading.Event()
        self._lock = threading.Lock()
        self._nodes: list[Connection] = []
        self._callbacks: list[Any] = []  # native runtimes' (runtime.LiveView.watch)
        self._readers: list[threading.Thread] = []
        self._listener: Listener | None = None
        self._closing = False
        try:
            self._server = foxglove.start_server(
                name=graph.name, host=live.host, port=live.port, context=self._context,
                server_listener=self, message_backlog_size=BACKLOG)
        except Exception as exc:  # the SDK raises a bare RuntimeError for a port in use
            for channel, _ in self._channels:
                channel.close()
            raise ConfigError(
                f"live: cannot serve Foxglove on {live.host}:{live.port} ({exc}); choose another port "
                f"with Live(port=...) or lk run --live --port N (0 takes any free port)") from None
        self.url = f"ws://{live.host}:{self._server.port}"
        print(f"like-keras live view of '{graph.name}' ({len(self.keys)} topics): {self.url} "
              f"(Foxglove: Open connection, Foxglove WebSocket)", file=sys.stderr, flush=True)

    # --- clients (foxglove.websocket.ServerListener) ---------------------------------

    def on_subscribe(self, client: Any, channel: Any) -> None:
        self._count(channel.id, +1)
        self._subscribed.set()

    def on_unsubscribe(self, client: Any, channel: Any) -> None:
        self._count(channel.id, -1)

    def _count(self, channel_id: int, change: int) -> None:
        with self._lock:
            i = self._by_id[channel_id]
            self._watchers[i] = max(0, self._watchers[i] + change)
            said, ports = self._watched(), self._watched_ports()
            for conn in self._nodes:
                _tell(conn, said)
            for callback in self._callbacks:
                callback(ports)

    def _watched(self) -> bytes:
        """The watched ports as node processes are told them: their indexes in ``keys``."""
        return json.dumps([i for i, n in enumerate(self._watchers) if n]).encode()

    def _watched_ports(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.keys[i] for i, n in enumerate(self._watchers) if n)

    def wait_for_client(self, seconds: float) -> None:
        """Wait up to ``seconds`` for a client to subscribe to a channel."""
        if seconds <= 0:
            return
        if not self._subscribed.wait(seconds):
            print(f"like-keras live view: no client within {seconds} s, running anyway", file=sys.stderr)
        time.sleep(0.1)  # the client's other subscriptions of the same moment  # pragma: no mutate

    # --- native runs -------------------------------------------------------------------

    def watch(self, callback: Any) -> None:
        """Call ``callback`` with the watched ports now and whenever they change."""
        with self._lock:
            self._callbacks.append(callback)
            callback(self._watched_ports())

    def write(self, component: str, port: str, value: Any, time_ns: int,
              header: tuple[int, str] | None = None) -> None:
        """A value sent on a watched ``component.port`` in this process: to its clients."""
        channel, codec = self._channels[self._by_key[(component, port)]]
        channel.log(bytes(codec.encode(value, header)), log_time=time_ns)

    # --- node processes --------------------------------------------------------------

    def serve_nodes(self, run_dir: Path) -> None:
        """Let the node processes of a run in ``run_dir`` send their values: a local socket,
        its address and key in a file only this user can read (``feed.address_file``)."""
        key = secrets.token_bytes(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=key)
        host, port = self._listener.address
        info = {"address": [host, port], "authkey": key.hex(), "ports": [f"{c}.{p}" for c, p in self.keys]}
        path = address_file(run_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        atomic_write(path, json.dumps(info))
        self._acceptor = threading.Thread(target=self._accept, args=(self._listener,), name="lk-live-accept",
                                          daemon=True)
        self._acceptor.start()

    def _accept(self, listener: Listener) -> None:
        while not self._closing:
            try:
                conn = listener.accept()
            except OSError:
                return  # closed
            except Exception:  # a stranger without the key (or close() waking it): keep serving
                continue
            with self._lock:
                self._nodes.append(conn)
                _tell(conn, self._watched())
            reader = threading.Thread(target=self._read, args=(conn,), name="lk-live-read", daemon=True)
            self._readers.append(reader)
            reader.start()

    def _read(self, conn: Connection) -> None:
        """A node's messages, until it ends: index and time, then the CDR bytes."""
        try:
            while True:
                index, time_ns = HEADER.unpack(conn.recv_bytes())
                data = conn.recv_bytes()
                self._channels[index][0].log(data, log_time=time_ns)
        except (EOFError, OSError):
            return

    def close(self) -> None:
        """Stop serving: the nodes' last messages first (they have ended), then the server."""
        if self._listener is not None:
            self._closing = True
            with socket.create_connection(self._listener.address):  # wakes accept(): closing alone does not
                pass
            self._acceptor.join(_JOIN_S)
            self._listener.close()
        for reader in list(self._readers):
            reader.join(_JOIN_S)
        with self._lock:
            for conn in self._nodes:  # nodes still running: they stop sending
                hang_up(conn)
                conn.close()
            self._nodes.clear()
        # Foxglove's stop waits for every client to hang up, and a client that reads nothing
        # holds it until its own timeouts (~50 s): the run does not wait for that.
        stopping = threading.Thread(target=self._server.stop, name="lk-live-stop", daemon=True)
        stopping.start()
        stopping.join(_STOP_S)
        if stopping.is_alive():
            print(f"like-keras live view: a client at {self.url} is not reading; the server closes when it "
                  f"times out", file=sys.stderr)
        for channel, _ in self._channels:
            channel.close()


def _tell(conn: Connection, watched: bytes) -> None:
    """Tell a node process which ports are watched (it may have ended: then nothing)."""
    try:
        conn.send_bytes(watched)
    except OSError:
        pass
