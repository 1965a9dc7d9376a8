"""The live view (``launch(live=...)``, ``lk run --live``): a Foxglove WebSocket client
(``tests/foxglove_client.py``) subscribes to a running system's channels and gets the very
CDR messages the recording holds, on native, Dora and ROS 2; the server listens on
localhost only unless told otherwise, a busy port is refused before anything runs, and
a client that never reads holds nothing up."""

import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import Reader
from websockets.protocol import State

from like_keras import Component, Live, Output, System
from like_keras.errors import ConfigError, RunError

from conftest import ASSETS, ros2_env, tool
from foxglove_client import FoxgloveClient, Watcher, free_port, listening

sys.path.insert(0, str(ASSETS))
from viewer import Frames, Viewer  # noqa: E402

PORTS = ["camera.image", "brightness.mean", "brightness.frame"]
TOPICS = {"/viewer/camera/image", "/viewer/brightness/mean", "/viewer/brightness/frame"}
TRANSPORTS = ["native", "dora", "ros2"]


def needs(transport: str) -> None:
    if transport == "dora":
        tool("dora")
    elif transport == "ros2":
        ros2_env()


def bag_messages(path: Path) -> dict[str, list[tuple[int, bytes]]]:
    out: dict[str, list[tuple[int, bytes]]] = {}
    with Reader(path) as reader:
        for conn, t, raw in reader.messages():
            out.setdefault(conn.topic, []).append((t, bytes(raw)))
    return out


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_foxglove_client_gets_what_the_recording_holds(transport):
    needs(transport)
    port = free_port()
    watcher = Watcher(port, TOPICS)
    result = Viewer().launch(transport=transport, iterations=30, record=PORTS, timeout=180,
                             live=Live(port=port, wait=60))
    client = watcher.got()
    assert client.server_info["name"] == "viewer"
    recorded = bag_messages(result.recording)
    assert set(recorded) == TOPICS
    got: dict[str, list[tuple[int, bytes]]] = {}
    for topic, t, data in client.received:
        got.setdefault(topic, []).append((t, data))
    for topic in TOPICS:  # the same CDR bytes, stamped with the same times, in the same order
        assert got.get(topic) == recorded[topic], topic
    assert len(recorded["/viewer/camera/image"]) == 30
    # Decoded with nothing but the advertised ros2msg schema, as Foxglove does.
    means = [client.decode("/viewer/brightness/mean", d).data for d in client.by_topic()["/viewer/brightness/mean"]]
    assert means == result.messages("brightness.mean")
    image = client.decode("/viewer/camera/image", client.by_topic()["/viewer/camera/image"][-1])
    assert (image.height, image.width, image.encoding) == (2, 3, "mono8")
    assert np.array_equal(image.data, np.full(6, 30, np.uint8))
    kinds = {c["topic"]: c["schemaName"] for c in client.channels.values()}
    assert kinds == {"/viewer/camera/image": "sensor_msgs/msg/Image", "/viewer/brightness/mean": "std_msgs/msg/Float64",
                     "/viewer/brightness/frame": "std_msgs/msg/String"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_foxglove_client_gets_the_stamps_and_frames_the_bag_has(transport):
    """Messages with a header, decoded as Foxglove's 3D and image panels do: stamped with
    their step's time (the log time) and framed, in the live view as in the bag."""
    from assets.stamps import Stamped

    needs(transport)
    port = free_port()
    topics = {"/stamped/poses/pose", "/stamped/poses/image"}
    watcher = Watcher(port, topics | {"/tf"})
    result = Stamped().launch(transport=transport, iterations=10, timeout=180, live=Live(port=port, wait=60),
                              record=["poses.pose", "poses.image", "poses.body", "poses.mount"])
    client = watcher.got()
    kinds = {c["topic"]: c["schemaName"] for c in client.channels.values()}
    assert kinds["/tf"] == kinds["/tf_static"] == "tf2_msgs/msg/TFMessage"  # where Foxglove's 3D panel looks
    moved = [client.decode("/tf", d).transforms[0] for d in client.by_topic()["/tf"]]
    assert [(t.header.frame_id, t.child_frame_id, t.transform.translation.x) for t in moved] == [
        ("map", "base_link", float(n)) for n in range(1, 11)]
    live = {topic: [] for topic in topics}
    for topic, t, data in client.received:
        if topic in topics:
            header = client.decode(topic, data).header
            live[topic].append((t, header.frame_id, header.stamp.sec * 10**9 + header.stamp.nanosec))
    stamps = [t for t, _, _ in live["/stamped/poses/pose"]]
    assert len(stamps) == 10 and stamps == sorted(set(stamps))
    assert live == {"/stamped/poses/pose": [(t, "map", t) for t in stamps],
                    "/stamped/poses/image": [(t, "camera", t) for t in stamps]}
    recorded = bag_messages(result.recording)
    assert [t for t, _ in recorded["/stamped/poses/image"]] == stamps


@pytest.mark.parametrize("transport", ["native", "dora"])
def test_without_record_every_output_is_served_and_only_watched_ones_sent(transport):
    needs(transport)
    port = free_port()
    watcher = Watcher(port, {"/viewer/brightness/mean"})
    result = Viewer().launch(transport=transport, iterations=10, timeout=180, live=Live(port=port, wait=60))
    client = watcher.got()
    assert result.recording is None  # a live view is not a recording
    assert {c["topic"] for c in client.channels.values()} == TOPICS
    assert {topic for topic, _, _ in client.received} == {"/viewer/brightness/mean"}
    assert [client.decode("/viewer/brightness/mean", d).data for d in client.by_topic()["/viewer/brightness/mean"]] \
        == [float(k) for k in range(1, 11)]


@pytest.mark.parametrize("transport", ["native", "dora"])
def test_a_client_that_never_reads_holds_nothing_up(transport):
    """Dropped for the viewer, never for the system: 200 MB for a client that reads nothing.
    The run ends while that client is still connected: nothing waited for it to give up."""
    needs(transport)
    port = free_port()
    watcher = Watcher(port, {"/frames/cam/image"}, read=False)
    result = Frames().launch(transport=transport, iterations=200, record=["cam.image"], timeout=120,
                             live=Live(port=port, wait=60))
    watcher.thread.join(30)
    assert watcher.error is None and watcher.client is not None
    assert watcher.client.ws.state is State.OPEN
    assert result.steps["cam"] == 200
    assert len(result.messages("cam.image")) == 200  # the system lost nothing
    watcher.client.close()


@pytest.mark.parametrize("host, address", [(None, "127.0.0.1"), ("0.0.0.0", "0.0.0.0")])
def test_the_view_listens_on_localhost_unless_told(host, address):
    """The listening socket's own address, from the kernel's table, while the run waits."""
    port = free_port()
    seen = {}

    def check():
        FoxgloveClient(f"ws://127.0.0.1:{port}").close()  # the server is up
        seen["addresses"] = listening(port)

    thread = threading.Thread(target=check)
    thread.start()
    live = Live(port=port, wait=2) if host is None else Live(host=host, port=port, wait=2)
    Viewer().launch(iterations=2, live=live)
    thread.join()
    assert seen["addresses"] == [address]



def test_a_port_in_use_is_refused_before_anything_runs(tmp_path):
    ran = []

    class Marker(Component):
        x = Output(float)
        rate_hz = 10.0

        def step(self):
            ran.append(1)
            return 1.0

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"cannot serve Foxglove on 127\.0\.0\.1:{port}.*Live\(port=\.\.\.\)"):
            System(name="m", components=[Marker(name="m")]).launch(iterations=3, live=Live(port=port))
    assert ran == []
    with pytest.raises(ConfigError, match="live takes True, False or like_keras.Live"):
        Viewer().launch(iterations=1, live="8765")


def test_the_view_closes_with_a_failed_run():
    """A run that fails still frees its port: the next run serves on it."""

    class Broken(Component):
        x = Output(float)
        rate_hz = 10.0

        def step(self):
            raise ValueError("broken sensor")

    port = free_port()
    with pytest.raises(RunError, match="broken sensor"):
        System(name="b", components=[Broken(name="b")]).launch(iterations=3, live=Live(port=port))
    watcher = Watcher(port, {"/viewer/brightness/mean"})
    Viewer().launch(iterations=3, live=Live(port=port, wait=30))
    assert len(watcher.got().received) == 3
