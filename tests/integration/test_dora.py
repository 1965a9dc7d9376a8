"""The Dora transport, on the real Dora engine (dora-rs-cli 1.1.0): what is Dora's own (its
dataflows, clusters, drop logs). What every transport keeps is in tests/contract/."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest
import yaml

from like_keras.errors import RunError, RunTimeoutError
from like_keras.recording import read_messages
from like_keras.transports.common.target import load_system
from like_keras.transports.dora.compiler import plan
from like_keras.utils.paths import resolve
from like_keras_examples.bandit import Bandit
from like_keras_examples.cartpole import CartPole
from like_keras_examples.sensor_pipeline import SensorPipeline
from like_keras_examples.throughput import Flood

import processes
from conftest import (
    ASSETS,
    SYSTEMS,
    VENV_BIN,
    assert_names_the_hang,
    left_behind,
    tool,
    wait_until_running,
)
from contract.test_contract import started_beside_the_system

EXAMPLES = [
    ("cartpole", CartPole),
    ("bandit", Bandit),
    ("sensor_pipeline", SensorPipeline),
    ("throughput", Flood),
]


@pytest.fixture(scope="module")
def dora():
    return tool("dora")


def _validate(dora, path):
    proc = subprocess.run([dora, "validate", str(path)], capture_output=True, text=True,
                          env={**os.environ, "RUST_BACKTRACE": "0"}, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name, cls", EXAMPLES)
def test_every_example_compiles_to_a_dataflow_dora_validates(dora, tmp_path, name, cls):
    path = cls().compile_to_transport("dora", tmp_path / name / "dataflow.yml")
    assert path == tmp_path / name / "dataflow.yml"
    _validate(dora, path)
    flow = yaml.safe_load(path.read_text())
    graph = cls().build()
    assert [n["id"] for n in flow["nodes"]] == [n.name for n in graph.nodes]
    for node in flow["nodes"]:
        assert Path(node["path"]).is_absolute()
        assert f"-m like_keras.transports.dora.runner --target like_keras_examples.{name}:" in node["args"]
        for spec in node.get("inputs", {}).values():
            if isinstance(spec, dict):  # every data input is lossless
                assert spec["queue_policy"] == "backpressure"


def test_compiled_dataflow_details(dora, tmp_path):
    flow = yaml.safe_load(SensorPipeline().compile_to_transport("dora", tmp_path).read_text())
    perception, control = flow["nodes"]
    assert perception["outputs"] == ["detector__detection", "lk_probe"]
    # Timers are the runners' own (like ROS timers), never Dora's: those flood the daemon.
    assert not any("dora/timer" in str(spec) for node in flow["nodes"] for spec in node.get("inputs", {}).values())
    plans = plan(SensorPipeline().build())
    assert (plans["perception"].timers, plans["control"].timers) == ({"camera": 30.0}, {"controller": 10.0})
    assert control["inputs"]["detector__detection"]["source"] == "perception/detector__detection"
    assert "shared_memory_pool_size" not in perception  # only small messages cross nodes


def test_lossy_opt_in_machines_pool_size_and_external_nodes(dora, tmp_path):
    from like_keras import Array, Component, Input, Node, System

    class Latest(Component):
        frame = Input(Array(np.float32, (2048, 2048)), keep_last=1)

        def step(self, frame):
            pass

    Big = resolve(f"{SYSTEMS}:Big")  # as a node process finds it

    class Lossy(System):
        def __init__(self):
            self.cam = Node("cam", machine="robot")
            self.viewer = Node("viewer")
            self.big = Big.from_node(self.cam)
            self.latest = Latest.from_node(self.viewer)
            self.connect(self.big.out, self.latest.frame)
            super().__init__(config=System.Config(name="lossy"))

    path = Lossy().compile_to_transport("dora", tmp_path / "df.yml")
    _validate(dora, path)
    cam, viewer = yaml.safe_load(path.read_text())["nodes"]
    assert viewer["inputs"]["big__out"] == {"source": "cam/big__out", "queue_size": 1, "queue_policy": "drop_oldest"}
    assert cam["shared_memory_pool_size"] == "128MB"  # 8 x 16 MB: large arrays never take the slow path
    assert cam["deploy"] == {"machine": "robot"}

    system = load_system(f"{SYSTEMS}:WithExternal")
    path = system.compile_to_transport("dora", tmp_path / "ext.yml")
    _validate(dora, path)
    nodes = {n["id"]: n for n in yaml.safe_load(path.read_text())["nodes"]}
    assert nodes["doubler"]["args"].endswith("doubler.py")
    assert nodes["doubler"]["inputs"]["x"]["source"] == "main/ticker__out"
    assert nodes["doubler"]["outputs"] == ["y"]
    assert list(nodes["doubler"]["inputs"]) == ["x"]  # a plain Dora node takes no part in flow control
    assert nodes["sinks"]["inputs"]["doubler__y"]["source"] == "doubler/y"


def _same_trace(native, on_dora, ports):
    for port in ports:
        a, b = native.messages(port), on_dora.messages(port)
        assert len(a) == len(b), port
        for x, y in zip(a, b):
            if isinstance(x, np.ndarray):
                np.testing.assert_array_equal(x, y)
            else:
                assert x == y, port


def test_cartpole_on_dora_has_the_same_trace_as_native(dora):
    ports = ["env.obs", "env.reward", "env.done", "agent.action"]
    native = CartPole(seed=3).launch(iterations=300, record=ports)
    on_dora = CartPole(seed=3).launch(transport="dora", iterations=300, record=ports, timeout=120)
    assert on_dora.steps == native.steps == {"env": 300, "agent": 301}
    _same_trace(native, on_dora, ports)
    assert (on_dora.run_dir / "out").is_dir()  # Dora's logs stay in the run directory


def test_bandit_on_dora_has_the_same_trace_as_native(dora):
    ports = ["agent.arm", "env.reward", "objective.mean_reward"]
    native = Bandit(seed=2).launch(iterations=500, record=ports)
    on_dora = Bandit(seed=2).launch(transport="dora", iterations=500, record=ports, timeout=120)
    assert on_dora.steps == native.steps
    _same_trace(native, on_dora, ports)


def test_event_driven_pipeline_on_dora_matches_native(dora):
    # camera -> detector -> tracker is deterministic per connection (the controller samples).
    ports = ["camera.image", "detector.detection", "tracker.track"]
    native = SensorPipeline().launch(iterations=30, record=ports)
    on_dora = SensorPipeline().launch(transport="dora", iterations=30, record=ports, timeout=120)
    assert {k: on_dora.steps[k] for k in ("camera", "detector", "tracker")} == {
        "camera": 30, "detector": 30, "tracker": 30}
    _same_trace(native, on_dora, ports)


@pytest.mark.parametrize("mode", ["drop", "swap"])
def test_a_message_lost_or_reordered_under_the_runners_fails_the_run_naming_it(dora, monkeypatch, mode):
    # Dora itself is made to lose (or reorder) the 5th message between producer and
    # consumer: a plain Dora node is put on that edge in the compiled dataflow.
    from like_keras.transports.dora import launcher

    compile_dataflow = launcher.compile

    def with_relay(graph, out, **options):
        path = compile_dataflow(graph, out, **options)
        flow = yaml.safe_load(path.read_text())
        consumer = next(n for n in flow["nodes"] if n["id"] == "slow")
        edge = consumer["inputs"]["producer__out"]
        flow["nodes"].append({"id": "relay", "path": sys.executable,
                              "args": f"-u {ASSETS / 'lossy_relay.py'} {mode}",
                              "inputs": {"x": {**edge, "source": edge["source"]}}, "outputs": ["y"]})
        consumer["inputs"]["producer__out"] = {**edge, "source": "relay/y"}
        path.write_text(yaml.safe_dump(flow, sort_keys=False))
        return path

    monkeypatch.setattr(launcher, "compile", with_relay)
    with pytest.raises(RunError) as info:
        Flood().launch(transport="dora", iterations=50, timeout=60)
    err = info.value
    assert (err.node, err.component) == ("slow", "consumer")
    assert "Dora lost or reordered messages on producer.out -> consumer.x: expected message #5, got #6" in str(err)


def test_flow_control_keeps_a_slow_consumer_lossless(dora):
    # 15,000 messages as fast as the producer can send them into a consumer that takes
    # 0.5 ms each: without flow control Dora's backpressure queue (1,000) overflows past
    # 10x and drops; with it, nothing is lost.
    system = load_system(f"{SYSTEMS}:SlowFlood")
    result = system.launch(transport="dora", iterations=15_000, record=["consumer.y"], timeout=180)
    assert result.messages("consumer.y") == list(range(1, 15_001))


def test_big_arrays_take_the_direct_path_without_loss(dora, tmp_path):
    system = load_system(f"{SYSTEMS}:BigFlood")
    fast, slow = yaml.safe_load(system.compile_to_transport("dora", tmp_path).read_text())["nodes"]
    assert slow["inputs"]["producer__out"] == {"source": "fast/producer__out", "queue_size": 2,
                                               "queue_policy": "drop_oldest"}
    assert fast["inputs"]["lk_ack_slow"]["source"] == "slow/lk_ack"  # one 16 MB frame in flight at a time
    result = system.launch(transport="dora", iterations=300, record=["reader.y"], timeout=120)
    assert result.messages("reader.y") == [float(k) for k in range(1, 301)]  # none lost, in order


def test_timeout_stops_a_hanging_node(dora, tmp_path):
    system = load_system(f"{SYSTEMS}:Hanging")
    t0 = time.monotonic()
    with pytest.raises(RunTimeoutError, match="did not finish within timeout=2") as info:
        system.launch(transport="dora", timeout=2, run_dir=tmp_path, record=["ticker.out"])
    assert time.monotonic() - t0 < 10
    assert_names_the_hang(info.value)
    assert left_behind(tmp_path) == []  # dora run and every node process
    ticks = read_messages(info.value.recording)["ticker.out"]  # what the responsive node recorded
    assert len(ticks) > 20 and ticks == list(range(1, len(ticks) + 1))


def test_a_node_killed_while_dora_starts_the_dataflow_is_the_one_named(dora, tmp_path):
    """Node c dies before Dora has started it: its peers' Dora API fails to start too, saying
    so, and the run's error names c (it named the first peer to report)."""
    with pytest.raises(RunError) as info:
        load_system(f"{SYSTEMS}:DiesWhileStarting").launch(transport="dora", timeout=60, run_dir=tmp_path)
    assert info.value.node == "c" and "node 'c'" in str(info.value) and "died" in str(info.value), info.value
    assert left_behind(tmp_path) == []


def test_duration_stops_the_dataflow_cleanly(dora):
    system = load_system("like_keras_examples.throughput:Flood")  # would run forever without iterations
    result = system.launch(transport="dora", duration=1.0, timeout=30, record=["consumer.y"])
    got = result.messages("consumer.y")
    assert result.steps["producer"] > 100
    assert got == list(range(1, len(got) + 1))  # in order, none lost, none duplicated


def test_external_node_passes_through(dora):
    system = load_system(f"{SYSTEMS}:WithExternal")
    result = system.launch(transport="dora", iterations=20, record=["sink.y"], timeout=60)
    got = result.messages("sink.y")
    assert result.steps["ticker"] == 20
    assert len(got) >= 10 and got == [2.0 * k for k in range(1, len(got) + 1)]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(dora, tmp_path):
    """A Dora coordinator and two daemons (machines 'robot' and 'base'), all on loopback."""
    env = {**os.environ, "RUST_BACKTRACE": "0"}
    port = _free_port()
    with ExitStack() as stack:  # each stopped whole, also when the cluster does not come up
        procs = [stack.enter_context(processes.launched(
            [dora, "coordinator", "--interface", "127.0.0.1", "--port", str(port), "--store", "memory", "--quiet"],
            env=env, cwd=tmp_path))]
        z1, z2 = _free_port(), _free_port()
        for machine, listen, connect in (("robot", z1, z2), ("base", z2, z1)):
            wd = tmp_path / machine
            wd.mkdir()
            procs.append(stack.enter_context(processes.launched(
                [dora, "daemon", "--machine-id", machine, "--coordinator-addr", "127.0.0.1",
                 "--coordinator-port", str(port), "--local-listen-port", str(_free_port()),
                 "--zenoh-no-multicast", "--zenoh-listen", f"127.0.0.1:{listen}",
                 "--zenoh-connect", f"tcp/127.0.0.1:{connect}"],
                env=env, cwd=wd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
        status = ""
        for _ in range(200):
            status = processes.run([dora, "cluster", "status", "--coordinator-addr", "127.0.0.1",
                                    "--coordinator-port", str(port)], capture_output=True, text=True, env=env,
                                   timeout=30).stdout
            if "robot" in status and "base" in status:
                break
            time.sleep(0.1)
        assert "robot" in status and "base" in status, status
        yield {"address": f"127.0.0.1:{port}", "daemons": {"robot": procs[1].pid, "base": procs[2].pid}}
        processes.run([dora, "down", "--coordinator-addr", "127.0.0.1", "--coordinator-port", str(port)],
                      capture_output=True, env=env, timeout=30)


def test_two_machine_dataflow_runs_across_two_daemons(dora, cluster):
    system = load_system(f"{SYSTEMS}:TwoMachines")
    ports = ["env.obs", "env.reward", "agent.action"]
    result = system.launch(transport="dora", coordinator=cluster["address"], iterations=200, record=ports,
                           timeout=120)
    assert result.steps == {"env": 200, "agent": 201}
    flow = yaml.safe_load((result.run_dir / "dataflow.yml").read_text())
    assert [n["deploy"]["machine"] for n in flow["nodes"]] == ["robot", "base"]
    # Each daemon ran its own node: the node processes' parents.
    parents = {n: json.loads((result.run_dir / "pids" / f"{n}.json").read_text())["parent"] for n in ("sim", "control")}
    assert parents == {"sim": cluster["daemons"]["robot"], "control": cluster["daemons"]["base"]}
    native = load_system(f"{SYSTEMS}:TwoMachines").launch(iterations=200, record=ports)
    _same_trace(native, result, ports)


def test_cli_runs_and_compiles_on_dora(dora, tmp_path):
    lk = str(VENV_BIN / "lk")
    proc = processes.run([lk, "run", "like_keras_examples.cartpole:CartPole", "--transport", "dora",
                          "--iterations", "100", "--record", "env.reward", "--timeout", "60"],
                         capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ran on dora" in proc.stdout and "env 100, agent 101" in proc.stdout
    proc = subprocess.run([lk, "compile", "like_keras_examples.bandit:Bandit", "--transport", "dora",
                           "--out", str(tmp_path / "bandit")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    _validate(dora, tmp_path / "bandit" / "dataflow.yml")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_a_dora_run_cleanly(dora, tmp_path, sig):
    with processes.launched([str(VENV_BIN / "lk"), "run", "like_keras_examples.cartpole:CartPole",
                             "--transport", "dora", "--quiet", "--run-dir", str(tmp_path), "--record", "env.reward"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        wait_until_running(tmp_path, ["sim", "control"], proc)  # the cart-pole loop has no end of its own
        time.sleep(1.0)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err
    assert left_behind(tmp_path) == []
    rewards = read_messages(tmp_path / "recording")["env.reward"]  # the recording survives Ctrl-C
    assert set(rewards) <= {1.0}


def test_ros_catalog_messages_on_dora_have_the_native_trace(dora):
    trip = f"{ASSETS / 'catalog_trip.py'}:CatalogTrip"
    ports = [f"{name}.y" for name in ("scan", "odom", "image", "cloud", "imu", "tf", "markers")]
    native = load_system(trip).launch(iterations=40, record=ports)
    on_dora = load_system(trip).launch(transport="dora", iterations=40, record=ports, timeout=120)
    for port in ports:
        assert on_dora.messages(port) == native.messages(port), port


def test_a_module_that_is_not_installed_runs_on_a_dora_cluster(dora, cluster, tmp_path):
    # The daemons spawn the node processes: the launcher's environment never reaches them.
    code = tmp_path / "code"
    code.mkdir()
    options = f", coordinator={cluster['address']!r}"
    assert started_beside_the_system("-c", code, "dora", options, machines=True) == {"tick": 20, "sink": 20}


def test_messages_dora_drops_end_the_run_at_once_naming_the_overload(dora, tmp_path):
    # Nothing in Dora's node API says a message was dropped; its daemon's log does.
    system = load_system(f"{SYSTEMS}:Flooded")
    t0 = time.monotonic()
    with pytest.raises(RunError) as info:
        system.launch(transport="dora", duration=60, timeout=120, run_dir=tmp_path)
    assert time.monotonic() - t0 < 20  # not the 15 s the consumer would need for every message
    err = info.value
    assert err.node == "slow" and "Dora dropped messages for node 'slow', so the run was stopped" in str(err)
    assert "Backpressure input `flooder__out` hit hard cap" in str(err)
    assert left_behind(tmp_path) == []


def test_a_plain_dora_node_that_only_sends_does_not_end_a_run_before_it_starts(dora):
    # No timer, no iterations: the run lasts until the plain node's stream closes, every
    # message handled (the first like-keras node, not the plain one, runs the drain).
    result = load_system(f"{SYSTEMS}:Flooded", {"count": 300}).launch(transport="dora", timeout=60)
    assert result.steps == {"consumer": 300}


