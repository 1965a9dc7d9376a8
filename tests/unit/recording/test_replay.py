"""Replay: a component's outputs come from a rosbag2 bag, at their recorded times; the
rest of the system runs as usual (natively here; on Dora and ROS 2 in tests/contract and
tests/integration)."""

import re
import subprocess
import time

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from like_keras import Replay
from like_keras.errors import ReplayError
from like_keras.transports.common.target import load_system
from like_keras_examples.sensor_pipeline import SensorPipeline

from assets.bags import numbers_bag, robot_bag
from conftest import ASSETS, VENV_BIN

VIEWER = f"{ASSETS / 'viewer.py'}:Viewer"
FED = f"{ASSETS / 'ros_systems.py'}:FedFromOutside"  # Input(int, topic="/numbers") -> Output(int, topic="/doubled")
DOWNSTREAM = ["detector.detection", "tracker.track", "controller.cmd"]


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
                                    for x, y in zip(a, b))


@pytest.fixture(scope="module")
def recorded():
    return SensorPipeline().launch(iterations=60, record=["camera.image", *DOWNSTREAM])


def test_replaying_the_recorded_camera_gives_the_runs_downstream_trace_again(recorded):
    again = SensorPipeline().launch(replay={"camera": recorded.recording}, record=DOWNSTREAM)
    assert again.steps == recorded.steps == {"camera": 60, "detector": 60, "tracker": 60, "controller": 19}
    for port in DOWNSTREAM:  # the 10 Hz controller too: the frames arrive at their recorded times
        assert same(again.messages(port), recorded.messages(port)), port
    assert again.sim_time == recorded.sim_time  # and the run ended when the bag did


def test_replaying_a_component_in_the_middle(recorded):
    again = SensorPipeline().launch(replay={"detector": recorded.recording}, iterations=60,
                                    record=["tracker.track"])
    assert again.messages("tracker.track") == recorded.messages("tracker.track")


def test_a_bag_recorded_on_a_robot_replays_through_a_topic_map(tmp_path):
    offsets = robot_bag(tmp_path / "robot")
    result = load_system(VIEWER).launch(replay={"camera": Replay(tmp_path / "robot",
                                                                 topics={"image": "/camera/image_raw"})},
                                        record=["brightness.mean"], run_dir=tmp_path / "run")
    assert result.steps == {"camera": 5, "brightness": 5}  # the camera's bag, then the end
    assert result.messages("brightness.mean") == [1.0, 11.0, 21.0, 31.0, 41.0]
    from rosbags.highlevel import AnyReader

    with AnyReader([result.recording]) as reader:  # at the robot's times, in simulated time
        times = [t for _, t, _ in reader.messages()]
    assert [t - times[0] for t in times] == offsets


@pytest.mark.parametrize("replay, message", [
    ({"camera": Replay("BAG", topics={"image": "/nope"})}, "has no topic '/nope' (for camera.image); its topics: "
                                                          "/camera/image_raw"),
    ({"camera": "BAG"}, "has no topic for 'camera' (looked for /viewer/camera/image); its topics: "
                        "/camera/image_raw. Map them with Replay(path, topics={port: topic})"),
    ({"camera": Replay("BAG", topics={"picture": "/camera/image_raw"})},
     "'camera' has no output 'picture' (topics=...); its outputs: image"),
    ({"cam": "BAG"}, "'cam' names no component; components are camera, brightness"),
    ({"camera": "NOT_A_BAG"}, "is not a rosbag2 bag (no metadata.yaml there)"),
])
def test_what_cannot_be_replayed_is_said_before_the_run(tmp_path, replay, message):
    robot_bag(tmp_path / "robot")
    fixed = {k: (Replay(str(v.path).replace("BAG", str(tmp_path / "robot")), v.topics) if isinstance(v, Replay)
                 else v.replace("NOT_A_BAG", str(tmp_path)).replace("BAG", str(tmp_path / "robot")))
             for k, v in replay.items()}
    with pytest.raises(ReplayError, match=re.escape(message)):
        load_system(VIEWER).launch(replay=fixed, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing ran


def test_a_bag_of_another_type_is_refused_naming_both(tmp_path):
    robot_bag(tmp_path / "robot", "/camera/compressed", "sensor_msgs/msg/CompressedImage")
    with pytest.raises(ReplayError, match=re.escape(
            "camera.image takes sensor_msgs/msg/Image, but '/camera/compressed' in ")):
        load_system(VIEWER).launch(replay={"camera": Replay(tmp_path / "robot",
                                                            topics={"image": "/camera/compressed"})})


def test_lk_run_replays(tmp_path):
    robot_bag(tmp_path / "robot")
    proc = subprocess.run([str(VENV_BIN / "lk"), "run", VIEWER, "--quiet", "--replay", f"camera={tmp_path / 'robot'}",
                           "--replay-topic", "camera.image=/camera/image_raw", "--record", "brightness.mean"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "steps: camera 5, brightness 5" in proc.stdout and "brightness.mean: 5 messages" in proc.stdout
    proc = subprocess.run([str(VENV_BIN / "lk"), "run", VIEWER, "--replay-topic", "camera.image=/x",
                           "--replay", f"camera={tmp_path / 'robot'}", "--replay-topic", "robot.image=/x"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "'robot' is not replayed (add --replay robot=BAG)" in proc.stderr


def test_an_input_fed_by_a_topic_is_fed_by_a_bag_natively(tmp_path):
    result = load_system(FED).launch(replay={"doubler.x": numbers_bag(tmp_path / "bag")}, record=["doubler.y"])
    assert result.messages("doubler.y") == [2 * n for n in range(1, 11)]  # and the run ended with the bag
    assert load_system(FED).launch(duration=1.0).steps == {"doubler": 0}  # without it: its default, no step


@pytest.mark.parametrize("key", ["doubler.y", "doubler.a"])
def test_only_an_input_fed_by_a_topic_can_be_replayed(tmp_path, key):
    with pytest.raises(ReplayError, match=re.escape(
            f"'{key}' is not an input fed by a topic (Input(T, topic=...)); those are: doubler.x. "
            "To replay a component, name it alone")):
        load_system(FED).launch(replay={key: numbers_bag(tmp_path / "bag")})


def test_a_replayed_input_needs_its_topic_in_the_bag(tmp_path):
    with pytest.raises(ReplayError, match=re.escape("has no topic '/numbers' (for doubler.x); its topics: /camera")):
        robot_bag(tmp_path / "bag", topic="/camera")
        load_system(FED).launch(replay={"doubler.x": tmp_path / "bag"})
    again = load_system(FED).launch(replay={"doubler.x": Replay(numbers_bag(tmp_path / "n"), topics={"x": "/numbers"})},
                                    record=["doubler.y"])
    assert again.messages("doubler.y") == [2 * n for n in range(1, 11)]


def test_outputs_sent_at_different_times_are_different_steps(tmp_path):
    from like_keras.recording.replay import Source

    store = get_typestore(Stores.ROS2_JAZZY)
    with Writer(tmp_path / "bag", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        mean = writer.add_connection("/viewer/brightness/mean", "std_msgs/msg/Float64", typestore=store)
        frame = writer.add_connection("/viewer/brightness/frame", "std_msgs/msg/String", typestore=store)
        writer.write(mean, 10, store.serialize_cdr(store.types["std_msgs/msg/Float64"](data=0.5),
                                                   "std_msgs/msg/Float64"))
        writer.write(frame, 20, store.serialize_cdr(store.types["std_msgs/msg/String"](data="cam"),
                                                    "std_msgs/msg/String"))
    source = Source(load_system(VIEWER).build(), "brightness", Replay(tmp_path / "bag"))
    assert list(source.groups()) == [(0, {"mean": 0.5}), (10, {"frame": "cam"})]


@pytest.fixture(scope="module")
def viewer_bag(tmp_path_factory):
    """A recording of the viewer: camera frames, and brightness's two outputs sent together."""
    run_dir = tmp_path_factory.mktemp("viewer")
    load_system(VIEWER).launch(iterations=4, record=["camera.image", "brightness.mean", "brightness.frame"],
                               run_dir=run_dir)
    return run_dir / "recording"


def test_a_paced_player_gives_each_group_when_it_is_due(viewer_bag):
    # Dora and ROS 2 tick a replayer at PACE_HZ and it sends what the wall clock says is due.
    from like_keras.recording.replay import Player, Source

    source = Source(load_system(VIEWER).build(), "camera", Replay(viewer_bag))
    assert source.offsets() == [100_000_000, 200_000_000, 300_000_000, 400_000_000]  # a 10 Hz camera
    player = Player(source, paced=True)
    t0 = time.monotonic()
    player.start()
    got = []
    while len(got) < 4:
        if player.due():
            got.append((time.monotonic() - t0, player.take()["image"].data[0]))
        assert time.monotonic() - t0 < 5
    assert [k for _, k in got] == [1, 2, 3, 4]
    for (at, _), due in zip(got, (0.1, 0.2, 0.3, 0.4)):
        assert at >= due, got  # never before its time
    assert not player.due() and player.take() is None  # exhausted


def test_a_paced_message_is_due_at_its_offset_and_not_1_ns_before(viewer_bag):
    """The pacing pinned with a controlled clock: the clock starts once the bag is open
    (opening it takes the player no time here), and each group is due exactly at its offset."""
    from like_keras.recording.replay import Player, Source

    now = [3]  # a clock that started a moment ago: offsets are not times modulo it
    source = Source(load_system(VIEWER).build(), "camera", Replay(viewer_bag))
    player = Player(source, paced=True, clock=lambda: now[0])
    assert not player.done  # not started: nothing taken yet
    player.start()
    t0 = now[0]
    for k, offset in enumerate(source.offsets(), 1):
        now[0] = t0 + offset - 1
        assert not player.due(), f"message {k} was due 1 ns before its offset {offset} ns"
        now[0] = t0 + offset
        assert player.due(), f"message {k} was not due at its offset {offset} ns"
        assert not player.done, f"done before message {k} was taken"
        assert player.take()["image"].data[0] == k
    assert player.done  # the last group taken: the run need not wait for this bag
    now[0] += 10**9
    assert not player.due() and player.take() is None


def test_the_pacing_clock_starts_after_the_bag_is_open(viewer_bag):
    # A slow disk must not make the first messages early: the clock is read after the bag.
    from like_keras.recording.replay import Player, Source

    now = [0]
    source = Source(load_system(VIEWER).build(), "camera", Replay(viewer_bag))
    groups = source.groups

    def slow_open():
        now[0] += 150_000_000  # opening the bag took 150 ms
        return groups()

    source.groups = slow_open
    player = Player(source, paced=True, clock=lambda: now[0])
    player.start()
    now[0] += 100_000_000 - 1
    assert not player.due()  # 100 ms after the bag was opened, less 1 ns: not yet
    now[0] += 1
    assert player.due()


def test_messages_sent_together_replay_together(viewer_bag):
    from like_keras.recording.replay import Source

    source = Source(load_system(VIEWER).build(), "brightness", Replay(viewer_bag))
    groups = [group for _, group in source.groups()]
    assert source.count == len(groups) == 4 and [sorted(g) for g in groups] == [["frame", "mean"]] * 4
    assert [g["mean"] for g in groups] == [1.0, 2.0, 3.0, 4.0]
    again = load_system(VIEWER).launch(replay={"brightness": viewer_bag}, iterations=4,
                                       record=["brightness.mean"])
    assert again.steps["brightness"] == 4 and again.messages("brightness.mean") == [1.0, 2.0, 3.0, 4.0]


def test_one_port_twice_at_one_time_is_two_steps(tmp_path):
    from like_keras.recording.replay import Source

    store = get_typestore(Stores.ROS2_JAZZY)
    with Writer(tmp_path / "bag", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/numbers", "std_msgs/msg/Int64", typestore=store)
        for n, t in ((1, 10), (2, 10), (3, 20)):
            writer.write(conn, t, store.serialize_cdr(store.types["std_msgs/msg/Int64"](data=n), "std_msgs/msg/Int64"))
    source = Source(load_system(FED).build(), "doubler.x", Replay(tmp_path / "bag"))
    assert [(t, g) for t, g in source.groups()] == [(0, {"x": 1}), (0, {"x": 2}), (10, {"x": 3})]
    assert source.offsets() == [0, 0, 10]


def test_a_node_process_replaces_only_its_own_components(viewer_bag):
    from like_keras.recording.replay import Replayer, from_arg, install, to_arg

    system = load_system(VIEWER)
    graph = system.build()
    replays = from_arg(to_arg({"camera": Replay(viewer_bag), "brightness": Replay(viewer_bag)}))  # as the runners
    assert replays == {"camera": Replay(str(viewer_bag)), "brightness": Replay(str(viewer_bag))}
    assert from_arg(None) == from_arg("") == {}
    live = {"camera": system.camera}  # the robot node's components: brightness is elsewhere
    sources, feeds = install(graph, live, replays, paced=True)
    assert list(sources) == ["camera"] and feeds == {} and isinstance(live["camera"], Replayer)


def test_a_recording_replays_into_a_system_of_another_name(viewer_bag):
    # The bag says which topic it recorded each port on: /viewer/camera/image here.
    again = load_system(VIEWER, {"name": "viewer_copy"}).launch(replay={"camera": viewer_bag},
                                                                record=["brightness.mean"])
    assert again.messages("brightness.mean") == [1.0, 2.0, 3.0, 4.0]


def test_a_component_replays_from_the_ports_the_bag_has(tmp_path):
    run_dir = tmp_path / "run"
    load_system(VIEWER).launch(iterations=3, record=["brightness.frame"], run_dir=run_dir)  # not .mean
    again = load_system(VIEWER).launch(replay={"brightness": run_dir / "recording"}, iterations=3,
                                       record=["brightness.frame", "brightness.mean"])
    assert again.messages("brightness.frame") == ["camera"] * 3 and again.messages("brightness.mean") == []


def test_a_topic_of_another_type_is_refused_whatever_the_names(tmp_path):
    store = get_typestore(Stores.ROS2_JAZZY)
    with Writer(tmp_path / "bag", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/numbers", "std_msgs/msg/String", typestore=store)
        writer.write(conn, 1, store.serialize_cdr(store.types["std_msgs/msg/String"](data="7"), "std_msgs/msg/String"))
    with pytest.raises(ReplayError, match=re.escape("doubler.x takes std_msgs/msg/Int64, but '/numbers' in ")):
        load_system(FED).launch(replay={"doubler.x": tmp_path / "bag"})
