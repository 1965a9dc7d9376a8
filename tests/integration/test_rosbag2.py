"""rosbag2 as ROS developers use it, with the real ``ros2 bag`` CLI: bags that ``ros2 bag
record`` wrote replay into a system on every transport, and ``ros2 bag info`` and ``ros2
bag play`` read like-keras recordings, stamps included."""

import os
import signal
import subprocess

import pytest
import yaml

from like_keras.transports.common.target import load_system

from conftest import ASSETS, ROS2_BUILD, VENV_BIN, ros2_env

FLOATS = f"{ASSETS / 'ros_systems.py'}:FloatsFromOutside"


@pytest.fixture(scope="module")
def ros():
    return ros2_env()


@pytest.fixture(scope="module")
def floats_bag(ros, tmp_path_factory):
    """30 std_msgs/Float64 (0.5 .. 15.0) on /floats from a plain rclpy node, recorded by
    ``ros2 bag record``."""
    bag = tmp_path_factory.mktemp("recorded") / "floats"
    recorder = subprocess.Popen(["ros2", "bag", "record", "-o", str(bag), "/floats"], env=ros,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        talker = subprocess.run([str(VENV_BIN / "python"), str(ASSETS / "ros_floats.py"), "30"], env=ros,
                                capture_output=True, text=True, timeout=60)
        assert talker.returncode == 0, talker.stderr
    finally:
        os.killpg(recorder.pid, signal.SIGINT)
        out = recorder.communicate(timeout=30)[0]
    info = subprocess.run(["ros2", "bag", "info", str(bag)], env=ros, capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, out + info.stderr
    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["message_count"] == 30, out + info.stdout
    return bag


@pytest.mark.parametrize("transport", ["native", "dora", "ros2"], indirect=True)
def test_a_bag_ros2_bag_recorded_feeds_a_run_that_ends_with_it(floats_bag, transport):
    """No iterations, no duration: the run ends by itself once the bag is played and drained."""
    result = load_system(FLOATS).launch(transport=transport, replay={"doubler.x": floats_bag},
                                        record=["doubler.y"], timeout=60 + ROS2_BUILD)
    assert result.messages("doubler.y") == [float(n) for n in range(1, 31)]
    assert result.steps == {"doubler": 30}


def test_ros2_bag_reads_a_recording_and_plays_back_its_stamps(ros, tmp_path):
    """A like-keras recording with stamped headers: `ros2 bag info` reads it, and what `ros2
    bag play` publishes carries the stamps and frame that were recorded."""
    from rosbags.highlevel import AnyReader

    from assets.stamps import Stamped

    result = Stamped().launch(iterations=10, record=["poses.pose", "poses.image"])
    info = subprocess.run(["ros2", "bag", "info", str(result.recording)], env=ros, capture_output=True, text=True,
                          timeout=60)
    assert info.returncode == 0 and "Messages:          20" in info.stdout, info.stdout + info.stderr
    assert "/stamped/poses/image | Type: sensor_msgs/msg/Image | Count: 10" in info.stdout, info.stdout
    with AnyReader([result.recording]) as reader:
        conns = [c for c in reader.connections if c.topic == "/stamped/poses/image"]
        recorded = [reader.deserialize(raw, c.msgtype).header for c, _, raw in reader.messages(conns)]
    listener = subprocess.Popen([str(VENV_BIN / "python"), str(ASSETS / "ros_image_stamps.py"),
                                 "/stamped/poses/image", "10"], env=ros, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        play = subprocess.run(["ros2", "bag", "play", "--delay", "3", str(result.recording)], env=ros,
                              capture_output=True, text=True, timeout=60)
        assert play.returncode == 0, play.stdout + play.stderr
    finally:
        out, err = listener.communicate(timeout=90)
    assert out.split("\n")[:-1] == [f"{h.stamp.sec} {h.stamp.nanosec} camera" for h in recorded], out + err
