"""A node process's side of the live view (``live/feed.py``), against a launcher that
lags: the node's queue for it fills and the oldest message goes, the node never waits."""

import json
import sys
import threading
from multiprocessing.connection import Listener

import numpy as np

from like_keras.live.feed import QUEUE, NodeFeed, address_file
from like_keras.msgs import Image
from like_keras.transports.common.target import load_system

from conftest import ASSETS

FRAMES = f"{ASSETS / 'viewer.py'}:Frames"  # cam.image: 1 MB frames


def test_a_node_never_waits_for_a_launcher_that_reads_nothing(tmp_path):
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
        assert len(feed._queue) == QUEUE
        assert QUEUE < feed.dropped < writes  # the launcher got some, the rest went for the viewer only
        assert [t for _, t, _ in feed._queue] == list(range(writes - QUEUE, writes))  # the newest stay
        feed.close()  # within seconds, though the launcher still reads nothing
        assert not feed._thread.is_alive()
        accepted[0].close()
    print(f"{feed.dropped} of {writes} frames dropped for the viewer", file=sys.stderr)
