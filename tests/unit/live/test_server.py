"""The launcher's side of the live view (``live/server.py``) with the node processes'
feeds (``live/feed.py``) over its real socket: the socket the nodes reach listens on
localhost only, whatever the viewer's own address, and when the last client stops
watching a port, the nodes stop encoding it."""

import dataclasses
import json
import os
import stat
import threading
import time
from multiprocessing.connection import Client

import pytest

from like_keras import Component, Live, Output, System
from like_keras.live import DEFAULT_PORT, live_ports
from like_keras.live import serve as serve_view
from like_keras.live.feed import NodeFeed, address_file
from like_keras.live.server import LiveServer
from like_keras.transports.common.target import load_system

from conftest import ASSETS, SYSTEMS
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
        watched = frozenset({("brightness", "mean")})
        assert seen == [frozenset(), watched, frozenset()]  # told each change once, nothing else
        assert native[-1] == frozenset() and watched in native
    finally:
        first.close()
        second.close()
        desk.close()
        server.close()


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_nodes_values_reach_a_client_and_its_last_ones_are_not_lost_at_close(tmp_path):
    """What a node process sends (index, time, CDR bytes) is what a client gets, and a node
    that ends just before the view closes has all it sent shown; the reader of a node
    that hung up ends without an error."""
    server, graph = serve(tmp_path)
    client = FoxgloveClient(server.url)
    try:
        client.read_until_advertised({MEAN})
        client.subscribe({MEAN})
        desk = NodeFeed(address_file(tmp_path), graph, "".join(["de", "sk"]))  # from argv: compared by value
        until(lambda: desk.watched == {("brightness", "mean")}, "the node never heard the port is watched")
        reading = client.read_in_background()
        for k in range(1, 51):
            desk.write("brightness", "mean", float(k), 1_000 + k)
        desk.close()  # the node ends: its last messages are on their way
        assert desk.dropped == 0
    finally:
        server.close()
    reading.join(10)
    assert [t for _, t, _ in client.received] == [1_000 + k for k in range(1, 51)]
    assert [client.decode(MEAN, d).data for _, _, d in client.received] == [float(k) for k in range(1, 51)]


def test_a_stranger_without_the_key_is_refused_and_the_nodes_still_connect(tmp_path):
    server, graph = serve(tmp_path)
    try:
        host, port = json.loads(address_file(tmp_path).read_text())["address"]
        with pytest.raises(Exception):  # multiprocessing's AuthenticationError, or the socket closed
            Client((host, port), authkey=b"not the key").recv_bytes()
        desk = NodeFeed(address_file(tmp_path), graph, "desk")  # served after the stranger
        assert desk.watched == frozenset()
        desk.close()
        port_used = port
        assert port_used >= 1024  # a free port the system chose
    finally:
        server.close()


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_closing_hangs_up_on_the_nodes_and_stops_accepting(tmp_path):
    server, graph = serve(tmp_path)
    desk = NodeFeed(address_file(tmp_path), graph, "desk")
    lost: list[frozenset] = []
    desk.watch(lost.append)
    threads = {t.name for t in threading.enumerate()}
    assert "lk-live-accept" in threads
    server.close()
    until(lambda: desk._thread.is_alive() is False, "the node's feed still runs after the view closed")
    assert lost[-1] == frozenset()  # the launcher is gone: nothing is watched any more
    until(lambda: "lk-live-accept" not in {t.name for t in threading.enumerate()}, "still accepting nodes")
    desk.close()


def test_a_node_that_ended_does_not_keep_the_others_from_hearing_what_is_watched(tmp_path):
    server, graph = serve(tmp_path)
    gone = NodeFeed(address_file(tmp_path), graph, "robot")
    gone.close()  # its connection is closed: telling it fails
    time.sleep(0.2)
    desk = NodeFeed(address_file(tmp_path), graph, "desk")
    client = FoxgloveClient(server.url)
    try:
        client.read_until_advertised({MEAN})
        for _ in range(3):  # telling the ended node fails (a broken pipe by the second time)
            client.subscribe({MEAN})
            until(lambda: desk.watched == {("brightness", "mean")}, "a node ended, and the next was not told")
            client.unsubscribe({MEAN})
            until(lambda: desk.watched == frozenset(), "a node ended, and the next was not told")
    finally:
        client.close()
        desk.close()
        server.close()


def test_waiting_for_a_client_says_when_none_came(tmp_path, capsys):
    server, _ = serve(tmp_path)
    try:
        server.wait_for_client(-1)  # no wait asked for: nothing said
        server.wait_for_client(0)
        assert "no client" not in capsys.readouterr().err
        server.wait_for_client(0.5)
        assert "like-keras live view: no client within 0.5 s, running anyway" in capsys.readouterr().err
        client = FoxgloveClient(server.url)
        client.read_until_advertised({MEAN})
        client.subscribe({MEAN})
        server.wait_for_client(30)  # returns once subscribed
        assert "no client" not in capsys.readouterr().err
        client.close()
    finally:
        server.close()


def test_closing_says_nothing_of_a_client_that_reads(tmp_path, capsys):
    server, _ = serve(tmp_path)
    client = FoxgloveClient(server.url)
    client.read_in_background()
    server.close()
    assert "is not reading" not in capsys.readouterr().err


def test_live_true_serves_on_foxglove_s_port_on_localhost_and_false_serves_nothing():
    graph = load_system(VIEWER).build()
    assert Live() == Live("127.0.0.1", DEFAULT_PORT, 0.0) and DEFAULT_PORT == 8765  # Foxglove's default
    with serve_view(graph, False, []) as nothing, serve_view(graph, None, []) as none:
        assert nothing is None and none is None
    with serve_view(graph, True, []) as server:
        assert server.url == "ws://127.0.0.1:8765"
        assert listening(8765) == ["127.0.0.1"]


def test_the_view_never_keeps_a_process_from_exiting_and_serves_any_run_directory(tmp_path):
    """Its threads are daemons (a launcher that is interrupted exits whatever they wait
    for); it serves a run directory not made yet, or one an earlier run left."""
    graph = load_system(VIEWER).build()
    for run_dir in (tmp_path / "new" / "run", tmp_path / "new" / "run"):  # the second time, live/ is there
        server = LiveServer(graph, live_ports(graph, []), Live(port=0))
        server.serve_nodes(run_dir)
        desk = NodeFeed(address_file(run_dir), graph, "desk")
        until(lambda: any(t.name == "lk-live-read" for t in threading.enumerate()), "the node was not accepted")
        ours = [t for t in threading.enumerate() if t.name.startswith("lk-live")]
        assert {t.name for t in ours} >= {"lk-live-accept", "lk-live-read", "lk-live-feed"}
        assert all(t.daemon for t in ours), [t.name for t in ours if not t.daemon]
        desk.close()
        server.close()


def test_live_is_a_frozen_value_and_serves_only_ports_with_a_ros_message():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Live().port = 1

    class Raw(Component):
        words = Output(list[str])  # no ROS 2 message: not shown
        x = Output(int)
        rate_hz = 10.0

        def step(self):
            return {"words": ["a"], "x": 1}

    raw = Raw(name="raw")
    assert live_ports(System(name="r", components=[raw]).build(), []) == {("raw", "x")}
    external = load_system(f"{SYSTEMS}:WithExternal").build()
    ports = live_ports(external, [])
    assert not any(c == "doubler" for c, _ in ports)  # an external process: never through like-keras
    assert {c for c, _ in ports} == {c.name for c in external.components if c.outputs} - {"doubler"}
