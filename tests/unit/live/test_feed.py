"""A node process's side of the live view (``live/feed.py``), against a launcher that
lags: the node's queue for it fills and the oldest message goes, the node never waits."""

import json
import sys
import threading
from multiprocessing.connection import Listener

import numpy as np

from like_keras.live.feed import QUEUE, NodeFeed, address_file, connect
from like_keras.msgs import Image
from like_keras.transports.common.target import load_system

from conftest import ASSETS

FRAMES = f"{ASSETS / 'viewer.py'}:Frames"  # cam.image: 1 MB frames


def test_a_node_never_waits_for_a_launcher_that_reads_nothing(tmp_path, capsys):
    """The launcher accepts, says the port is watched, and then reads nothing: the socket
    fills, then the node's queue; every write still returns, dropping the oldest."""
    graph = load_system(FRAMES).build()
    key = b"k" * 32
    with Listener(("127.0.0.1", 0), authkey=key) as listener:
        path = address_file(tmp_path)
        path.parent.mkdir()
        path.write_text(json.dumps({"address": list(listener.address), "authkey": key.hex(),
                                    "ports": ["cam.image"]}))
        accepted = []

        def launcher():
            conn = listener.accept()
            conn.send_bytes(json.dumps([0]).encode())  # cam.image is watched
            accepted.append(conn)  # and nothing is ever read from it

        threading.Thread(target=launcher, daemon=True).start()
        feed = NodeFeed(path, graph, graph.node_of("cam"))
        assert feed.watched == {("cam", "image")}
        frame = Image(width=1024, height=1024, encoding="mono8", step=1024, data=np.zeros(1 << 20, np.uint8))
        writes = 3 * QUEUE  # 192 MB: far more than a socket's buffers hold
        done = threading.Event()

        def node():
            for k in range(writes):
                feed.write("cam", "image", frame, k)
            done.set()

        threading.Thread(target=node, daemon=True).start()
        assert done.wait(60), f"the node waited for the launcher: {feed.dropped} dropped, still writing"
        # writes = sent + still queued + dropped (each drop evicts the oldest). The launcher's
        # socket took a few frames (its buffers hold some MB) and may still take one as the
        # kernel grows them: the queue holds the newest, all others were dropped and counted.
        held = [t for _, t, _ in list(feed._queue)]
        assert QUEUE - 16 <= len(held) <= QUEUE
        assert held == list(range(writes - len(held), writes))  # the newest stay, in order
        assert writes - 16 <= feed.dropped + len(held) <= writes
        feed.close()  # within seconds, though the launcher still reads nothing
        assert f"like-keras live view: {feed.dropped} messages were not shown (the viewer lagged)" \
            in capsys.readouterr().err
        assert not feed._thread.is_alive()
        accepted[0].close()
    print(f"{feed.dropped} of {writes} frames dropped for the viewer", file=sys.stderr)


def test_a_node_streams_only_its_own_ports(tmp_path):
    graph = load_system(f"{ASSETS / 'viewer.py'}:Viewer").build()  # camera in 'robot', brightness in 'desk'
    key = b"k" * 32
    with Listener(("127.0.0.1", 0), authkey=key) as listener:
        path = address_file(tmp_path)
        path.parent.mkdir()
        path.write_text(json.dumps({"address": list(listener.address), "authkey": key.hex(),
                                    "ports": ["brightness.frame", "brightness.mean", "camera.image"]}))
        conns = []
        threading.Thread(target=lambda: [conns.append(listener.accept()) for _ in range(2)], daemon=True).start()
        robot, desk = NodeFeed(path, graph, "robot"), NodeFeed(path, graph, "desk")
        assert robot.ports == {("camera", "image")}
        assert desk.ports == {("brightness", "mean"), ("brightness", "frame")}
        robot.close()
        desk.close()


def test_without_a_live_view_a_node_connects_to_nothing_and_says_nothing(tmp_path, capsys):
    graph = load_system(FRAMES).build()
    assert connect(None, graph, "cam") is None
    assert connect(tmp_path, graph, "cam") is None  # no live/address.json: no view
    assert capsys.readouterr().err == ""


def test_a_launcher_that_is_gone_leaves_the_node_unwatched_with_a_word(tmp_path, capsys):
    graph = load_system(FRAMES).build()
    with Listener(("127.0.0.1", 0), authkey=b"k" * 32) as listener:
        address = list(listener.address)
    path = address_file(tmp_path)
    path.parent.mkdir()
    path.write_text(json.dumps({"address": address, "authkey": (b"k" * 32).hex(), "ports": ["cam.image"]}))
    assert connect(tmp_path, graph, "cam") is None
    assert "node 'cam' cannot reach its launcher" in capsys.readouterr().err
