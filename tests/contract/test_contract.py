"""The guarantees every transport keeps (docs/semantics.md, docs/verification.md), each one
test run on each transport that keeps it: the ``transport`` parameter names it (native,
dora, ros2), and a test on Dora or ROS 2 skips when the engine is absent (fails under
CI=true). What is one transport's own (Dora's drop logs and clusters, ROS 2 launch files
and the ros2 CLI) is tested in tests/integration/."""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from like_keras.errors import RunError, RunTimeoutError
from like_keras.recording import read_messages
from like_keras.transports.common.target import load_system
from like_keras_examples.sensor_pipeline import SensorPipeline
from like_keras_examples.throughput import Flood

from assets.bags import numbers_bag
from conftest import ASSETS, ROS2_BUILD, SYSTEMS, left_behind

NATIVE_DORA_ROS2 = ["native", "dora", "ros2"]
DORA_ROS2 = ["dora", "ros2"]  # the multi-process transports
FAILURES = ["step", "kill", "hang", "on_start", "on_stop"]
STARTUP = {"native": 0, "dora": 0, "ros2": ROS2_BUILD}  # seconds before a run's first step


def runs_on(transports):
    return pytest.mark.parametrize("transport", transports, indirect=True)


# --- losing nothing --------------------------------------------------------------------------


@runs_on(DORA_ROS2)
def test_20000_messages_from_a_fast_producer_arrive_all_in_order(transport):
    result = Flood().launch(transport=transport, iterations=20_000, record=["consumer.y"], timeout=300)
    assert result.messages("consumer.y") == list(range(1, 20_001))
    assert result.steps == {"producer": 20_000, "echo": 20_001, "consumer": 20_000}


@runs_on(NATIVE_DORA_ROS2)
def test_a_timer_faster_than_its_node_ends_by_itself_losing_nothing(transport):
    """A 100 kHz timer (far faster than its node steps) for 20,000 iterations, into another
    node: the run ends by itself, the late ticks fired once each (never queued up), and
    every message arrives, in order (natively in simulated time). Before the Dora runner
    kept its timers itself, Dora's daemon flooded, dropped events and the run hung."""
    system = load_system(f"{SYSTEMS}:Overload")
    result = system.launch(transport=transport, iterations=20_000, record=["consumer.y"], timeout=180)
    assert result.steps["ticker"] == 20_000
    assert result.messages("consumer.y") == list(range(1, 20_001))


@runs_on(NATIVE_DORA_ROS2)
def test_a_keep_last_reader_beside_a_lossless_one_loses_the_lossless_one_nothing(transport):
    """``assets/systems.py:MixedReaders``: a 100 kHz ticker read in one node by a slow echo
    (lossless) and a glance (``keep_last=1``): the edge stays reliable and flow-controlled,
    so the echo gets every number, in order. Lossy only when every reader opted in."""
    system = load_system(f"{SYSTEMS}:MixedReaders")
    result = system.launch(transport=transport, iterations=2_000, record=["echo.y"], timeout=180)
    assert result.messages("echo.y") == list(range(1, 2_001))
    assert result.steps["echo"] == 2_000 and 1 <= result.steps["glance"] <= 2_000


@runs_on(DORA_ROS2)
def test_duration_ends_a_busy_node_losing_nothing(transport):
    """``duration`` on the throughput flood, whose producer's node is never idle: the clock
    stops at the end of the duration and every message sent arrives. (On Dora the busy
    node never looked at its deadline: the launcher stopped the run and the messages in
    flight were lost without a word.)"""
    result = Flood().launch(transport=transport, duration=1.0, timeout=120, record=["producer.out", "consumer.y"])
    sent, got = result.messages("producer.out"), result.messages("consumer.y")
    assert len(sent) > 100 and got == sent == list(range(1, len(sent) + 1))


@runs_on(DORA_ROS2)
def test_a_minute_of_1mb_frames_into_a_slow_consumer_keeps_memory_bounded(transport, tmp_path):
    """``assets/systems.py:MegaFlood`` for a minute: 1 MB arrays as fast as the producer can
    make them into a consumer taking 5 ms each. Lossless must mean backpressure, not a
    queue that grows: every message arrives, in order, and the resident memory of every
    process of the run (sampled from /proc twice a second) is no higher in the second half
    of the run than in the first, and under 512 MB (a node is ~100-200 MB of Python, numpy,
    pyarrow or rclpy)."""
    seconds = 60.0
    samples: list[tuple[float, dict[str, int]]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            rss = {}
            for line in left_behind(tmp_path):  # every process of this run, by its command line
                pid, _, cmd = line.partition(" ")
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                kb = next((int(s.split()[1]) for s in status.splitlines() if s.startswith("VmRSS:")), 0)
                name = "launcher" if "dora run" in cmd or "ros2 launch" in cmd or "launch.py" in cmd else \
                    next((w for w in ("fast", "slow") if f"node {w}" in cmd or f"/{w} " in cmd or
                          f"__node:={w}" in cmd), cmd[:40])
                rss[name] = max(rss.get(name, 0), kb // 1024)
            samples.append((time.monotonic(), rss))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.monotonic()
    try:
        system = load_system(f"{SYSTEMS}:MegaFlood")
        result = system.launch(transport=transport, duration=seconds, timeout=seconds + 120, run_dir=tmp_path,
                               record=["reader.y"])
    finally:
        done.set()
        sampler.join()
    got = result.messages("reader.y")
    assert len(got) > 100 and got == [float(i) for i in range(1, len(got) + 1)]
    assert result.steps["reader"] == result.steps["producer"]  # every frame sent arrived
    half = t0 + seconds / 2
    peaks: dict[str, int] = {}
    first: dict[str, int] = {}
    second: dict[str, int] = {}
    for t, rss in samples:
        for name, mb in rss.items():
            peaks[name] = max(peaks.get(name, 0), mb)
            part = first if t < half else second
            part[name] = max(part.get(name, 0), mb)
    print(f"\npeak resident memory on {transport}, MB: {peaks}")
    for name, mb in second.items():
        assert mb <= first.get(name, 0) * 1.25 + 32, f"{name} grew: {first.get(name)} MB -> {mb} MB ({samples})"
    assert max(peaks.values()) < 512, peaks


# --- failures --------------------------------------------------------------------------------


def assert_names_the_failure(err, how: str) -> None:
    """A RunError from ``assets/systems.py:Failing``: the node, component, step and the
    user's own line (``raise``, ``exit``), or the death of the process (``kill``)."""
    assert err.node == "worker"
    if how == "raise":
        assert err.component == "fragile" and err.step == 5
        assert "raised ValueError in step 5: cannot handle 5" in str(err)
        assert 'raise ValueError(f"cannot handle {x}")' in err.remote_traceback  # the user's own line
    elif how == "exit":
        assert err.component == "fragile" and err.step == 5
        assert "component 'fragile' (node 'worker') called sys.exit(0) in step 5" in str(err)
        assert "sys.exit(0)" in err.remote_traceback
    else:
        assert "died without reporting an error" in str(err)


@pytest.mark.parametrize("transport, how", [(t, h) for t in DORA_ROS2 for h in ("raise", "kill", "exit")],
                         indirect=["transport"])
def test_a_failing_node_ends_the_run_fast(transport, tmp_path, monkeypatch, how):
    """``assets/systems.py:Failing``: the run ends within 10 s of the failure with a RunError
    naming the node, the component, the step and the user's line, leaves no process, and
    keeps the healthy node's recording."""
    monkeypatch.setenv("LK_TEST_FAILURE", how)
    system = load_system(f"{SYSTEMS}:Failing")
    t0 = time.monotonic()
    with pytest.raises(RunError) as info:
        system.launch(transport=transport, timeout=60, run_dir=tmp_path, record=["ticker.out"])
    assert time.monotonic() - t0 < 10 + STARTUP[transport]
    assert_names_the_failure(info.value, how)
    assert left_behind(tmp_path) == []
    assert read_messages(info.value.recording)["ticker.out"][:5] == [1, 2, 3, 4, 5]  # it survives the failure


@pytest.mark.parametrize("transport, how", [(t, h) for t in NATIVE_DORA_ROS2 for h in FAILURES
                                            if (t, h) != ("native", "kill")],  # one process: a kill ends it all
                         indirect=["transport"])
def test_a_failed_run_keeps_its_recording(transport, how, monkeypatch, tmp_path):
    """``assets/systems.py:Chronicle`` failing as ``how`` says: the run raises a RunError
    whose ``.recording`` is a bag with everything both nodes sent before the failure (a
    process killed with kill -9, or killed hung at the timeout, loses at most its last
    second; natively the alarm ends even a hung step, and nothing is lost), and leaves no
    process behind."""
    seconds_lost = 0 if transport == "native" else 1.0
    monkeypatch.setenv("LK_TEST_FAILURE", how)
    system = load_system(f"{SYSTEMS}:Chronicle")
    options = {"iterations": 80} if how == "on_stop" else {"timeout": 4 if how == "hang" else 60}
    # By the wall clock, as the bound on what a killed process loses is (in simulated time
    # the 60 ticks before the failure would take a fraction of a second).
    options["realtime"] = transport != "native"
    with pytest.raises(RunTimeoutError if how == "hang" else RunError) as info:
        system.launch(transport=transport, run_dir=tmp_path, record=["ticker.out", "victim.seen"], **options)
    got = read_messages(info.value.recording)
    ticks, seen = got["ticker.out"], got["victim.seen"]
    assert ticks == list(range(1, len(ticks) + 1))  # in order, none lost
    if how == "on_start":
        assert "in on_start(): no camera found" in str(info.value) and seen == []
    elif how == "on_stop":
        assert "in on_stop(): could not park the arm" in str(info.value)
        assert ticks == seen == list(range(1, 81))  # everything, drained before on_stop
    else:
        assert len(ticks) >= 59 and seen == list(range(1, len(seen) + 1))
        assert len(seen) >= (59 - 50 * seconds_lost if how in ("kill", "hang") else 59), len(seen)
    assert left_behind(tmp_path) == []


@pytest.mark.parametrize("transport, node", [(t, n) for t in DORA_ROS2 for n in "abc"], indirect=["transport"])
def test_kill_9_of_any_node_at_a_random_moment_ends_the_run_naming_it(transport, tmp_path, node):
    """``kill -9`` of ``node`` of ``assets/systems.py:Line`` at a random moment of its run:
    within 10 s the launch raises a RunError naming that node, and no process of the run is
    left (checked against the process table)."""
    run_dir = tmp_path
    system = load_system(f"{SYSTEMS}:Line")
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            system.launch(transport=transport, timeout=120, run_dir=run_dir)
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    launching = threading.Thread(target=run)
    launching.start()
    deadline = time.monotonic() + 60
    while not all((run_dir / "pids" / f"{n}.json").exists() for n in "abc"):
        assert launching.is_alive() and time.monotonic() < deadline, outcome
        time.sleep(0.05)
    delay = random.uniform(0.2, 2.0)
    time.sleep(delay)
    os.kill(json.loads((run_dir / "pids" / f"{node}.json").read_text())["pid"], signal.SIGKILL)
    killed = time.monotonic()
    launching.join(30)
    took = time.monotonic() - killed
    assert not launching.is_alive(), f"the run went on after node {node} was killed {delay:.2f} s in"
    err = outcome.get("error")
    assert isinstance(err, RunError) and err.node == node, f"killed {node} {delay:.2f} s in: {err!r}"
    assert f"node '{node}'" in str(err) and "died" in str(err), str(err)
    assert took < 10, f"the run took {took:.1f} s to end after node {node} was killed"
    assert left_behind(run_dir) == []


# --- inputs from outside, and replay ---------------------------------------------------------


@runs_on(["native", "dora"])
def test_an_input_fed_from_outside_stays_at_its_default(transport):
    """Nothing publishes /numbers (natively nothing can): the doubler never steps."""
    system = load_system(f"{ASSETS / 'ros_systems.py'}:FedFromOutside")
    assert system.launch(transport=transport, duration=1.0, timeout=30).steps == {"doubler": 0}


@runs_on(DORA_ROS2)
def test_an_input_fed_by_a_topic_is_fed_by_a_bag(transport, tmp_path):
    """An input fed by a topic gets the bag's messages (not /numbers)."""
    system = load_system(f"{ASSETS / 'ros_systems.py'}:FedFromOutside")
    result = system.launch(transport=transport, replay={"doubler.x": numbers_bag(tmp_path / "bag")},
                           duration=3.0, record=["doubler.y"], timeout=60)
    assert result.messages("doubler.y") == [2 * n for n in range(1, 11)]


@runs_on(NATIVE_DORA_ROS2)
def test_a_run_fed_only_by_a_bag_ends_when_the_bag_is_exhausted(transport, tmp_path):
    """No iterations, no duration: nothing but the bag feeds the run, so it ends once the
    bag's last message has been played and drained, with every value."""
    system = load_system(f"{ASSETS / 'ros_systems.py'}:FedFromOutside")
    result = system.launch(transport=transport, replay={"doubler.x": numbers_bag(tmp_path / "bag", count=30)},
                           record=["doubler.y"], timeout=60 + STARTUP[transport])
    assert result.messages("doubler.y") == [2 * n for n in range(1, 31)]
    assert result.steps == {"doubler": 30}


@runs_on(DORA_ROS2)
def test_replaying_the_recorded_camera_gives_the_runs_downstream_trace(transport):
    """A native run's recorded camera, replayed, gives that run's downstream trace
    (detector and tracker: per connection; the 10 Hz controller samples wall time there)."""
    ports = ["detector.detection", "tracker.track"]
    recorded = SensorPipeline().launch(iterations=30, record=["camera.image", *ports])
    again = SensorPipeline().launch(transport=transport, replay={"camera": recorded.recording}, record=ports,
                                    timeout=120)
    assert {k: again.steps[k] for k in ("camera", "detector", "tracker")} == {
        "camera": 30, "detector": 30, "tracker": 30}  # it ended when the bag did
    for port in ports:
        assert again.messages(port) == recorded.messages(port), port


# --- stamps and frames -----------------------------------------------------------------------


def _ns(header) -> int:
    return header.stamp.sec * 1_000_000_000 + header.stamp.nanosec


@runs_on(NATIVE_DORA_ROS2)
def test_messages_with_a_header_leave_their_step_stamped_and_framed(transport):
    """Stamped with the step's time and framed by the port, the same for the receiver and in
    the bag (where log times and stamps agree); a header the component filled stays as it is."""
    from rosbags.highlevel import AnyReader

    from assets.stamps import Stamped

    result = Stamped().launch(transport=transport, iterations=10, timeout=60 + STARTUP[transport],
                              record=["poses.pose", "poses.own", "poses.image", "listener.heard"])
    poses = result.messages("poses.pose")
    stamps = [_ns(p.header) for p in poses]
    assert [p.header.frame_id for p in poses] == ["map"] * 10
    assert stamps[0] > 0 and stamps == sorted(set(stamps)), stamps
    assert result.messages("listener.heard") == [f"map {s // 10**9} {s % 10**9}" for s in stamps]
    assert [(o.header.frame_id, _ns(o.header)) for o in result.messages("poses.own")] == [
        ("odom", 7_000_000_000 + n) for n in range(1, 11)]
    with AnyReader([result.recording]) as reader:
        bag = {}
        for conn, t, raw in reader.messages([c for c in reader.connections if c.topic.startswith("/stamped/poses/")]):
            header = reader.deserialize(raw, conn.msgtype).header
            bag.setdefault(conn.topic, []).append((t, header.frame_id, _ns(header)))
    assert bag["/stamped/poses/pose"] == [(t, "map", t) for t in stamps]
    assert bag["/stamped/poses/image"] == [(t, "camera", t) for t in stamps]  # sent by the same steps


@runs_on(NATIVE_DORA_ROS2)
def test_transforms_go_on_tf_and_tf_static_as_tf2_messages(transport):
    """A TransformStamped output with tf=True is a tf2_msgs/TFMessage on /tf (latched: on
    /tf_static), stamped and framed like any header, and reads back as the transform."""
    from rosbags.highlevel import AnyReader

    from assets.stamps import Stamped

    result = Stamped().launch(transport=transport, iterations=5, timeout=60 + STARTUP[transport],
                              record=["poses.body", "poses.mount"])
    bodies = result.messages("poses.body")
    assert [(b.header.frame_id, b.child_frame_id, b.transform.translation.x) for b in bodies] == [
        ("map", "base_link", float(n)) for n in range(1, 6)]
    with AnyReader([result.recording]) as reader:
        kinds = {c.topic: c.msgtype for c in reader.connections}
        tf = [(t, reader.deserialize(raw, c.msgtype)) for c, t, raw in reader.messages()]
    assert kinds == {"/tf": "tf2_msgs/msg/TFMessage", "/tf_static": "tf2_msgs/msg/TFMessage"}
    static = [m.transforms for _, m in tf if len(m.transforms) and m.transforms[0].child_frame_id == "camera"]
    assert len(static) == 1 and static[0][0].header.frame_id == "base_link"
    assert static[0][0].transform.translation.z == 0.5
    moving = [(t, m.transforms[0]) for t, m in tf if m.transforms[0].child_frame_id == "base_link"]
    assert [(_ns(x.header), x.header.frame_id) for _, x in moving] == [(t, "map") for t, _ in moving]


@runs_on(NATIVE_DORA_ROS2)
def test_a_latched_output_loses_nothing_inside_the_system(transport):
    """On ROS 2 a latched topic's publisher keeps only its last message (keep last 1); the
    like-keras node reading it still gets every one, in order."""
    system = load_system(f"{ASSETS / 'ros_systems.py'}:Latched")
    result = system.launch(transport=transport, iterations=200, record=["versions.seen"],
                           timeout=60 + STARTUP[transport])
    assert result.messages("versions.seen") == list(range(1, 201))


@runs_on(NATIVE_DORA_ROS2)
def test_a_lifecycle_node_autostarted_runs_as_a_plain_one(transport, tmp_path, monkeypatch):
    """Node(lifecycle=True): on ROS 2 a launch_ros LifecycleNode that the launch configures
    and activates; native and Dora run it as a plain node. The same trace, and one on_start
    and one on_stop, everywhere."""
    monkeypatch.setenv("LK_TEST_LOG", str(tmp_path))
    system = load_system(f"{ASSETS / 'ros_systems.py'}:ManagedChain")
    result = system.launch(transport=transport, iterations=50, record=["echo.y"], timeout=60 + STARTUP[transport])
    assert result.messages("echo.y") == list(range(1, 51))
    assert (tmp_path / "echo").read_text().split() == ["start", "stop"]


# --- a system beside the program -------------------------------------------------------------


MY_ROBOT = '''
from like_keras import Component, Input, Node, Output, System


class Tick(Component):
    out = Output(int)
    rate_hz = 200.0

    def on_start(self):
        self.n = 0

    def step(self):
        self.n += 1
        return self.n


class Sink(Component):
    x = Input(int)

    def step(self, x):
        pass


class S(System):
    def __init__(self):
        self.tick = Tick.from_node(Node("sim"{robot}))
        self.sink = Sink.from_node(Node("control"{base}))
        self.connect(self.tick.out, self.sink.x)
        super().__init__(config=System.Config(name="my_robot"))
'''  # self-contained: nothing but like_keras beside it (so no shared asset either)
RUN = ("import json\nfrom my_robot import S\n"
       "r = S().launch(transport={transport!r}, iterations=20, timeout=120{options})\n"
       "print('STEPS', json.dumps(r.steps))\n")


def started_beside_the_system(how: str, folder: Path, transport: str, options: str = "",
                              machines: bool = False) -> dict:
    """Steps of a run of ``my_robot.py`` (written in ``folder``, not installed), launched
    by a program in ``folder`` that Python runs ``how``: ``script``, ``-c``, ``stdin``
    or ``-m``, without PYTHONPATH. (tests/integration/test_dora.py runs it on a cluster.)"""
    robot, base = (', machine="robot"', ', machine="base"') if machines else ("", "")
    (folder / "my_robot.py").write_text(MY_ROBOT.format(robot=robot, base=base))
    code = RUN.format(transport=transport, options=options)
    (folder / "run.py").write_text(code)
    argv, stdin = {"script": (["run.py"], None), "-c": (["-c", code], None), "stdin": (["-"], code),
                   "-m": (["-m", "run"], None)}[how]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, *argv], input=stdin, cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.split("STEPS", 1)[1])


@pytest.mark.parametrize("transport, how", [(t, h) for t in DORA_ROS2 for h in ("script", "-c", "stdin", "-m")],
                         indirect=["transport"])
def test_a_system_beside_the_program_runs_however_python_starts(transport, tmp_path, how):
    assert started_beside_the_system(how, tmp_path, transport) == {"tick": 20, "sink": 20}
