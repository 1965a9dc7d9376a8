"""Shared test helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
ASSETS = Path(__file__).resolve().parent / "assets"  # systems and components the tests run
SYSTEMS = str(ASSETS / "systems.py")  # its systems, as targets: f"{SYSTEMS}:Failing"
IN_CI = os.environ.get("CI", "").lower() == "true"

@pytest.fixture(autouse=True, scope="session")
def _run_dirs_under_pytests_own_tmp(tmp_path_factory):
    """A run given no run_dir keeps its files in a new temporary folder: in the tests, one
    under pytest's own, which pytest prunes (a camera's recording is tens of MB, and
    /tmp filled up with them)."""
    previous = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("runs"))
    yield
    tempfile.tempdir = previous


# ROS 2 traffic of the tests stays on this machine and off the default domain.
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_DOMAIN_ID", "73")


def tool(name: str) -> str:
    """Path of a command-line tool; fails (not skips) under CI=true when it is absent."""
    found = shutil.which(name, path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found:
        return found
    _missing(f"'{name}' is not installed: run `make setup`")


def ros2_env() -> dict[str, str]:
    """The environment of a sourced ROS 2 (found as the ros2 transport finds it); fails
    (not skips) under CI=true when there is none."""
    from like_keras.errors import TransportError
    from like_keras_ros.environment import ros_environment

    try:
        return dict(ros_environment())
    except TransportError as exc:
        _missing(f"no ROS 2 here ({exc}). In this repository `sudo bash ../shared/ros2/install.sh` "
                 f"installs ROS 2 Jazzy at /opt/ros/jazzy")


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


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


def assert_names_the_hang(err) -> None:
    """A RunTimeoutError from ``assets/systems.py:Hanging``: the node, the component and the
    step that never returned, and the user's line it was stuck on."""
    assert (err.node, err.component, err.step) == ("b", "hang", 1)
    assert "node 'b' was busy in component 'hang', step 1 (File " in str(err)
    assert "systems.py\", line " in str(err) and ", in step)" in str(err)


def left_behind(marker) -> list[str]:
    """Processes whose command line names ``marker`` (a run's own directory), this one
    aside: what a run left running. Other runs on the machine do not count."""
    out = subprocess.run(["pgrep", "-af", str(marker)], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if not line.startswith(f"{os.getpid()} ") and "pgrep" not in line]


def wait_until_running(run_dir, nodes, proc, seconds: float = 60) -> None:
    """Until every node in ``nodes`` wrote its pid in ``run_dir`` (``proc`` must stay alive)."""
    import time

    deadline = time.monotonic() + seconds
    while not all((run_dir / "pids" / f"{n}.json").exists() for n in nodes):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)


FAILURES = ["step", "kill", "hang", "on_start", "on_stop"]


def failed_run_keeps_its_recording(launch, how: str, monkeypatch, seconds_lost: float = 1.0) -> None:
    """``assets/systems.py:Chronicle`` failing as ``how`` says: the run raises a RunError
    whose ``.recording`` is a bag with everything both nodes sent before the failure (a
    process killed with kill -9, or killed hung at the timeout, loses at most its last
    ``seconds_lost``). ``launch(system, **options)`` runs it on one transport."""
    from like_keras.errors import RunError, RunTimeoutError
    from like_keras.recording import read_messages
    from like_keras.transports.common.target import load_system

    monkeypatch.setenv("LK_TEST_FAILURE", how)
    system = load_system(f"{SYSTEMS}:Chronicle")
    options = {"iterations": 80} if how == "on_stop" else {"timeout": 4 if how == "hang" else 60}
    with pytest.raises(RunTimeoutError if how == "hang" else RunError) as info:
        launch(system, record=["ticker.out", "victim.seen"], **options)
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


def overload_ends_by_itself_losing_nothing(transport: str) -> None:
    """A 100 kHz timer (far faster than its node steps) for 20,000 iterations, into another
    node: the run ends by itself, the late ticks fired once each (never queued up), and
    every message arrives, in order. Before the Dora runner kept its timers itself, Dora's
    daemon flooded, dropped events and the run hung."""
    from like_keras.transports.common.target import load_system

    system = load_system(f"{SYSTEMS}:Overload")
    result = system.launch(transport=transport, iterations=20_000, record=["consumer.y"], timeout=180)
    assert result.steps["ticker"] == 20_000
    assert result.messages("consumer.y") == list(range(1, 20_001))


def killed_node_ends_the_run(transport: str, node: str, run_dir: Path) -> None:
    """``kill -9`` of ``node`` of ``assets/systems.py:Line`` at a random moment of its run:
    within 10 s the launch raises a RunError naming that node, and no process of the run is
    left (checked against the process table)."""
    import random
    import signal
    import threading
    import time

    from like_keras.errors import RunError
    from like_keras.transports.common.target import load_system

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
    import json

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


def duration_ends_a_busy_node_losing_nothing(transport: str) -> None:
    """``duration`` on the throughput flood, whose producer's node is never idle: the clock
    stops at the end of the duration and every message sent arrives. (On Dora the busy
    node never looked at its deadline: the launcher stopped the run and the messages in
    flight were lost without a word.)"""
    from like_keras_examples.throughput import Flood

    result = Flood().launch(transport=transport, duration=1.0, timeout=120, record=["producer.out", "consumer.y"])
    sent, got = result.messages("producer.out"), result.messages("consumer.y")
    assert len(sent) > 100 and got == sent == list(range(1, len(sent) + 1))


def flood_keeps_memory_bounded(transport: str, run_dir: Path, seconds: float = 60.0) -> dict[str, int]:
    """``assets/systems.py:MegaFlood`` for ``seconds``: 1 MB arrays as fast as the producer
    can make them into a consumer taking 5 ms each. Lossless must mean backpressure, not a
    queue that grows: every message arrives, in order, and the resident memory of every
    process of the run (sampled from /proc twice a second) is no higher in the second half
    of the run than in the first. Returns each process's peak, in MB."""
    import threading
    import time

    from like_keras.transports.common.target import load_system

    samples: list[tuple[float, dict[str, int]]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            rss = {}
            for line in left_behind(run_dir):  # every process of this run, by its command line
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
        result = system.launch(transport=transport, duration=seconds, timeout=seconds + 120, run_dir=run_dir,
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
    return peaks


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
'''
RUN = ("import json\nfrom my_robot import S\n"
       "r = S().launch(transport={transport!r}, iterations=20, timeout=120{options})\n"
       "print('STEPS', json.dumps(r.steps))\n")


def started_beside_the_system(how: str, folder: Path, transport: str, options: str = "",
                              machines: bool = False) -> dict:
    """Steps of a run of ``my_robot.py`` (written in ``folder``, not installed), launched
    by a program in ``folder`` that Python runs ``how``: ``script``, ``-c``, ``stdin``
    or ``-m``, without PYTHONPATH."""
    import json

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
