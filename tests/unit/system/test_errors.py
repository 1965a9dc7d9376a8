"""Bad input: each mistake gets its own error class and a message that names the
component, port or node and says what to do, before anything runs where possible."""

import re
from dataclasses import dataclass

import numpy as np
import pytest

from like_keras import Array, Component, Input, Node, Output, System
from like_keras.errors import (
    ComponentDefinitionError,
    DuplicateNameError,
    FanInError,
    GraphError,
    InvalidNameError,
    MissingNodeError,
    NoClockError,
    PortTypeMismatchError,
    RecordError,
    RunError,
    RunTimeoutError,
    UndeclaredOutputError,
    UnknownPortError,
    UnstartableCycleError,
    ValueTypeError,
)
from like_keras.transports.common.target import load_system

from assets.components import Ticker
from conftest import ASSETS, SYSTEMS


class Ints(Component):
    out = Output(int)

    def on_start(self):
        return 1


class Floats(Component):
    out = Output(float)

    def on_start(self):
        return 1.0


class TakeInt(Component):
    x = Input(int)
    y = Output(int)

    def step(self, x):
        return x


def test_port_type_mismatch_on_connect():
    system = System.__new__(System)
    with pytest.raises(PortTypeMismatchError, match=r"Floats.out \(float\) to TakeInt.x \(int\)"):
        system.connect(Floats().out, TakeInt().x)
    with pytest.raises(PortTypeMismatchError, match=r"Array\(float32, \(4,\)\).*Array\(float64, \(4,\)\)"):
        class A(Component):
            o = Output(Array(np.float32, (4,)))

        class B(Component):
            i = Input(Array(np.float64, (4,)))

            def step(self, i):
                pass

        system.connect(A().o, B().i)


def test_array_dimensions_may_be_open():
    class A(Component):
        o = Output(Array(np.uint8, (None, 3)))

    class B(Component):
        i = Input(Array(np.uint8, (5, None)))

        def step(self, i):
            pass

    a, b = A(name="a"), B(name="b")
    graph = System(name="ok", components=[a, b], connections=[(a.o, b.i)]).build()
    assert graph.component("a").output("o").type["shape"] == [None, 3]
    assert graph.component("b").input("i").type["shape"] == [5, None]

    class C(Component):
        i = Input(Array(np.uint8, (5, 4)))  # a fixed 4 where the output has a fixed 3

        def step(self, i):
            pass

    a, c = A(name="a"), C(name="c")
    with pytest.raises(PortTypeMismatchError, match=r"a.o \(Array\(uint8, \(None, 3\)\)\) to c.i"):
        System(name="bad", components=[a, c], connections=[(a.o, c.i)]).build()


def test_unknown_port():
    t = TakeInt(name="taker")
    with pytest.raises(UnknownPortError, match=r"'taker' \(TakeInt\) has no port or attribute 'z'.*inputs: x"):
        t.z  # noqa: B018
    with pytest.raises(UnknownPortError, match="has no port or attribute 'nope'"):
        System(name="s", components=[Ints(name="a"), t], connections=[("a.nope", "taker.x")])
    with pytest.raises(UnknownPortError, match="no component named 'ghost'"):
        System(name="s", components=[t], connections=[("ghost.out", "taker.x")])


def test_fan_in_is_an_error():
    a, b, t = Ints(name="a"), Ints(name="b"), TakeInt(name="t")
    system = System(name="s", components=[a, b, t], connections=[(a.out, t.x), (b.out, t.x)])
    with pytest.raises(FanInError, match=r"input t.x has two sources \(a.out and b.out\).*merge component"):
        system.build()


def test_duplicate_component_and_node_names():
    with pytest.raises(DuplicateNameError, match="two components are named 'a'"):
        System(name="s", components=[Ints(name="a"), Ints(name="a")]).build()
    n1, n2 = Node("n"), Node("n")
    with pytest.raises(DuplicateNameError, match="two nodes are named 'n'"):
        System(name="s", nodes=[n1, n2], components=[Ints(name="a", node=n1), Ints(name="b", node=n2)]).build()


def test_component_without_node_in_multi_node_system():
    n1, n2 = Node("one"), Node("two")
    system = System(name="s", nodes=[n1, n2], components=[Ints(name="a", node=n1), TakeInt(name="lost")])
    with pytest.raises(MissingNodeError, match=r"component 'lost' has no node.*one, two.*from_node"):
        system.build()


@pytest.mark.parametrize(
    "kind, make",
    [
        ("component", lambda: System(name="s", components=[Ints(name="my-comp")])),
        ("component", lambda: System(name="s", components=[Ints(name="2fast")])),
        ("node", lambda: System(name="s", nodes=[Node("a b")], components=[Ints(name="a")])),
        ("node", lambda: System(name="s", nodes=[Node("dora")], components=[Ints(name="a")])),
        ("component", lambda: System(name="s", components=[Ints(name="a__b")])),
        ("system", lambda: System(name="MySystem", components=[Ints(name="a")])),
    ],
)
def test_names_must_be_valid_for_dora_and_ros2(kind, make):
    with pytest.raises(InvalidNameError, match=f"{kind} name"):
        make().build()


def test_every_name_rule_says_which_name_and_why():
    from like_keras.graph.validation import check_name

    for name, message in ((None, "node name must be a non-empty string, got None"),
                          ("", "node name must be a non-empty string, got ''"),
                          (5, "node name must be a non-empty string, got 5"),
                          ("a-b", "node name 'a-b' is not valid on every transport"),
                          ("ok_", "node name 'ok_' is not valid on ROS 2: no '__' and no trailing '_'")):
        with pytest.raises(InvalidNameError, match=re.escape(message)):
            check_name("node", name)
    with pytest.raises(InvalidNameError, match=re.escape("machine name 'x y' of node 'a' is not valid")):
        check_name("machine", "x y", "of node 'a'")
    check_name("node", "a1_b2")  # valid: no error
    with pytest.raises(InvalidNameError, match="node name 'dora' is reserved by Dora"):
        System(name="s", nodes=[Node("dora")], components=[Ints(name="a")]).build()
    with pytest.raises(InvalidNameError, match="system name 'My' must be lower case.*'my_bringup'"):
        System(name="My", components=[Ints(name="a")]).build()
    with pytest.raises(InvalidNameError, match="machine name 'robot one' of node 'n'"):
        System(name="s", nodes=[Node("n", machine="robot one")], components=[Ints(name="a", node=None)]).build()


@pytest.mark.parametrize("topic, ok", [("/robot/camera/image_raw", True), ("scan", True), ("a/b2/c_d", True),
                                       ("/robot//x", False), ("/robot/", False), ("has space", False),
                                       ("/2d/x", False), ("/a__b", False), ("/a_/b", False)])
def test_output_topics_must_be_ros2_topic_names(topic, ok):
    class Pub(Component):
        out = Output(int, topic=topic)

    system = System(name="s", components=[Pub(name="pub")])
    if ok:
        assert system.build().component("pub").output("out").topic == topic
    else:
        with pytest.raises(InvalidNameError, match=re.escape(f"topic '{topic}' of pub.out is not a valid ROS 2")):
            system.build()


@pytest.mark.parametrize("frame, ok", [("camera", True), ("robot1/base_link", True), ("_tmp", True),
                                       ("/map", False), ("2d", False), ("has space", False), ("a//b", False),
                                       ("a/", False)])
def test_frame_ids_must_be_ros_frame_names_on_the_port_and_in_config(frame, ok):
    from like_keras.msgs import PoseStamped

    class Pose(Component):
        pose = Output(PoseStamped, frame_id=frame)

        @dataclass
        class Config:
            frame_id: str = "odom"

    class Framed(Pose):
        pose = Output(PoseStamped)

    for system, named in ((System(name="s", components=[Pose(name="p")]), f"frame_id '{frame}' of p.pose"),
                          (System(name="s", components=[Framed(name="p", config={"frame_id": frame})]),
                           f"p.config.frame_id = '{frame}'")):
        if ok:
            system.build()
        else:
            with pytest.raises(InvalidNameError, match=re.escape(f"{named} is not a valid ROS frame name")):
                system.build()


def test_a_frame_needs_a_port_whose_message_has_a_header():
    with pytest.raises(TypeError, match=r"frame_id='map'\): a float has no std_msgs/Header"):
        Output(float, frame_id="map")
    Output(Array(np.uint8, (4, 4)), image=True, frame_id="camera")  # an image's message has one
    with pytest.raises(TypeError, match="has no std_msgs/Header"):
        Output(Array(np.uint8, (4, 4)), frame_id="camera")  # not an image: a plain UInt8MultiArray


def test_transforms_need_transform_stamped_and_two_outputs_never_share_a_topic():
    from like_keras.msgs import TransformStamped

    with pytest.raises(TypeError, match=r"Output\(tf=True\) carries transforms: a TransformStamped or a list"):
        Output(Array(np.float64, (7,)), tf=True)

    class Body(Component):
        tf = Output(TransformStamped, tf=True)
        status = Output(int, topic="/status")

    class Arm(Component):
        tf = Output(list[TransformStamped], tf=True)

    class Static(Component):
        tf = Output(TransformStamped, tf=True, latched=True)  # /tf_static: a topic of its own

    System(name="s", components=[Body(name="body"), Static(name="mount")]).build()
    with pytest.raises(DuplicateNameError, match=re.escape(
            "outputs body.tf and arm.tf both publish on topic '/tf': give each its own topic (transforms: send "
            "a list[TransformStamped] from one output)")):
        System(name="s", components=[Body(name="body"), Arm(name="arm")]).build()


def test_duplicate_names_are_named():
    with pytest.raises(DuplicateNameError, match="two components are named 'b': component names must be unique"):
        System(name="s", components=[Ints(name="a"), Ints(name="b"), Ints(name="b")]).build()
    n1, n2 = Node("n"), Node("n")
    with pytest.raises(DuplicateNameError, match="two nodes are named 'n'"):
        System(name="s", nodes=[n1, n2], components=[Ints(name="a", node=n1), Ints(name="b", node=n2)]).build()


def test_reserved_and_unaccepted_port_names_fail_at_class_definition():
    with pytest.raises(InvalidNameError, match="'name' is reserved"):
        class Bad(Component):
            name = Output(int)
    with pytest.raises(ComponentDefinitionError, match=r"step\(\) does not accept input\(s\) b"):
        class Bad2(Component):
            a = Input(int)
            b = Input(int)

            def step(self, a):
                pass


def test_step_returning_an_undeclared_output():
    class Liar(Component):
        x = Input(int)
        y = Output(int)

        def step(self, x):
            return {"z": x}

    a, liar = Ints(name="a"), Liar(name="liar")
    system = System(name="s", components=[a, liar], connections=[(a.out, liar.x)])
    with pytest.raises(UndeclaredOutputError, match=r"'liar' returned output 'z' from step 1, but declares only: y"):
        system.launch()

    class Two(Component):
        x = Input(int)
        p = Output(int)
        q = Output(int)

        def step(self, x):
            return x

    a, two = Ints(name="a"), Two(name="two")
    with pytest.raises(UndeclaredOutputError, match=r"declares outputs: p, q. Return a dict"):
        System(name="s", components=[a, two], connections=[(a.out, two.x)]).launch()


def test_value_of_the_wrong_type_at_run_time():
    class Sloppy(Component):
        x = Input(int)
        y = Output(Array(np.float32, (3,)))

        def step(self, x):
            return np.zeros(3, np.float64)

    a, s = Ints(name="a"), Sloppy(name="sloppy")
    system = System(name="s", components=[a, s], connections=[(a.out, s.x)])
    with pytest.raises(ValueTypeError, match=r"'sloppy' sent a wrong value on output 'y' in step 1.*float64.*astype"):
        system.launch()

    class Stringy(Component):
        out = Output(int)

        def on_start(self):
            return "3"

    with pytest.raises(ValueTypeError, match=r"'stringy'.*output 'out' in on_start\(\): expected int, got str"):
        System(name="s", components=[Stringy(name="stringy")]).launch()


def test_unstarted_cycle_is_detected_not_hung():
    class Ping(Component):
        x = Input(int)
        y = Output(int)

        def step(self, x):
            return x

    a, b = Ping(name="a"), Ping(name="b")
    system = System(name="s", components=[a, b], connections=[(a.y, b.x), (b.y, a.x)])
    with pytest.raises(UnstartableCycleError, match=r"cycle (a -> b -> a|b -> a -> b) never starts.*on_start"):
        system.build()

    class Starter(Ping):
        def on_start(self):
            return 0

    c, d = Starter(name="c"), Ping(name="d")
    System(name="s", components=[c, d], connections=[(c.y, d.x), (d.y, c.x)]).build()  # started: fine


def test_no_clock_when_iterations_is_given():
    class Quiet(Component):
        x = Input(int)

        def step(self, x):
            pass

    system = System(name="s", components=[Quiet(name="q")])
    with pytest.raises(NoClockError, match=r"needs a clock component.*System.Config\(clock="):
        system.launch(iterations=3)
    with pytest.raises(NoClockError, match="'nobody' is not a component"):
        System(name="s", components=[Quiet(name="q")], clock="nobody").build()


def test_exception_in_step_names_component_and_step_with_original_traceback():
    class Fragile(Component):
        x = Input(int)
        y = Output(int)

        def on_start(self):
            self.stopped = False
            return None

        def step(self, x):
            if x == 3:
                raise ZeroDivisionError("boom at three")
            return x

        def on_stop(self):
            self.stopped = True

    c, f = Ticker(name="counter"), Fragile(name="fragile")
    system = System(name="s", nodes=[Node("n1")], components=[c, f], connections=[(c.out, f.x)])
    with pytest.raises(RunError) as info:
        system.launch(iterations=10)
    err = info.value
    assert (err.component, err.node, err.step) == ("fragile", "n1", 3)
    assert "component 'fragile' (node 'n1') raised ZeroDivisionError in step 3: boom at three" in str(err)
    assert isinstance(err.__cause__, ZeroDivisionError)
    assert err.__cause__.__traceback__ is not None
    assert f.stopped  # on_stop still ran


def test_bad_record_entries_and_timeouts():
    class Loop(Component):
        x = Input(int)
        y = Output(int)

        def on_start(self):
            return 0

        def step(self, x):
            return x + 1

    a, b = Loop(name="a"), Loop(name="b")
    system = System(name="s", components=[a, b], connections=[(a.y, b.x), (b.y, a.x)])
    with pytest.raises(RecordError, match="'b.x' is not an output port of 'b': it is an input fed by 'a.y'"):
        system.launch(record=["b.x"])
    with pytest.raises(RecordError, match="'c.y' names no component"):
        system.launch(record=["c.y"])
    # An endless message loop with no iterations: the timeout ends it, clearly.
    with pytest.raises(RunTimeoutError, match="did not finish within timeout=0.2 s"):
        system.launch(timeout=0.2)


def test_graph_errors_share_a_base_class():
    assert issubclass(FanInError, GraphError) and issubclass(UnknownPortError, AttributeError)


class Relay(Component):
    x = Input(int)
    y = Output(int)

    def step(self, x):
        return x


class TimerThatStarts(Component):
    out = Output(int)
    rate_hz = 5.0

    def on_start(self):
        return 0

    def step(self):
        return 1


def test_a_loop_fed_from_outside_it_starts():
    # d <-> c, fed by b, fed by a timer: nothing in the loop starts it, but b does. Listed
    # downstream first, so one pass over the components cannot see it.
    a, b, c, d = TimerThatStarts(name="a"), Relay(name="b"), Loop2(name="c"), Loop2(name="d")
    graph = System(name="s", components=[d, c, b, a],
                   connections=[(a.out, b.x), (b.y, c.x), (c.y, d.x), (d.y, c.z)]).build()
    assert graph.clock == "a"


class Loop2(Component):
    x = Input(int)
    z = Input(int)
    y = Output(int)

    def step(self, x, z):
        return x


def test_an_unstartable_loop_names_its_members_and_a_way_out():
    b, c = Loop2(name="b"), Loop2(name="c")
    with pytest.raises(UnstartableCycleError, match=re.escape(
            "the input-triggered cycle c -> b -> c never starts: nothing in it has a timer or emits from "
            "on_start(). Return a first message from on_start() in one of them (e.g. c)")):
        System(name="s", components=[b, c], connections=[(b.y, c.x), (c.y, b.x)]).build()


def test_the_clock_is_the_first_component_with_a_timer_or_an_on_start():
    from like_keras_examples.cartpole import CartPole

    assert CartPole().build().clock == "env"  # on_start, no timer
    t = TimerThatStarts(name="t")
    assert System(name="s", components=[Relay(name="r"), t], connections=[(t.out, "r.x")]).build().clock == "t"


def test_two_kinds_of_duplicates_name_the_first():
    with pytest.raises(DuplicateNameError, match="named 'a'"):
        System(name="s", components=[Ints(name="a"), Ints(name="a"), Ints(name="b"), Ints(name="b")]).build()


def test_an_input_fed_from_outside_takes_no_connection():
    class Sub(Component):
        x = Input(int, topic="/numbers")

        def step(self, x):
            pass

    a, b = Ints(name="a"), Sub(name="b")
    with pytest.raises(FanInError, match=re.escape("input b.x has two sources (topic '/numbers' (from outside "
                                                   "the system) and a.out)")):
        System(name="s", components=[a, b], connections=[(a.out, b.x)]).build()
    loop_a, loop_b = Sub2(name="p"), Sub2(name="q")
    # A loop fed from outside starts when a message comes: no UnstartableCycleError.
    System(name="s", components=[loop_a, loop_b], connections=[(loop_a.y, loop_b.z), (loop_b.y, loop_a.z)]).build()


class Sub2(Component):
    x = Input(int, topic="/go")
    z = Input(int)
    y = Output(int)

    def step(self, x, z):
        return 1


@pytest.mark.parametrize("transport", ["native", "dora"])
def test_iterations_of_a_clock_that_never_steps_are_refused_before_the_run(transport):
    # Natively the run ended at once with the clock at 0 steps; on Dora it waited forever.
    system = load_system(f"{SYSTEMS}:Greeting")
    with pytest.raises(NoClockError, match=r"launch\(iterations=3\) counts the steps of clock component 'hello', "
                                           r"which never steps: it has no rate_hz and no connected input"):
        system.launch(transport=transport, iterations=3, timeout=30)
    assert system.launch(transport=transport, timeout=60).steps == {"hello": 0, "ear": 1}  # ends when quiet


class Counter(Component):
    """Steps on ``go`` (a connection or a topic); ``seen`` is sampled, never a trigger."""

    go = Input(int)
    seen = Input(int, trigger=False, default=0)
    out = Output(int)

    def step(self, go, seen):
        return go


def test_a_clock_that_steps_only_when_fed_is_accepted_and_one_never_fed_refused():
    """What a clock needs: a rate, or a triggering input that something feeds, a connection or a
    topic from outside. A fed input that does not trigger is not enough."""
    start, count = Ints(name="start"), Counter(name="count")
    fed = System(name="fed", components=[start, count], connections=[(start.out, count.go)], clock="count")
    assert fed.launch(iterations=1, timeout=30).steps == {"start": 0, "count": 1}

    class TopicCounter(Counter):
        go = Input(int, topic="/go")

    waiting = System(name="waiting", components=[TopicCounter(name="count")], clock="count")
    # Accepted; natively nobody publishes /go, so the run ends, quiet, with no step.
    assert waiting.launch(iterations=1, timeout=30).steps == {"count": 0}
    # Components named before and after the clock have their 'go' fed: it is not the clock's.
    start, count, before, after = (Ints(name="start"), Counter(name="count"), Counter(name="a_before"),
                                   Counter(name="z_after"))
    sampled = System(name="sampled", components=[start, count, before, after], clock="count",
                     connections=[(start.out, count.seen), (start.out, before.go), (start.out, after.go)])
    with pytest.raises(NoClockError, match="clock component 'count', which never steps"):
        sampled.launch(iterations=1, timeout=30)


# --- lifecycle nodes ------------------------------------------------------------------------


def test_lifecycle_is_for_nodes_like_keras_runs_and_autostart_for_lifecycle_nodes():
    with pytest.raises(TypeError, match=r"Node 'lidar': lifecycle=True is for nodes like-keras runs"):
        Node("lidar", executable="lidar_driver", lifecycle=True)
    with pytest.raises(TypeError, match=r"Node 'planner': autostart=False is for lifecycle nodes; give lifecycle=True"):
        Node("planner", autostart=False)


@pytest.mark.parametrize("transport", ["native", "dora"])
def test_a_lifecycle_node_waiting_for_a_manager_is_refused_where_none_exists(transport, tmp_path):
    """Native and Dora run a lifecycle node as a plain one (configured and activated at
    start); one that must wait for a manager cannot be honoured there: said before anything
    runs or is written."""
    from like_keras.errors import TransportError

    system = load_system(f"{ASSETS / 'ros_systems.py'}:ManagedChain", {"autostart": False})
    message = (r"node 'tail' is a lifecycle node that waits to be configured and activated \(autostart=False\), "
               rf"and transport '{transport}' has no lifecycle manager to do it: run it on ros2")
    with pytest.raises(TransportError, match=message):
        system.launch(transport=transport, iterations=3, timeout=30)
    if transport == "dora":
        with pytest.raises(TransportError, match=message):
            system.compile_to_transport("dora", tmp_path / "out")
        assert not (tmp_path / "out").exists()
    graph = system.build()
    assert [(n.name, n.lifecycle, n.autostart) for n in graph.nodes] == [("head", False, True), ("tail", True, False)]
    assert type(graph).from_json(graph.to_json()) == graph  # the flags travel to node processes
