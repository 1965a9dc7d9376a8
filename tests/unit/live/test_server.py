"""The launcher's side of the live view (``live/server.py``) with the node processes'
feeds (``live/feed.py``) over its real socket: the socket the nodes reach listens on
localhost only, whatever the viewer's own address, and when the last client stops
watching a port, the nodes stop encoding it."""

import json
import os
import stat
import time

from like_keras import Live
from like_keras.live import live_ports
from like_keras.live.feed import NodeFeed, address_file
from like_keras.live.server import LiveServer
from like_keras.transports.common.target import load_system

from conftest import ASSETS
from foxglove_client import FoxgloveClient, listening

VIEWER = f"{ASSETS / 'viewer.py'}:Viewer"  # camera (node robot) -> brightness (node desk)
MEAN = "/viewer/brightness/mean"


def until(condition, what: str, wait: float = 30.0) -> None:
    deadline = time.monotonic() + wait
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def serve(tmp_path, host: str = "127.0.0.1") -> tuple[LiveServer, object]:
    graph = load_system(VIEWER).build()
    server = LiveServer(graph, live_ports(graph, []), Live(host=host, port=0))
    server.serve_nodes(tmp_path)
    return server, graph


def test_the_nodes_socket_listens_on_localhost_only_even_for_a_view_open_to_the_network(tmp_path):
    server, _ = serve(tmp_path, host="0.0.0.0")  # the user opened the viewer, not the nodes' socket
    try:
        info = json.loads(address_file(tmp_path).read_text())
        host, port = info["address"]
        assert host == "127.0.0.1"
        assert listening(port) == ["127.0.0.1"]  # the kernel's own table
        assert listening(int(server.url.rsplit(":", 1)[1])) == ["0.0.0.0"]
        # its key is for this user only
        assert stat.S_IMODE(os.stat(address_file(tmp_path).parent).st_mode) == 0o700
    finally:
        server.close()


def test_when_the_last_client_unsubscribes_the_nodes_stop_encoding(tmp_path):
    server, graph = serve(tmp_path)
    native: list[frozenset] = []
    server.watch(native.append)  # a native run's runtime
    desk = NodeFeed(address_file(tmp_path), graph, "desk")
    seen: list[frozenset] = []
    desk.watch(seen.append)
    url = server.url
    first, second = FoxgloveClient(url), FoxgloveClient(url)
    try:
        for client in (first, second):
            client.read_until_advertised({MEAN})
            client.subscribe({MEAN})
        until(lambda: desk.watched == {("brightness", "mean")}, "the node never heard the port is watched")
        first.unsubscribe({MEAN})
        time.sleep(0.3)  # the server hears it (nothing must change: another client watches)
        assert desk.watched == {("brightness", "mean")}
        second.unsubscribe({MEAN})
        until(lambda: desk.watched == frozenset(), "the node still encodes a port nobody watches")
        assert seen[-1] == frozenset() and native[-1] == frozenset()
        assert ("brightness", "mean") in seen[-2]
    finally:
        first.close()
        second.close()
        desk.close()
        server.close()
