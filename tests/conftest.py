"""Fixtures and small helpers for every test.

The tests mirror the code: tests/unit/<package path>/ holds one module's tests,
tests/contract/ the guarantees every transport keeps (one test each, parametrized over
the transports), tests/integration/ whole runs on one transport and the examples,
tests/fuzz/ the hypothesis tests, tests/assets/ the systems and components they run,
tests/mutation/ ``make mutants``. Every test folder is a package (two test files may
share a name); tests/ itself is not, so pytest puts it on sys.path and this file, the
assets and the helpers beside it (foxglove_client.py, ros_loopback.py) import by name."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import processes

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


# Every process this test run starts carries its mark: none may be left when it ends.
RUN_ID = f"{os.getpid()}-{time.time_ns()}"
os.environ[processes.MARK] = RUN_ID


def pytest_sessionfinish(session, exitstatus):
    """No process of this run's launches remains: each left one is named, killed, and
    fails the run (whatever the tests said)."""
    deadline = time.monotonic() + 5  # what the last test stopped may still be exiting
    while (found := processes.leftovers(RUN_ID)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not found:
        return
    report = session.config.pluginmanager.get_plugin("terminalreporter")
    report.write_line(f"\n{len(found)} processes of this test run were left running (now killed):", red=True)
    for pid, cmdline, cwd in found:
        report.write_line(f"  pid {pid} in {cwd}: {cmdline[:300]}", red=True)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


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


@pytest.fixture
def transport(request) -> str:
    """The transport a test runs on, given indirectly:
    ``@pytest.mark.parametrize("transport", ["native", "dora", "ros2"], indirect=True)``.
    On Dora or ROS 2 the test skips when the engine is absent (fails under CI=true)."""
    if request.param == "dora":
        tool("dora")
    elif request.param == "ros2":
        ros2_env()
    return request.param


ROS2_BUILD = 5  # seconds of colcon build before a ROS 2 run starts (ament_python packages only)


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


@pytest.fixture
def fleet(tmp_path):
    """Two simulated robots, "robot" and "base", each its own network namespace and sshd
    (tests/robots.py): ``fleet["robot"].ssh("ls")``, ``ssh -F fleet.ssh_config robot``.
    Skips without root or ``ip netns`` (fails under CI=true). Other fleets:
    ``with robots(names, tmp_path, **options)``."""
    from robots import robots, unavailable

    if reason := unavailable():
        _missing(reason)
    with robots(["robot", "base"], tmp_path) as fleet:
        yield fleet
