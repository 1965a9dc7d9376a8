"""The native transport keeps the semantics contract (docs/semantics.md); what every
transport keeps alike is tested on it too, in tests/contract/."""

import time

import numpy as np
import pytest
from mcap.reader import make_reader
from rosbags.highlevel import AnyReader

from like_keras import Array, Component, Input, Node, Output, System
from like_keras.errors import RunError, RunTimeoutError
from like_keras.recording import read_messages
from like_keras.transports.common.target import load_system

from assets.components import Ticker
from conftest import SYSTEMS, assert_names_the_hang


class Clock(Ticker):  # counts 1, 2, 3...
    rate_hz = 20.0


class Relay(Component):
    x = Input(int)
    y = Output(int)

    def on_start(self):
        self.log = []
        self.stops = 0

    def step(self, x):
        self.log.append(x)
        return x

    def on_stop(self):
        self.stops += 1


class Slow(Component):
    """Timer-driven, slower than the clock: must stop when the clock stops."""

    out = Output(int)
    rate_hz = 3.0

    def step(self):
        return 1


def pipeline():
    clock, r1, r2, slow = Clock(name="clock"), Relay(name="r1"), Relay(name="r2"), Slow(name="slow")
    n1, n2 = Node("n1"), Node("n2")
    clock.node, r1.node, r2.node, slow.node = n1, n2, n2, n1
    return System(
        name="pipe", nodes=[n1, n2], components=[clock, r1, r2, slow],
        connections=[(clock.out, r1.x), (r1.y, r2.x)],
    ), r1, r2


def test_iterations_contract_clock_steps_n_times_then_drain_then_on_stop():
    system, r1, r2 = pipeline()
    result = system.launch(iterations=7, record=["clock.out", "r2.y"])
    assert result.steps == {"clock": 7, "r1": 7, "r2": 7, "slow": 1}  # slow ticked once at 0.333 s
    # Everything the clock sent was delivered, in order, exactly once, before on_stop.
    assert result.messages("r2.y") == list(range(1, 8))
    assert r2.log == list(range(1, 8))
    assert r1.stops == r2.stops == 1
    assert result.sim_time == pytest.approx(7 / 20)


def test_same_inputs_same_trace_every_run():
    traces = []
    for _ in range(2):
        from like_keras_examples.bandit import Bandit

        result = Bandit(seed=3).launch(iterations=300, record=["agent.arm", "env.reward", "objective.mean_reward"])
        traces.append([result.messages(k) for k in ("agent.arm", "env.reward", "objective.mean_reward")])
    assert traces[0] == traces[1]
    assert len(traces[0][0]) == 301  # on_start's arm and one per step


def test_duration_is_simulated_time_and_runs_fast():
    system, _, _ = pipeline()
    result = system.launch(duration=100.0)  # 100 simulated seconds
    assert result.steps["clock"] == 2000 and result.steps["slow"] == 300
    assert result.sim_time == pytest.approx(100.0)
    assert result.duration < 100.0  # virtual time: not paced to the wall clock


def test_realtime_paces_timers_to_the_wall_clock():
    system, _, _ = pipeline()
    t0 = time.perf_counter()
    result = system.launch(duration=0.3, realtime=True)
    assert time.perf_counter() - t0 >= 0.29
    assert result.steps["clock"] == 6


def test_timers_tie_break_in_declaration_order():
    order = []

    class A(Component):
        rate_hz = 10.0

        def step(self):
            order.append("a")

    class B(Component):
        rate_hz = 10.0

        def step(self):
            order.append("b")

    System(name="ties", components=[B(name="b"), A(name="a")]).launch(duration=0.3)
    assert order == ["b", "a"] * 3


def test_on_start_outputs_start_a_loop_and_none_sends_nothing():
    class Env(Component):
        act = Input(int)
        obs = Output(int)
        done = Output(bool)

        def on_start(self):
            self.t = 0
            return {"obs": 0}

        def step(self, act):
            self.t += 1
            return {"obs": self.t + act, "done": None if self.t % 2 else True}

    class Agent(Component):
        obs = Input(int)
        act = Output(int)

        def step(self, obs):
            return obs * 10

    env, agent = Env(name="env"), Agent(name="agent")
    system = System(name="loop", components=[env, agent],
                    connections=[(env.obs, agent.obs), (agent.act, env.act)])
    result = system.launch(iterations=4, record=["env.obs", "env.done", "agent.act"])
    assert result.messages("env.obs") == [0, 1, 12, 123, 1234]
    assert result.messages("agent.act") == [0, 10, 120, 1230, 12340]
    assert result.messages("env.done") == [True, True]  # None means "send nothing"
    assert result.steps == {"env": 4, "agent": 5}  # the agent answers the last obs; the env is done


def test_arrays_are_converted_safely_and_delivered_read_only():
    class Cam(Component):
        img = Output(Array(np.float64, (2, 2)))

        def on_start(self):
            self.buf = np.ones((2, 2), np.float32)
            return self.buf

    class Use(Component):
        img = Input(Array(np.float64, (2, 2)))

        def step(self, img):
            self.got = img
            with pytest.raises(ValueError):
                img[0, 0] = 5

    cam, use = Cam(name="cam"), Use(name="use")
    System(name="arr", components=[cam, use], connections=[(cam.img, use.img)]).launch()
    assert use.got.dtype == np.float64 and not use.got.flags.writeable
    assert cam.buf.flags.writeable  # the sender's own array is untouched


def test_recording_is_a_rosbag2_bag_of_ros2_messages():
    system, _, _ = pipeline()
    result = system.launch(iterations=5, record=["clock.out"])
    bag = result.recording
    assert bag.name == "recording" and sorted(p.name for p in bag.iterdir()) == ["metadata.yaml", "recording.mcap"]
    assert not list(bag.parent.glob(".*.tmp"))  # written aside, then moved into place
    with AnyReader([bag]) as reader:  # rosbags reads it as any bag
        (conn,) = reader.connections
        assert (conn.topic, conn.msgtype) == ("/pipe/clock/out", "std_msgs/msg/Int64")  # its ROS 2 topic
        got = [(t, reader.deserialize(raw, conn.msgtype).data) for _, t, raw in reader.messages()]
    assert [v for _, v in got] == [1, 2, 3, 4, 5]
    assert [t - got[0][0] for t, _ in got] == [50_000_000 * k for k in range(5)]  # simulated time
    with open(bag / "recording.mcap", "rb") as f:
        reader = make_reader(f)
        assert reader.get_header().profile == "ros2"
        (schema,) = reader.get_summary().schemas.values()
        (channel,) = reader.get_summary().channels.values()
    assert (schema.name, schema.encoding, channel.message_encoding) == ("std_msgs/msg/Int64", "ros2msg", "cdr")


def test_run_dir_option_keeps_files_where_asked(tmp_path):
    system, _, _ = pipeline()
    result = system.launch(iterations=3, record=["clock.out"], run_dir=tmp_path / "run")
    assert result.recording == (tmp_path / "run" / "recording").resolve()
    assert result.messages("clock.out") == [1, 2, 3]
    with pytest.raises(KeyError, match="'r1.y' was not recorded"):
        result.messages("r1.y")


def test_a_failed_run_keeps_what_it_recorded(tmp_path):
    class Bomb(Component):
        x = Input(int)

        def step(self, x):
            if x == 2:
                raise RuntimeError("bang")

    clock, bomb = Clock(name="clock"), Bomb(name="bomb")
    system = System(name="bomb", components=[clock, bomb], connections=[(clock.out, bomb.x)])
    with pytest.raises(RunError, match="bang") as info:
        system.launch(iterations=5, record=["clock.out"], run_dir=tmp_path)
    # A complete bag (written aside, then moved), with everything sent before the failure;
    # the part it was merged from is gone: a recording is on disk once.
    assert info.value.recording == tmp_path.resolve() / "recording"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recording"]
    assert read_messages(info.value.recording) == {"clock.out": [1, 2]}


def test_ctrl_c_keeps_the_recording(monkeypatch, tmp_path):
    monkeypatch.setenv("LK_TEST_FAILURE", "interrupt")
    system = load_system(f"{SYSTEMS}:Chronicle")
    with pytest.raises(KeyboardInterrupt):
        system.launch(iterations=100, record=["ticker.out", "victim.seen"], run_dir=tmp_path)
    assert read_messages(tmp_path / "recording")["victim.seen"] == list(range(1, 60))


def test_sys_exit_in_a_step_ends_the_run_not_the_program(monkeypatch):
    monkeypatch.setenv("LK_TEST_FAILURE", "exit")
    system = load_system(f"{SYSTEMS}:Failing")
    with pytest.raises(RunError) as info:
        system.launch(iterations=20)
    err = info.value
    assert (err.node, err.component, err.step) == ("worker", "fragile", 5)
    assert "called sys.exit(0) in step 5" in str(err) and isinstance(err.__cause__, SystemExit)


def test_timeout_names_the_step_that_never_returned():
    system = load_system(f"{SYSTEMS}:Hanging")
    with pytest.raises(RunTimeoutError, match="did not finish within timeout=1") as info:
        system.launch(timeout=1)
    assert_names_the_hang(info.value)


def test_stamps_are_the_runs_simulated_time_and_a_config_field_sets_a_frame():
    from assets.stamps import Stamped

    result = Stamped(image_frame="optical").launch(iterations=3, record=["poses.pose", "poses.image"])
    stamps = [p.header.stamp.sec * 10**9 + p.header.stamp.nanosec for p in result.messages("poses.pose")]
    assert [b - a for a, b in zip(stamps, stamps[1:])] == [50_000_000, 50_000_000]  # 20 Hz, simulated exactly
    with AnyReader([result.recording]) as reader:
        conns = [c for c in reader.connections if c.topic == "/stamped/poses/image"]
        frames = [reader.deserialize(raw, c.msgtype).header.frame_id for c, _, raw in reader.messages(conns)]
    assert frames == ["optical"] * 3  # Poses.Config.image_frame_id, over the port's 'camera'
