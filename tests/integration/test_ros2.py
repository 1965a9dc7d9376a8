"""The ROS 2 transport, live: ``launch(transport="ros2")`` and the generated packages on a
real ROS 2 (``/opt/ros/jazzy``): rclpy, ``ros2 launch``, ``ros2 run`` and the ros2 CLI.
Without ROS 2 these tests skip, saying how to get it; under CI=true they fail. What every
transport keeps is in tests/contract/."""

import json
import os
import signal
import subprocess
import threading
import time
from contextlib import ExitStack

import numpy as np
import pytest
import yaml

from like_keras.errors import RunError, RunTimeoutError
from like_keras.recording import read_messages, write_bag
from like_keras.transports.common.target import load_system
from like_keras_examples.bandit import Bandit
from like_keras_examples.cartpole import CartPole
from like_keras_examples.sensor_pipeline import SensorPipeline
from like_keras_ros.environment import sourced

import processes
from assets.bags import robot_bag, seconds_bag
from conftest import (
    ASSETS,
    ROS2_BUILD,
    SYSTEMS,
    VENV_BIN,
    assert_names_the_hang,
    left_behind,
    ros2_env,
    wait_until_running,
)

ROS_SYSTEMS = f"{ASSETS / 'ros_systems.py'}"
VIEWER = f"{ASSETS / 'viewer.py'}:Viewer"
CARTPOLE_PORTS = ["env.reward", "env.done", "agent.action"]


@pytest.fixture(scope="module")
def ros():
    return ros2_env()


@pytest.fixture(scope="module")
def cartpole_ws(ros, tmp_path_factory):
    """Cart-pole run once through launch(); its built workspace, sourced, for direct use."""
    run_dir = tmp_path_factory.mktemp("cartpole")
    CartPole(seed=3).launch(transport="ros2", iterations=20, run_dir=run_dir, timeout=120)
    return run_dir, sourced(ros, run_dir / "ws/install/setup.bash")


def _same(native, live, ports):
    for port in ports:
        got, expected = live.messages(port), native.messages(port)
        assert len(got) == len(expected) and all(
            np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b for a, b in zip(got, expected)), port


def _daemons():
    return subprocess.run(["pgrep", "-f", "_ros2_daemon"], capture_output=True, text=True).stdout.split()


# --- the same trace as native --------------------------------------------------------------


def test_cartpole_on_ros2_has_the_native_trace(ros):
    live = CartPole(seed=4).launch(transport="ros2", iterations=300, record=[*CARTPOLE_PORTS, "env.obs"],
                                   timeout=120)
    native = CartPole(seed=4).launch(iterations=300, record=[*CARTPOLE_PORTS, "env.obs"])
    assert live.transport == "ros2" and live.steps == native.steps == {"env": 300, "agent": 301}
    _same(native, live, CARTPOLE_PORTS)
    np.testing.assert_array_equal(np.stack(live.messages("env.obs")), np.stack(native.messages("env.obs")))
    log = (live.run_dir / "launch.log").read_text()
    assert "[ERROR]" not in log and "Traceback" not in log, log  # a clean end prints no error


def test_bandit_on_ros2_has_the_native_trace_every_time(ros):
    native = Bandit(seed=1).launch(iterations=200, record=["agent.arm", "env.reward"])
    for _ in range(3):  # it once crashed in 4 of 7 launches: a step before on_start
        live = Bandit(seed=1).launch(transport="ros2", iterations=200, record=["agent.arm", "env.reward"],
                                     timeout=120)
        assert live.steps == native.steps
        _same(native, live, ["agent.arm", "env.reward"])


def test_sensor_pipeline_in_simulated_time_on_ros2_is_the_native_trace_every_time(ros):
    """Multi-rate (a 30 Hz camera, a 10 Hz controller sampling the tracker) in lockstep:
    the same counts and values as natively, twice in a row; /clock carries the time."""
    ports = ["detector.detection", "tracker.track", "controller.cmd"]
    native = SensorPipeline().launch(iterations=30, record=ports)
    assert native.steps == {"camera": 30, "detector": 30, "tracker": 30, "controller": 9}
    for _ in range(2):
        live = SensorPipeline().launch(transport="ros2", iterations=30, record=ports, timeout=300)
        assert live.steps == native.steps
        _same(native, live, ports)  # Detection and Track travel as the generated interfaces' messages


def test_a_system_on_ros_time_follows_a_clock_from_outside(ros, tmp_path):
    """`ros2 launch ... use_sim_time:=true`: the timers step as /clock from outside moves
    (here 3 simulated seconds in about 0.6 wall seconds, then it stops) and not otherwise."""
    built = tmp_path / "built"
    SensorPipeline().launch(transport="ros2", iterations=3, run_dir=built, timeout=300)
    env = sourced(ros, built / "ws/install/setup.bash")
    run_dir = tmp_path / "run"
    launch = subprocess.Popen(["ros2", "launch", "sensor_pipeline_bringup", "sensor_pipeline.launch.py",
                               f"run_dir:={run_dir}", "use_sim_time:=true"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_until_running(run_dir, ["perception", "control"], launch)
        time.sleep(3)  # the nodes subscribe to /clock; until it comes, ROS time stands at 0
        clock = subprocess.run([str(VENV_BIN / "python"), str(ASSETS / "ros_clock.py"), "3.0"], env=env,
                               capture_output=True, text=True, timeout=60)
        assert clock.returncode == 0, clock.stderr
        time.sleep(2)  # /clock stands still: nothing more steps
    finally:
        processes.stop(launch, grace=30)
    steps = json.loads((run_dir / "results" / "perception.json").read_text())["steps"]
    assert 80 <= steps["camera"] <= 91, steps  # 30 Hz over 3 simulated seconds (a tick may fall between)


def test_a_system_on_ros_time_follows_ros2_bag_play_clock(ros, tmp_path):
    """`ros2 bag play --clock` as the source of /clock: a 3 s recording played into a
    system launched with `use_sim_time:=true` steps its 30 Hz camera for those 3 s of the
    bag's time, and stamps its images with it."""
    built = tmp_path / "built"
    SensorPipeline().launch(transport="ros2", iterations=3, run_dir=built, timeout=300)
    env = sourced(ros, built / "ws/install/setup.bash")
    bag = seconds_bag(tmp_path / "sim", 3.0)
    run_dir = tmp_path / "run"
    launch = subprocess.Popen(["ros2", "launch", "sensor_pipeline_bringup", "sensor_pipeline.launch.py",
                               f"run_dir:={run_dir}", "use_sim_time:=true", "record:=camera.image"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_until_running(run_dir, ["perception", "control"], launch)
        time.sleep(3)  # the nodes subscribe to /clock; until it comes, ROS time stands at 0
        play = subprocess.run(["ros2", "bag", "play", "--clock", "200", str(bag)], env=env, capture_output=True,
                              text=True, timeout=60)
        assert play.returncode == 0, play.stderr
        time.sleep(2)  # /clock stands still: nothing more steps
    finally:
        processes.stop(launch, grace=30)
    steps = json.loads((run_dir / "results" / "perception.json").read_text())["steps"]
    assert 80 <= steps["camera"] <= 92, steps  # 30 Hz over 3 s of the bag (a tick may fall between)
    from rosbags.highlevel import AnyReader

    from like_keras.transports.common.rundir import recording

    with AnyReader([recording(run_dir)]) as reader:  # the nodes' parts merged; log times: the images' stamps
        stamps = [t for _, t, _ in reader.messages()]
    start, end = 1_700_000_000 * 10**9, 1_700_000_003 * 10**9
    slack = 50 * 10**6  # the player's clock runs on a few ms past its last message before play ends
    assert stamps and all(start <= t <= end + slack for t in stamps), (stamps[:3], stamps[-3:])


def test_duration_ends_a_timer_driven_run_by_itself_losing_nothing(ros, tmp_path, monkeypatch):
    monkeypatch.setenv("LK_TEST_LOG", str(tmp_path))
    system = load_system(f"{ROS_SYSTEMS}:Chain")
    result = system.launch(transport="ros2", duration=2.0, record=["echo.y"], timeout=60)
    got = result.messages("echo.y")
    assert 50 <= result.steps["ticker"] <= 150  # 50 Hz for 2 s of wall-clock time
    assert got == list(range(1, result.steps["ticker"] + 1))  # everything sent was delivered, before on_stop
    assert (tmp_path / "echo").read_text() == "start\nstop\n"  # on_stop once, on a clean end


# --- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize("system", ["Chain", "ManagedChain"])  # ManagedChain: raised in the activate transition
def test_a_raise_in_on_start_ends_the_run_naming_it(ros, tmp_path, monkeypatch, system):
    monkeypatch.setenv("LK_TEST_FAILURE", "on_start")
    monkeypatch.setenv("LK_TEST_LOG", str(tmp_path))
    with pytest.raises(RunError) as info:
        load_system(f"{ROS_SYSTEMS}:{system}").launch(transport="ros2", timeout=60, run_dir=tmp_path / "run")
    err = info.value
    assert (err.node, err.component, err.step) == ("tail", "echo", None)
    assert "raised RuntimeError in on_start(): no sensor found" in str(err)
    assert 'raise RuntimeError("no sensor found")' in err.remote_traceback
    assert left_behind(tmp_path / "run") == []


def test_ros2_launch_exits_nonzero_when_a_node_fails_and_zero_on_a_clean_end(cartpole_ws, tmp_path):
    failing = tmp_path / "failing"
    with pytest.raises(RunError):
        load_system(f"{SYSTEMS}:Failing").launch(transport="ros2", timeout=60, run_dir=failing,
                                                 iterations=None)
    env = {**sourced(ros2_env(), failing / "ws/install/setup.bash"), "LK_TEST_FAILURE": "raise"}
    proc = processes.run(["ros2", "launch", "failing_bringup", "failing.launch.py"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "node worker of failing failed (exit code 1)" in proc.stdout + proc.stderr
    # A clean end: exit 0, and no node is reported dead (it was SIGINTed while exiting: -2).
    run_dir, env = cartpole_ws
    for _ in range(3):
        proc = processes.run(["ros2", "launch", "cartpole_bringup", "cartpole.launch.py", "iterations:=200"],
                             env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0 and "[ERROR]" not in out and "Traceback" not in out, out
        assert out.count("process has finished cleanly") == 2, out


def test_timeout_stops_a_hanging_node_and_leaves_no_process(ros, tmp_path):
    daemons = _daemons()
    t0 = time.monotonic()
    with pytest.raises(RunTimeoutError, match="did not finish within timeout=4") as info:
        # Real time: the ticker's node goes on while the other hangs (in simulated time the
        # clock would wait for the hung step, as the native loop does).
        load_system(f"{SYSTEMS}:Hanging").launch(transport="ros2", timeout=4, run_dir=tmp_path,
                                                 record=["ticker.out"], realtime=True)
    assert time.monotonic() - t0 < 4 + ROS2_BUILD + 10
    assert_names_the_hang(info.value)
    assert left_behind(tmp_path) == []
    ticks = read_messages(info.value.recording)["ticker.out"]  # what the responsive node recorded
    assert len(ticks) > 20 and ticks == list(range(1, len(ticks) + 1))
    assert _daemons() == daemons  # no ros2 daemon started either


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_a_ros2_run_cleanly(ros, tmp_path, sig):
    daemons = _daemons()
    with processes.launched([str(VENV_BIN / "lk"), "run", f"{ROS_SYSTEMS}:Chain", "--transport", "ros2",
                             "--quiet", "--run-dir", str(tmp_path), "--record", "echo.y"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "LK_TEST_LOG": str(tmp_path)}) as proc:
        deadline = time.monotonic() + 60
        while not (tmp_path / "echo").exists():  # running: on_start has run in the last node
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err
    assert left_behind(tmp_path) == []
    assert _daemons() == daemons
    assert (tmp_path / "echo").read_text() == "start\nstop\n"  # on_stop ran, once
    got = read_messages(tmp_path / "recording")["echo.y"]  # the recording survives Ctrl-C
    assert got == list(range(1, len(got) + 1))


# --- the fixes of a first live try ----------------------------------------------------------


def test_the_ready_barrier_waits_for_the_systems_own_peers(ros, tmp_path):
    # A foreign subscriber is on the topic before the launch, and the real peer comes up
    # 3 s late: counting subscribers, the first observation was lost and the run hung.
    echo = subprocess.Popen([str(VENV_BIN / "python"), str(ASSETS / "ros_echo.py"), "/late_peer/env/obs",
                             "std_msgs/msg/Float64MultiArray"], env=ros, stdout=subprocess.PIPE, text=True)
    run_dir = tmp_path / "run"
    try:
        assert echo.stdout.readline().strip() == "ready"
        live = load_system(f"{ROS_SYSTEMS}:LatePeer").launch(transport="ros2", iterations=100,
                                                             record=CARTPOLE_PORTS, timeout=30, run_dir=run_dir)
    except RunTimeoutError as exc:
        pytest.fail(f"the run hung: the first observation, sent before the late peer subscribed, was lost "
                    f"(the ready barrier did not wait for it): {exc}")
    finally:
        echo.kill()  # a foreign node: how it ends is not under test
        echo.wait(10)
    times = {n: json.loads((run_dir / "results" / f"{n}.json").read_text())["times"] for n in ("sim", "control")}
    assert times["sim"]["peers subscribed"] >= times["control"]["subscribed"], \
        f"sim started before its late peer subscribed: {times}"
    native = load_system(f"{ROS_SYSTEMS}:LatePeer").launch(iterations=100, record=CARTPOLE_PORTS)
    _same(native, live, CARTPOLE_PORTS)


def test_namespaces_isolate_two_systems_launched_at_once(ros):
    results = {}

    def run(ns):
        results[ns] = CartPole(seed=5).launch(transport="ros2", iterations=200, record=CARTPOLE_PORTS,
                                              timeout=120, namespace=ns)

    threads = [threading.Thread(target=run, args=(ns,)) for ns in ("robot_a", "robot_b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    native = CartPole(seed=5).launch(iterations=200, record=CARTPOLE_PORTS)
    assert sorted(results) == ["robot_a", "robot_b"]
    for live in results.values():
        _same(native, live, CARTPOLE_PORTS)


def test_ros2_run_gives_the_launch_files_topics_and_trace(cartpole_ws, tmp_path):
    _, env = cartpole_ws
    params = ["-p", "like_keras.iterations:=150", "-p", f"like_keras.run_dir:={tmp_path}",
              "-p", "like_keras.record:=" + ",".join(CARTPOLE_PORTS)]
    with ExitStack() as stack:
        procs = [stack.enter_context(processes.launched(["ros2", "run", "cartpole_bringup", node, "--ros-args",
                                                         *params], env=env, stdout=subprocess.PIPE,
                                                        stderr=subprocess.STDOUT, text=True))
                 for node in ("sim", "control")]
        for p in procs:
            out, _ = p.communicate(timeout=60)
            assert p.returncode == 0, out
    live = read_messages(write_bag(sorted((tmp_path / "rec").glob("*.mcap")), tmp_path / "all"))
    native = CartPole(seed=3).launch(iterations=150, record=CARTPOLE_PORTS)  # as compiled
    for port in CARTPOLE_PORTS:
        assert live[port] == native.messages(port), port


def test_respawn_restarts_a_failed_node_and_the_launch_goes_on(ros, tmp_path, monkeypatch):
    monkeypatch.setenv("LK_TEST_FAILURE", "raise")
    with pytest.raises(RunError):
        load_system(f"{SYSTEMS}:Failing").launch(transport="ros2", timeout=60, run_dir=tmp_path)
    env = sourced(ros, tmp_path / "ws/install/setup.bash")
    log = tmp_path / "respawn.log"
    with open(log, "w") as out, processes.launched(
            ["ros2", "launch", "failing_bringup", "failing.launch.py", "respawn:=true"], env=env, stdout=out,
            stderr=subprocess.STDOUT) as launch:
        deadline = time.monotonic() + 60
        while log.read_text().count("[worker-2]: process started") < 2:  # failed, then started again
            assert launch.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        time.sleep(1)
        assert launch.poll() is None  # the launch runs on; Ctrl-C ends it
    assert "failed (exit code" not in log.read_text()  # with respawn, a failure ends nothing


# --- as a ROS developer uses it ---------------------------------------------------------


def test_the_ros2_cli_sees_and_tunes_a_running_system(ros, tmp_path):
    built = tmp_path / "built"
    SensorPipeline().launch(transport="ros2", iterations=3, run_dir=built, timeout=300)
    env = sourced(ros, built / "ws/install/setup.bash")  # as a ROS developer sources the workspace
    run_dir = tmp_path / "run"
    log = tmp_path / "launch.log"
    daemons = _daemons()
    with open(log, "w") as out:
        launch = subprocess.Popen(["ros2", "launch", "sensor_pipeline_bringup", "sensor_pipeline.launch.py",
                                   f"run_dir:={run_dir}", "record:=controller.cmd"], env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)

    def ros2(*args, timeout=30):
        proc = subprocess.run(["ros2", *args], env=env, capture_output=True, text=True, timeout=timeout)
        return proc.returncode, proc.stdout + proc.stderr

    try:
        wait_until_running(run_dir, ["perception", "control"], launch)
        rc, out = ros2("node", "list")
        assert rc == 0 and {"/perception", "/control"} <= set(out.split()), out
        rc, out = ros2("topic", "list", "-t")
        assert "/sensor_pipeline/detector/detection [sensor_pipeline_interfaces/msg/Detection]" in out, out
        assert "_lk" not in out  # the drain's control topics are hidden
        rc, out = ros2("topic", "echo", "--once", "/sensor_pipeline/detector/detection")
        assert rc == 0 and "pixels: 400" in out, out  # the 20x20 square the camera draws
        proc = subprocess.run(["timeout", "-s", "INT", "6", "ros2", "topic", "hz",
                               "/sensor_pipeline/detector/detection"], env=env, capture_output=True, text=True)
        rates = [float(line.split(":")[1]) for line in proc.stdout.splitlines() if "average rate" in line]
        assert rates and 20 < rates[-1] < 40, proc.stdout  # the 30 Hz camera
        rc, out = ros2("param", "list", "/perception")
        assert {"camera.rate_hz", "camera.size", "like_keras.iterations"} <= set(out.split()), out
        assert ros2("param", "get", "/perception", "camera.size")[1].strip() == "Integer value is: 20"
        rc, out = ros2("param", "set", "/control", "like_keras.iterations", "5")
        assert "Setting parameter failed: like_keras.iterations is fixed for a run" in out, out
        rc, out = ros2("param", "set", "/control", "controller.rate_hz", "50.0")
        assert "Setting parameter failed: controller.rate_hz is fixed for a run" in out, out
        rc, out = ros2("param", "set", "/control", "controller.gain", "zero")
        assert "Setting parameter failed" in out, out  # ROS keeps the declared type
        rc, out = ros2("param", "set", "/control", "controller.gain", "0.0")
        assert rc == 0 and "Set parameter successful" in out, out
        time.sleep(0.5)  # a few 10 Hz controller steps with the new gain
    finally:
        processes.stop(launch, grace=30)  # Ctrl-C: nodes drain and end cleanly
        subprocess.run(["ros2", "daemon", "stop"], env=env, capture_output=True, timeout=30)
    text = log.read_text()
    assert launch.returncode == 0 and "[ERROR]" not in text, text
    assert sorted(p.name for p in (run_dir / "results").iterdir()) == ["control.json", "perception.json"]
    cmds = read_messages(write_bag(sorted((run_dir / "rec").glob("*.mcap")), tmp_path / "all"))["controller.cmd"]
    assert np.abs(cmds[1]).sum() > 0 and np.abs(cmds[-1]).sum() == 0  # the new gain reached the component
    assert _daemons() == daemons


def test_two_launches_one_per_machine_run_the_native_trace(ros, tmp_path):
    # Built once as a single-machine run; then one `ros2 launch` per machine, as on two robots.
    system = load_system(f"{SYSTEMS}:TwoMachines")
    system.launch(transport="ros2", iterations=5, run_dir=tmp_path / "built", timeout=120)
    env = sourced(ros, tmp_path / "built/ws/install/setup.bash")
    run_dir = tmp_path / "run"
    common = ["iterations:=200", f"run_dir:={run_dir}", "record:=" + ",".join(CARTPOLE_PORTS)]
    machines = [["machine_robot:=true", "machine_base:=false"], ["machine_robot:=false", "machine_base:=true"]]
    with ExitStack() as stack:
        procs = [stack.enter_context(processes.launched(
            ["ros2", "launch", "two_machines_bringup", "two_machines.launch.py", *m, *common], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)) for m in machines]
        outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert "[sim-1]: process started" in outs[0] and "control" not in outs[0]  # each launch ran its node
    assert "[control-1]: process started" in outs[1] and "sim" not in outs[1]
    live = read_messages(write_bag(sorted((run_dir / "rec").glob("*.mcap")), tmp_path / "all"))
    native = system.launch(iterations=200, record=CARTPOLE_PORTS)
    for port in CARTPOLE_PORTS:
        assert live[port] == native.messages(port), port


def test_ros_messages_work_with_this_pythons_numpy(ros):
    # ROS's message modules are compiled against numpy 1.x headers; nodes run this interpreter.
    code = """
import numpy as np
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image, Imu
from std_msgs.msg import Float32MultiArray
imu = Imu()
imu.orientation_covariance = np.arange(9, dtype=np.float64)
arr = Float32MultiArray(data=np.linspace(0, 1, 1000, dtype=np.float32))
img = Image(height=2, width=3, encoding='rgb8', step=9, data=bytes(range(18)))
for msg in (imu, arr, img):
    back = deserialize_message(serialize_message(msg), type(msg))
    assert back == msg, type(msg)
print(np.__version__, type(deserialize_message(serialize_message(imu), Imu).orientation_covariance).__name__)
"""
    proc = subprocess.run([str(VENV_BIN / "python"), "-c", code], env=ros, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    version, kind = proc.stdout.split()
    assert version == np.__version__ and kind == "ndarray"


def test_lk_run_on_ros2(ros):
    proc = processes.run([str(VENV_BIN / "lk"), "run", "like_keras_examples.cartpole:CartPole", "--transport",
                          "ros2", "--iterations", "100", "--record", "env.reward", "--timeout", "120"],
                         capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "ran on ros2" in proc.stdout and "env 100, agent 101" in proc.stdout


# --- ROS nodes like-keras did not write -----------------------------------------------------


def test_ros_nodes_like_keras_did_not_write_feed_a_system_and_read_it(ros):
    # A plain rclpy node publishes 1..50 on /numbers and listens on /doubled; the system
    # (one input with topic="/numbers", one output with topic="/doubled", no clock) runs
    # for its duration. Then `ros2 topic pub --times 5` reaches it too.
    talker = subprocess.Popen([str(VENV_BIN / "python"), str(ASSETS / "ros_talker.py"), "50"], env=ros,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = {}

    def pub():
        talker.wait(60)
        done["pub"] = subprocess.run(["ros2", "topic", "pub", "--times", "5", "-r", "20", "-w", "1", "/numbers",
                                      "std_msgs/msg/Int64", "{data: 7}"], env=ros, capture_output=True, text=True,
                                     timeout=60)

    thread = threading.Thread(target=pub)
    thread.start()
    try:
        result = load_system(f"{ROS_SYSTEMS}:FedFromOutside").launch(transport="ros2", duration=15,
                                                                    record=["doubler.y"], timeout=90)
    finally:
        thread.join(90)
        subprocess.run(["ros2", "daemon", "stop"], env=ros, capture_output=True, timeout=30)
    out, err = talker.communicate(timeout=10)
    assert out.split() == [str(2 * n) for n in range(1, 51)], err  # all of them, in order
    assert done["pub"].returncode == 0, done["pub"].stderr
    assert result.messages("doubler.y") == [2 * n for n in range(1, 51)] + [14] * 5
    assert result.steps == {"doubler": 55}


def test_iterations_count_the_steps_of_a_clock_fed_from_outside(ros):
    talker = subprocess.Popen([str(VENV_BIN / "python"), str(ASSETS / "ros_talker.py"), "30"], env=ros,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        result = load_system(f"{ROS_SYSTEMS}:CountedFromOutside").launch(transport="ros2", iterations=30,
                                                                        record=["doubler.y"], timeout=90)
    finally:
        talker.communicate(timeout=60)
    assert result.steps == {"doubler": 30}  # it ended by itself after 30 messages
    assert result.messages("doubler.y") == [2 * n for n in range(1, 31)]


# --- the ROS catalog and recordings ----------------------------------------------------------


def test_ros_catalog_messages_are_the_real_ros_types_with_the_native_trace(ros, tmp_path):
    trip = f"{ASSETS / 'catalog_trip.py'}:CatalogTrip"
    ports = [f"{name}.y" for name in ("scan", "odom", "image", "cloud", "imu", "tf", "markers")]
    echo = subprocess.Popen(["ros2", "topic", "echo", "--once", "/catalog_trip/source/scan",
                             "sensor_msgs/msg/LaserScan"], env=ros, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        live = load_system(trip).launch(transport="ros2", iterations=200, record=ports, run_dir=tmp_path,
                                        timeout=120)
        out, err = echo.communicate(timeout=30)
    finally:
        echo.kill()
        subprocess.run(["ros2", "daemon", "stop"], env=ros, capture_output=True, timeout=30)
    assert "frame_id: base_link" in out and "range_max: 8.0" in out, err  # a plain ROS subscriber of that type
    assert not (tmp_path / "ws" / "src" / "catalog_trip_interfaces").exists()  # no interfaces package needed
    native = load_system(trip).launch(iterations=200, record=ports)
    for port in ports:
        assert live.messages(port) == native.messages(port), port


def test_a_robots_bag_replays_on_ros2_at_its_times(ros, tmp_path):
    from like_keras import Replay

    offsets = robot_bag(tmp_path / "robot")
    result = load_system(VIEWER).launch(transport="ros2", replay={"camera": Replay(
        tmp_path / "robot", topics={"image": "/camera/image_raw"})}, record=["brightness.mean"], timeout=120)
    assert result.steps == {"camera": 5, "brightness": 5}
    assert result.messages("brightness.mean") == [1.0, 11.0, 21.0, 31.0, 41.0]
    from rosbags.highlevel import AnyReader

    with AnyReader([result.recording]) as reader:  # by the wall clock: to within a few milliseconds
        times = [t for _, t, _ in reader.messages()]
    assert all(abs((t - times[0]) - o) < 20_000_000 for t, o in zip(times, offsets)), (times, offsets)


def test_plain_ros_tools_read_the_cameras_stamps_and_frame(ros):
    """A plain rclpy node and `ros2 topic echo` get a camera's images stamped with their
    steps' times (as in the bag, where they are the log times) and framed 'camera', and the
    camera's mount on /tf_static, sent once at start."""
    from assets.stamps import Stamped

    topic = "/stamped/poses/image"
    listener = subprocess.Popen([str(VENV_BIN / "python"), str(ASSETS / "ros_image_stamps.py"), topic, "20"],
                                env=ros, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    echoed = {}

    def echo():
        time.sleep(ROS2_BUILD + 2)
        echoed["out"] = subprocess.run(["ros2", "topic", "echo", "--once", "--field", "header", topic], env=ros,
                                       capture_output=True, text=True, timeout=60).stdout
        echoed["tf_static"] = subprocess.run(  # sent once at start, latched: as tf2's static broadcaster does
            ["ros2", "topic", "echo", "--once", "--qos-durability", "transient_local", "--qos-reliability",
             "reliable", "/tf_static", "tf2_msgs/msg/TFMessage"], env=ros, capture_output=True, text=True,
            timeout=60).stdout

    thread = threading.Thread(target=echo)
    thread.start()
    try:
        result = Stamped().launch(transport="ros2", iterations=200, record=["poses.image"], timeout=300,
                                  realtime=True)  # live, at 20 Hz, while the ROS tools look
    finally:
        thread.join(90)
        out, err = listener.communicate(timeout=90)
        subprocess.run(["ros2", "daemon", "stop"], env=ros, capture_output=True, timeout=30)
    heard = [line.split() for line in out.splitlines()]
    assert len(heard) == 20 and {frame for _, _, frame in heard} == {"camera"}, out + err
    stamps = [int(sec) * 10**9 + int(nsec) for sec, nsec, _ in heard]
    assert stamps[0] > 0 and stamps == sorted(set(stamps)), stamps
    from rosbags.highlevel import AnyReader

    with AnyReader([result.recording]) as reader:
        bag = {t: reader.deserialize(raw, c.msgtype).header for c, t, raw in reader.messages()}
    assert all(t in bag for t in stamps)  # what ROS nodes read is what was recorded, at those times
    assert {(h.stamp.sec * 10**9 + h.stamp.nanosec, h.frame_id) for h in bag.values()} == {
        (t, "camera") for t in bag}
    assert "frame_id: camera" in echoed["out"] and "sec: 0\n" not in echoed["out"], echoed["out"]
    assert "frame_id: base_link" in echoed["tf_static"] and "child_frame_id: camera" in echoed["tf_static"], echoed


def test_a_latched_output_reaches_a_subscriber_that_comes_later(ros):
    """The map is sent once, at start; `ros2 topic echo` started 2 s later still gets it
    (transient local), as it would from map_server."""
    echoed = {}

    def late():
        time.sleep(ROS2_BUILD + 4)
        echoed["map"] = subprocess.run(
            ["ros2", "topic", "echo", "--once", "--qos-durability", "transient_local", "--qos-reliability",
             "reliable", "/latched/server/map", "std_msgs/msg/String"], env=ros, capture_output=True, text=True,
            timeout=60)
        echoed["info"] = subprocess.run(["ros2", "topic", "info", "--verbose", "/latched/server/map"], env=ros,
                                        capture_output=True, text=True, timeout=60).stdout

    thread = threading.Thread(target=late)
    thread.start()
    try:
        load_system(f"{ROS_SYSTEMS}:Latched").launch(transport="ros2", duration=12, timeout=90, realtime=True)
    finally:
        thread.join(90)
        subprocess.run(["ros2", "daemon", "stop"], env=ros, capture_output=True, timeout=30)
    assert echoed["map"].returncode == 0 and "data: the map" in echoed["map"].stdout, echoed["map"]
    publisher = echoed["info"].split("Subscription count")[0]
    assert "TRANSIENT_LOCAL" in publisher and "KEEP_LAST (1)" in publisher and "RELIABLE" in publisher, publisher


def test_the_parameter_file_overrides_the_qos_of_a_topic_facing_outside(ros, tmp_path):
    """qos_overrides in the generated parameter file, as rclpy reads them: an integrator's
    edit of /status's publisher shows in `ros2 topic info --verbose`."""
    built = tmp_path / "built"
    load_system(f"{ROS_SYSTEMS}:Latched").launch(transport="ros2", iterations=3, run_dir=built, timeout=300)
    config = built / "ws/install/latched_bringup/share/latched_bringup/config/latched.yaml"
    params = yaml.safe_load(config.read_text())
    status = params["/**/server"]["ros__parameters"]["qos_overrides"]["/status"]["publisher"]
    assert status == {"reliability": "reliable", "history": "keep_all", "depth": 1000, "durability": "volatile"}
    status.update(history="keep_last", depth=7, reliability="best_effort")
    config.write_text(yaml.safe_dump(params))
    env = sourced(ros, built / "ws/install/setup.bash")
    run_dir = tmp_path / "run"
    launch = subprocess.Popen(["ros2", "launch", "latched_bringup", "latched.launch.py", f"run_dir:={run_dir}"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        wait_until_running(run_dir, ["server", "reader"], launch)
        info = subprocess.run(["ros2", "topic", "info", "--verbose", "/status"], env=env, capture_output=True,
                              text=True, timeout=60).stdout
    finally:
        processes.stop(launch, grace=30)
        subprocess.run(["ros2", "daemon", "stop"], env=env, capture_output=True, timeout=30)
    assert "KEEP_LAST (7)" in info and "BEST_EFFORT" in info, info


def test_keep_last_is_sensor_data_qos_and_a_reliable_publisher_reaches_it(ros):
    talker = subprocess.Popen([str(VENV_BIN / "python"), str(ASSETS / "ros_talker.py"), "50"], env=ros,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    info = {}

    def look():  # while the system runs: how its subscription is offered
        time.sleep(ROS2_BUILD + 3)
        info["qos"] = subprocess.run(["ros2", "topic", "info", "-v", "/numbers"], env=ros, capture_output=True,
                                     text=True, timeout=30).stdout

    thread = threading.Thread(target=look)
    thread.start()
    try:
        result = load_system(f"{ROS_SYSTEMS}:SensorFed").launch(transport="ros2", duration=15,
                                                               record=["doubler.y"], timeout=90)
    finally:
        thread.join(60)
        talker.communicate(timeout=30)
        subprocess.run(["ros2", "daemon", "stop"], env=ros, capture_output=True, timeout=30)
    got = result.messages("doubler.y")
    assert got and got == sorted(set(got)) and set(got) <= {2 * n for n in range(1, 51)}  # some may drop
    subscriber = info["qos"].split("Subscription count")[1]
    assert "BEST_EFFORT" in subscriber and "KEEP_LAST (5)" in subscriber, info["qos"]


def test_a_lifecycle_node_is_driven_through_its_states_by_a_plain_rclpy_client(ros, tmp_path):
    """`ros2 launch ... autostart:=false`: the lifecycle node 'tail' waits unconfigured (as
    `ros2 lifecycle get` says) while its peer 'head' already counts. A plain rclpy client
    configures it (nothing steps yet), activates it (on_start, then what waited steps, from
    the first number), deactivates it (on_stop; nothing steps), activates it again (nothing
    lost) and shuts it down: the whole run drains and `ros2 launch` ends by itself, exit 0."""
    built, run_dir, log = tmp_path / "built", tmp_path / "run", tmp_path / "log"
    load_system(f"{ROS_SYSTEMS}:ManagedChain").launch(transport="ros2", iterations=3, run_dir=built, timeout=300)
    log.mkdir()
    env = {**sourced(ros, built / "ws/install/setup.bash"), "LK_TEST_LOG": str(log)}
    launch = subprocess.Popen(["ros2", "launch", "managed_chain_bringup", "managed_chain.launch.py",
                               "autostart:=false", f"run_dir:={run_dir}"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_until_running(run_dir, ["head", "tail"], launch)
        state = subprocess.run(["ros2", "lifecycle", "get", "/tail"], env=env, capture_output=True, text=True,
                               timeout=60)
        client = subprocess.run([str(VENV_BIN / "python"), str(ASSETS / "ros_lifecycle_client.py"), "/tail",
                                 "configure", "activate", "deactivate", "activate", "shutdown"], env=env,
                                capture_output=True, text=True, timeout=120)
        out, _ = launch.communicate(timeout=60)
    finally:
        processes.stop(launch, grace=30)
        subprocess.run(["ros2", "daemon", "stop"], env=env, capture_output=True, timeout=30)
    assert state.stdout.startswith("unconfigured [1]"), state
    assert client.returncode == 0, client.stderr
    steps = [json.loads(line) for line in client.stdout.splitlines()]
    assert [(s["transition"], s["success"], s["events"], s["state"]) for s in steps] == [
        ("", None, [], "unconfigured"),
        ("configure", True, ["configuring", "inactive"], "inactive"),
        ("activate", True, ["activating", "active"], "active"),
        ("deactivate", True, ["deactivating", "inactive"], "inactive"),
        ("activate", True, ["activating", "active"], "active"),
        ("shutdown", True, ["shuttingdown", "finalized"], None),  # None: the node is gone
    ]
    assert steps[0]["later"] == steps[1]["later"] == steps[3]["later"] == [], steps  # not active: no step
    first, again = steps[2]["echoed"], steps[4]["echoed"]
    assert first[:1] == [1] and len(first) > 20 and again[0] > first[-1], steps
    every = [n for s in steps for n in s["echoed"]]
    assert every == list(range(1, every[-1] + 1)), steps  # in order, none lost, none twice
    assert (log / "echo").read_text().split() == ["start", "stop", "start", "stop"]
    assert launch.returncode == 0, out
    assert "[tail-2]: process has finished cleanly" in out and "[head-1]: process has finished cleanly" in out

