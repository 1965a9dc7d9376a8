"""A Foxglove WebSocket client for the tests, written from the protocol's spec
(github.com/foxglove/ws-protocol): it reads the server's ``advertise``, subscribes to
channels and collects ``messageData`` frames (opcode 1: subscription id, log time,
payload). It decodes a payload with the advertised ``ros2msg`` schema only, as
Foxglove itself does, through rosbags. ``Watcher`` runs one in a thread beside a run."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import connect

SUBPROTOCOLS = ["foxglove.sdk.v1", "foxglove.websocket.v1"]
_MESSAGE_DATA = struct.Struct("<BIQ")


class FoxgloveClient:
    """Connects to ``url`` (retrying while the server is not up yet, for ``wait`` s, as
    Foxglove does: also when a server that is closing resets the handshake)."""

    def __init__(self, url: str, wait: float = 30.0, read_delay: float = 0.0) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                self.ws = connect(url, subprotocols=SUBPROTOCOLS, open_timeout=5, close_timeout=1, max_size=None,
                                  proxy=None, legacy=True)  # a plain connection, closed by close()
                break
            except (OSError, WebSocketException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.read_delay = read_delay  # seconds slept per message read: a slow client
        self.server_info: dict[str, Any] = {}
        self.channels: dict[int, dict[str, Any]] = {}  # channel id -> its advertisement
        self.subscriptions: dict[int, int] = {}  # subscription id -> channel id
        self.received: list[tuple[str, int, bytes]] = []  # (topic, log time, payload)
        self.closed = threading.Event()

    def read_until_advertised(self, topics: set[str], wait: float = 30.0) -> None:
        """Read the server's control messages until ``topics`` are all advertised."""
        deadline = time.monotonic() + wait
        while not topics <= {c["topic"] for c in self.channels.values()}:
            self._handle(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))

    def subscribe(self, topics: set[str]) -> None:
        subs = []
        for channel in self.channels.values():
            if channel["topic"] in topics:
                sub_id = len(self.subscriptions) + 1
                self.subscriptions[sub_id] = channel["id"]
                subs.append({"id": sub_id, "channelId": channel["id"]})
        self.ws.send(json.dumps({"op": "subscribe", "subscriptions": subs}))

    def unsubscribe(self, topics: set[str]) -> None:
        ids = [sub for sub, channel in self.subscriptions.items() if self.channels[channel]["topic"] in topics]
        self.ws.send(json.dumps({"op": "unsubscribe", "subscriptionIds": ids}))
        for sub in ids:
            del self.subscriptions[sub]

    def read_in_background(self) -> threading.Thread:
        """Collect messages until the server closes the connection."""
        def read() -> None:
            try:
                while True:
                    self._handle(self.ws.recv())
                    if self.read_delay:
                        time.sleep(self.read_delay)
            except ConnectionClosed:
                pass
            finally:
                self.closed.set()

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread

    def _handle(self, frame: str | bytes) -> None:
        if isinstance(frame, str):
            msg = json.loads(frame)
            if msg["op"] == "serverInfo":
                self.server_info = msg
            elif msg["op"] == "advertise":
                self.channels.update({c["id"]: c for c in msg["channels"]})
            elif msg["op"] == "unadvertise":
                for cid in msg["channelIds"]:
                    self.channels.pop(cid, None)
            return
        if frame[0] == 1:
            _, sub_id, log_time = _MESSAGE_DATA.unpack_from(frame)
            topic = self.channels[self.subscriptions[sub_id]]["topic"]
            self.received.append((topic, log_time, bytes(frame[_MESSAGE_DATA.size:])))

    def by_topic(self) -> dict[str, list[bytes]]:
        out: dict[str, list[bytes]] = {}
        for topic, _, data in self.received:
            out.setdefault(topic, []).append(data)
        return out

    def decode(self, topic: str, data: bytes) -> Any:
        """``data`` as the message its channel's advertised schema describes."""
        channel = next(c for c in self.channels.values() if c["topic"] == topic)
        assert channel["encoding"] == "cdr" and channel["schemaEncoding"] == "ros2msg", channel
        store = get_typestore(Stores.EMPTY)
        store.register(get_types_from_msg(channel["schema"], channel["schemaName"]))
        return store.deserialize_cdr(data, channel["schemaName"])

    def close(self) -> None:
        self.ws.close()


def listening(port: int) -> list[str]:
    """Local addresses of the TCP sockets listening on ``port`` (/proc/net/tcp, state 0A)."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.append(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Watcher:
    """A Foxglove client, in a thread, that subscribes to ``topics`` as soon as the server
    advertises them and reads until the server closes."""

    def __init__(self, port: int, topics: set[str], read_delay: float = 0.0, read: bool = True) -> None:
        self.client: FoxgloveClient | None = None
        self.error: BaseException | None = None

        def watch() -> None:
            try:
                self.client = FoxgloveClient(f"ws://127.0.0.1:{port}", read_delay=read_delay)
                self.client.read_until_advertised(topics)
                self.client.subscribe(topics)
                if read:
                    self.client.read_in_background()
            except BaseException as exc:  # noqa: B036 - handed to the test
                self.error = exc

        self.thread = threading.Thread(target=watch, daemon=True)
        self.thread.start()

    def got(self) -> FoxgloveClient:
        self.thread.join(30)
        if self.error is not None:
            raise self.error
        assert self.client is not None
        assert self.client.closed.wait(30), "the server did not close the connection at the end of the run"
        return self.client
