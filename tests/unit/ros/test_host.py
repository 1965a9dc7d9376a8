"""The ROS 2 bridge without rclpy: topic plan, QoS, parameters, and whole runs over a
CDR loopback that match the native transport message for message."""

import json
from dataclasses import replace

import numpy as np
import pytest
import yaml

from like_keras import Array, Component, Input, Node, Output, System
from like_keras.transports.common.target import load_system
from like_keras_examples.bandit import Bandit
from like_keras_examples.cartpole import CartPole
from like_keras_ros.host import Qos, parameters, plan_node

from conftest import ASSETS, SYSTEMS
from ros_loopback import Loopback


def test_topic_plan_types_and_default_qos():
    graph = CartPole().build()
    sim, control = plan_node(graph, "sim"), plan_node(graph, "control")
    string = ("std_msgs/msg/String", Qos())
    # sim hosts the clock: it runs the drain's probe waves.
    # Relative names: a launch namespace moves the whole system; `ros2 run` gives the same topics.
    assert sim.publishers == {"cartpole/env/obs": ("std_msgs/msg/Float64MultiArray", Qos()),
                              "cartpole/_lk/probe": string, "cartpole/_lk/ack": string}
    assert sim.subscriptions == {"cartpole/agent/action": ("std_msgs/msg/Int64", Qos()),
                                 "cartpole/_lk/report": string, "cartpole/_lk/ack": string}
    assert control.publishers == {"cartpole/agent/action": ("std_msgs/msg/Int64", Qos()),
                                  "cartpole/_lk/report": string, "cartpole/_lk/ack": string}
    assert control.routes == {"cartpole/env/obs": [("agent", "obs")]}
    # The ready barrier waits for these nodes by name, not for any subscriber.
    assert sim.readers == {"cartpole/env/obs": {"control"}, "cartpole/_lk/probe": {"control"},
                           "cartpole/_lk/ack": {"control"}}
    assert control.readers == {"cartpole/agent/action": {"sim"}, "cartpole/_lk/report": {"sim"},
                               "cartpole/_lk/ack": {"sim"}}
    # Keep-all is no flow control: each sender keeps a window in flight, acknowledged every quarter.
    assert (sim.flow, control.flow) == ({"cartpole/env/obs": {"control": 500}}, {"cartpole/agent/action": {"sim": 500}})
    assert (sim.ack_every, control.ack_every) == ({"cartpole/agent/action": 125}, {"cartpole/env/obs": 125})
    assert Qos() == Qos(reliable=True, keep_all=True)  # lossless unless a port opts out


def test_topic_override_image_and_lossy_qos():
    class Camera(Component):
        image = Output(Array(np.uint8, (4, 6, 3)), topic="/robot/camera/image_raw", image=True)

    class Viewer(Component):
        image = Input(Array(np.uint8, (4, 6, 3)), keep_last=2)

        def step(self, image):
            pass

    cam, viewer = Camera(name="camera", node=Node("a")), Viewer(name="viewer", node=Node("b"))
    graph = System(name="view", components=[cam, viewer], connections=[(cam.image, viewer.image)]).build()
    a, b = plan_node(graph, "a"), plan_node(graph, "b")
    assert a.publishers["/robot/camera/image_raw"] == ("sensor_msgs/msg/Image", Qos())
    assert b.subscriptions["/robot/camera/image_raw"] == (
        "sensor_msgs/msg/Image", Qos(reliable=False, keep_all=False, depth=2))
    assert a.readers["/robot/camera/image_raw"] == {"b"}


def test_a_lossless_reader_beside_a_keep_last_one_keeps_the_topic_reliable_and_flow_controlled():
    graph = load_system(f"{SYSTEMS}:MixedReaders").build()
    a, b = plan_node(graph, "a"), plan_node(graph, "b")
    topic = next(iter(a.flow))
    assert b.subscriptions[topic] == ("std_msgs/msg/Int64", Qos())  # reliable, keep_all
    assert set(a.flow[topic]) == {"b"} and b.ack_every[topic] > 0


def test_the_receiver_acknowledges_and_the_sender_waits_at_its_window():
    """The throughput flood past the window (500 in flight): the consumer's node takes
    nothing at first, so the producer's node holds what would overfill the window and
    stops; then the consumer acknowledges every 125 receipts with running totals, and the
    producer goes on until all 2,000 have arrived."""
    from like_keras_examples.throughput import Flood

    bus = Loopback(Flood(), iterations=2000)
    fast, slow = bus.bridges["fast"], bus.bridges["slow"]
    out, acks = "flood/producer/out", "flood/_lk/ack"
    assert fast.topics.flow == {out: {"slow": 500}} and slow.topics.ack_every == {out: 125}
    fast.start()
    for _ in range(100):
        fast.spin()
    assert len(bus.published[out]) == 500, "the sender did not stop at its window"
    assert fast.held and fast.credits.blocked(out)
    slow.start()
    bus.deliver(to="slow")  # the consumer takes in the 500
    totals = [json.loads(m.data)["counts"][out] for m in bus.published[acks]]
    assert totals == [125, 250, 375, 500], "the receiver did not acknowledge every quarter window"
    assert json.loads(bus.published[acks][0].data)["from"] == "slow"
    bus.deliver(to="fast")  # the acknowledgements make room: the held messages leave
    assert len(bus.published[out]) > 500
    assert bus.run() == {"producer": 2000, "echo": 2001, "consumer": 2000}
    assert [m.data for m in bus.published[out]] == list(range(1, 2001))
    assert json.loads(bus.published[acks][-1].data)["counts"][out] == 2000


def test_parameters_come_from_config_fields():
    graph = Bandit(epsilon=0.25, seed=3).build()
    assert parameters(graph, "learner") == {"agent.arms": 5, "agent.epsilon": 0.25, "agent.seed": 3}
    assert parameters(graph, "world") == {"env.arms": 5, "env.seed": 3}


def test_cartpole_over_cdr_loopback_matches_native():
    native = CartPole(seed=4).launch(iterations=200, record=["env.obs", "agent.action", "env.reward"])
    bus = Loopback(CartPole(seed=4), iterations=200)
    actions, rewards = [], []
    sim, control = bus.bridges["sim"], bus.bridges["control"]
    control.runtime.components["agent"].step = _spy(control.runtime.components["agent"].step, actions)
    env = sim.runtime.components["env"]
    env.step = _spy(env.step, rewards, key="reward")
    steps = bus.run()
    assert steps == native.steps == {"env": 200, "agent": 201}
    assert actions == native.messages("agent.action")
    assert rewards == native.messages("env.reward")


def test_bandit_over_loopback_drains_and_applies_parameters():
    native = Bandit(seed=1, epsilon=0.5).launch(iterations=300, record=["agent.arm"])
    # The parameter file says epsilon 0.5: it wins over the code's 0.1.
    bus = Loopback(Bandit(seed=1), iterations=300, parameters={"learner": {"agent.epsilon": 0.5}})
    arms = []
    agent = bus.bridges["learner"].runtime.components["agent"]
    agent.step = _spy(agent.step, arms)
    steps = bus.run()
    assert steps == native.steps
    assert arms == native.messages("agent.arm")[1:]  # every arm after on_start's, as on native


@pytest.mark.parametrize("order", [["learner", "world"], ["world", "learner"]])
def test_nothing_steps_before_on_start_whatever_order_nodes_start(order):
    # The first node to start sends at once (on_start); the other node receives that
    # before it has started itself. It must keep the message for after its on_start.
    native = Bandit(seed=2).launch(iterations=50, record=["agent.arm"])
    bus = Loopback(Bandit(seed=2), iterations=50)
    assert bus.run(order=order) == native.steps


def test_a_user_msg_travels_through_the_generated_interface():
    bus = Loopback(load_system("like_keras_examples.sensor_pipeline:SensorPipeline"))
    perception = bus.bridges["perception"]
    tracker = bus.bridges["control"].runtime.components["tracker"]
    seen = []
    tracker.step = _spy(tracker.step, seen)
    for bridge in bus.bridges.values():
        bridge.runtime.start()
    for _ in range(3):  # three camera frames, by hand (no timers in the loopback)
        perception.on_timer("camera")
    while bus.queue:
        bridge, topic, raw = bus.queue.popleft()
        bridge.on_message(topic, raw)
    assert [t.frames for t in seen] == [1, 2, 3]
    assert bus.types["sensor_pipeline/detector/detection"] == "sensor_pipeline_interfaces/msg/Detection"


def _spy(fn, sink, key=None):
    def wrapper(**inputs):
        out = fn(**inputs)
        if out is not None:
            sink.append(out[key] if key else out)
        return out
    return wrapper


def test_inputs_fed_from_outside_subscribe_to_their_topic_and_take_no_part_in_the_drain():
    class Scanner(Component):
        scan = Input(float, topic="/scan", keep_last=5)  # sensor-data QoS
        cmd = Input(int, topic="cmd_vel")
        out = Output(int, topic="/status")

        def step(self, scan, cmd):
            return 1

    class Other(Component):
        cmd = Input(int, topic="cmd_vel")

        def step(self, cmd):
            pass

    graph = System(name="robot", components=[Scanner(name="scanner"), Other(name="other")]).build()
    plan = plan_node(graph, graph.nodes[0].name)
    facing_out = Qos(overridable=True)  # an integrator may override what faces outside
    assert plan.subscriptions["/scan"] == ("std_msgs/msg/Float64", Qos(reliable=False, keep_all=False, depth=5,
                                                                       overridable=True))
    assert plan.subscriptions["cmd_vel"] == ("std_msgs/msg/Int64", facing_out)
    assert plan.routes["cmd_vel"] == [("scanner", "cmd"), ("other", "cmd")]
    assert plan.publishers["/status"] == ("std_msgs/msg/Int64", facing_out) and plan.readers["/status"] == frozenset()
    from like_keras_ros.bringup import ros_dependencies

    assert ros_dependencies(graph) == ["std_msgs"]


def test_a_sender_holds_what_overfills_a_window_and_steps_nothing_until_acknowledged():
    class Camera(Component):
        frame = Output(Array(np.float32, (2048, 2048)))  # 16 MB: two in flight
        rate_hz = 100.0

        def on_start(self):
            self.n = 0

        def step(self):
            self.n += 1
            return np.full((2048, 2048), self.n, np.float32)

    class Viewer(Component):
        frame = Input(Array(np.float32, (2048, 2048)))

        def step(self, frame):
            pass

    cam, viewer = Camera(name="cam", node=Node("a")), Viewer(name="viewer", node=Node("b"))
    graph = System(name="cams", components=[cam, viewer], connections=[(cam.frame, viewer.frame)]).build()
    assert plan_node(graph, "a").flow == {"cams/cam/frame": {"b": 2}}
    assert plan_node(graph, "b").ack_every == {"cams/cam/frame": 1}

    class IO:
        def __init__(self):
            self.sent = []

        def publish(self, topic, raw):
            self.sent.append((topic, raw))

    from like_keras.msgs.ros import STORE
    from like_keras_ros.host import Host

    io = IO()
    bridge = Host(graph, "a", {"cam": cam}, io)
    bridge.start()
    for _ in range(4):
        bridge.on_timer("cam")
    frames = [t for t, _ in io.sent if t == "cams/cam/frame"]
    assert len(frames) == 2 and len(bridge.held) == 1  # the third waits; the fourth tick stepped nothing
    assert cam.n == 3 and not bridge.busy
    ack = STORE.types["std_msgs/msg/String"](data='{"from": "b", "counts": {"cams/cam/frame": 1}}')
    bridge.on_message("cams/_lk/ack", bytes(STORE.serialize_cdr(ack, "std_msgs/msg/String")))
    assert len([t for t, _ in io.sent if t == "cams/cam/frame"]) == 3 and not bridge.held
    bridge.on_timer("cam")
    assert cam.n == 4 and len(bridge.held) == 1  # two in flight again: the fourth waits


def test_a_latched_output_keeps_its_last_message_and_is_read_one_at_a_time():
    """Latched: reliable, transient local, keep last 1, published even when only the world
    outside reads it; a like-keras reader subscribes transient local and acknowledges each."""
    from like_keras_ros.host import LATCHED

    graph = load_system(f"{ASSETS / 'ros_systems.py'}:Latched").build()
    server, reader = plan_node(graph, "server"), plan_node(graph, "reader")
    assert LATCHED == Qos(reliable=True, keep_all=False, depth=1, latched=True)
    assert server.publishers["latched/server/version"] == ("std_msgs/msg/Int64", LATCHED)
    assert server.publishers["latched/server/map"] == ("std_msgs/msg/String", replace(LATCHED, overridable=True))
    assert server.readers["latched/server/map"] == frozenset()  # nobody inside: published for the outside
    assert reader.subscriptions["latched/server/version"] == ("std_msgs/msg/Int64", Qos(latched=True))
    assert server.flow["latched/server/version"] == {"reader": 1}


def test_the_parameter_file_lists_the_qos_of_what_faces_outside():
    from like_keras_ros.bringup import _parameters_yaml

    params = yaml.safe_load(_parameters_yaml(load_system(f"{ASSETS / 'ros_systems.py'}:Latched").build()))
    assert params["/**/server"]["ros__parameters"]["qos_overrides"] == {
        "/latched/server/map": {"publisher": {"reliability": "reliable", "history": "keep_last", "depth": 1,
                                              "durability": "transient_local"}},
        "/status": {"publisher": {"reliability": "reliable", "history": "keep_all", "depth": 1000,
                                  "durability": "volatile"}},
    }
    assert "qos_overrides" not in params["/**/reader"]["ros__parameters"]  # its topics are the system's own


def test_latched_is_refused_on_an_input_saying_what_to_do():
    with pytest.raises(ValueError, match=r"qos_overrides\./map\.subscription\.durability: transient_local"):
        Input(str, topic="/map", latched=True)


# --- lifecycle nodes ------------------------------------------------------------------------


def _managed_chain(monkeypatch, tmp_path, **kwargs):
    monkeypatch.setenv("LK_TEST_LOG", str(tmp_path))
    bus = Loopback(load_system(f"{ASSETS / 'ros_systems.py'}:ManagedChain"), **kwargs)
    return bus, bus.bridges["head"], bus.bridges["tail"]


def _ticks(bus, head, n):
    for _ in range(n):
        head.on_timer("ticker")
    bus.deliver()


def test_a_lifecycle_node_steps_only_while_active_and_loses_nothing(monkeypatch, tmp_path):
    """What reaches an inactive node waits (it steps nothing, and spinning it is no busy
    loop); activate runs on_start and then what waited; deactivate runs on_stop."""
    bus, head, tail = _managed_chain(monkeypatch, tmp_path)
    head.start()
    _ticks(bus, head, 5)
    assert tail.runtime.steps["echo"] == 0 and not tail.busy and not bus.published["echoed"]
    tail.start()  # activate
    assert [m.data for m in bus.published["echoed"]] == [1, 2, 3, 4, 5]
    tail.deactivate()
    _ticks(bus, head, 3)
    tail.spin()
    assert tail.runtime.steps["echo"] == 5 and not tail.busy and len(tail.runtime.inbox) == 3
    tail.start()  # activate again
    _ticks(bus, head, 2)
    assert [m.data for m in bus.published["echoed"]] == list(range(1, 11))
    assert (tmp_path / "echo").read_text().split() == ["start", "stop", "start"]


def test_an_inactive_node_acknowledges_nothing_so_its_senders_wait_for_it():
    """An inactive node takes at most a window from each sender: acknowledgements wait for
    its start (then they say all it took)."""
    from like_keras_examples.throughput import Flood

    bus = Loopback(Flood(), iterations=2000)
    fast, slow = bus.bridges["fast"], bus.bridges["slow"]
    out, acks = "flood/producer/out", "flood/_lk/ack"
    fast.start()
    for _ in range(100):
        fast.spin()
    bus.deliver(to="slow")
    assert len(bus.published[out]) == 500 and not bus.published[acks] and fast.credits.blocked(out)
    slow.start()
    assert [json.loads(m.data)["counts"][out] for m in bus.published[acks]] == [500]
    assert bus.run() == {"producer": 2000, "echo": 2001, "consumer": 2000}


@pytest.mark.parametrize("active", [True, False])
def test_shutting_a_lifecycle_node_down_stops_and_drains_the_whole_run(monkeypatch, tmp_path, active):
    """A shutdown (after on_stop, when it was active) is a stop asked of the node: the clock's
    node hears it and drains the run; the node, active or not, answers the drain."""
    bus, head, tail = _managed_chain(monkeypatch, tmp_path)
    head.start()
    _ticks(bus, head, 4)
    if active:
        tail.start()
        tail.deactivate()  # what the shutdown transition does first
    tail.shutdown()
    bus.deliver()
    steps = bus.run(order=["head"], max_rounds=2000)
    assert head.drain.stopping and all(b.leaving for b in bus.bridges.values())
    assert steps["echo"] == (4 if active else 0) and steps["ticker"] == 4
