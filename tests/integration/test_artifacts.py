"""What compile_to_transport writes travels: it runs on a machine that has only Python (and
ROS 2 for the ROS transport), here a simulated robot where this checkout and its venv do
not exist, and no generated file names a path of this machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from like_keras.transports.common.target import load_system

from conftest import ROOT, _missing, ros2_env
from robots import robots, unavailable

# A system as a new user writes one: a file beside a helper module of their own.
_SYSTEM = """
from like_keras import Component, Input, Node, Output, System

from helpers import double


class Count(Component):
    out = Output(int)
    rate_hz = 100.0

    def on_start(self):
        self.n = 0

    def step(self):
        self.n += 1
        return double(self.n)


class Total(Component):
    x = Input(int)
    total = Output(int)

    def on_start(self):
        self.sum = 0

    def step(self, x):
        self.sum += x
        return self.sum


class Counting(System):
    def __init__(self):
        self.count = Count.from_node(Node("counter"))
        self.total = Total.from_node(Node("adder"))
        self.connect(self.count.out, self.total.x)
        super().__init__(config=System.Config(name="counting"))
"""


@pytest.fixture
def user_code(tmp_path) -> Path:
    code = tmp_path / "mine"
    code.mkdir()
    (code / "systems.py").write_text(_SYSTEM)
    (code / "helpers.py").write_text("def double(n):\n    return 2 * n\n")
    return code


@pytest.fixture
def robot(tmp_path, user_code):
    """A robot where neither this checkout (with its venv) nor the user's code exists."""
    if reason := unavailable():
        _missing(reason)
    with robots(["robot"], tmp_path / "fleet", hide=[ROOT, user_code]) as fleet:
        assert fleet["robot"].ssh(f"ls {user_code}/systems.py {ROOT}/.venv").returncode != 0
        yield fleet["robot"]


def _machine_paths(tree: Path) -> list[str]:
    """Generated files that name this checkout or this venv."""
    needles = [str(ROOT), sys.prefix]
    found = []
    for f in tree.rglob("*"):
        if f.is_file() and f.suffix != ".whl":
            text = f.read_bytes()
            found += [f"{f}: {n}" for n in needles if n.encode() in text]
    return found


@pytest.mark.parametrize("transport", ["dora", "ros2"])
def test_no_generated_file_names_a_path_of_this_machine(user_code, tmp_path, transport):
    out = tmp_path / "out"
    load_system(f"{user_code}/systems.py:Counting").compile_to_transport(transport, out)
    assert _machine_paths(out) == []
    shipped = {p.name for p in out.rglob("*.py")}
    assert {"systems.py", "helpers.py"} <= shipped  # the system's own code travels


def test_the_dora_directory_runs_on_a_machine_with_only_python(user_code, robot, tmp_path):
    out = load_system(f"{user_code}/systems.py:Counting").compile_to_transport("dora", tmp_path / "flow").parent
    _ship(robot, out, "flow")
    proc = robot.ssh("cd flow && python3 -m venv .venv && .venv/bin/pip install -q --no-index --find-links wheels "
                     "-r requirements.txt && RUST_BACKTRACE=0 timeout 60 .venv/bin/dora run dataflow.yml "
                     "--stop-after 3s > run.log 2>&1; echo rc=$?; cat run.log", timeout=300)
    assert "rc=0" in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout


def test_the_ros2_workspace_builds_and_runs_on_a_machine_with_only_ros2_and_python(user_code, robot, tmp_path):
    ros2_env()
    system = load_system(f"{user_code}/systems.py:Counting")
    system.compile_to_transport("ros2", tmp_path / "ws" / "src")
    _ship(robot, tmp_path / "ws", "ws")
    app = "ws/src/counting_app"
    proc = robot.ssh(
        "python3 -m venv --system-site-packages env && env/bin/pip install -q --no-index "
        f"--find-links {app}/wheels -r {app}/requirements.txt && source /opt/ros/jazzy/setup.bash && cd ws && "
        "PATH=$HOME/env/bin:$PATH colcon build > build.log 2>&1 && source install/setup.bash && "
        "ros2 launch counting_bringup counting.launch.py iterations:=50 run_dir:=$HOME/run > launch.log 2>&1; "
        "echo rc=$?; tail -n 5 launch.log; cat $HOME/run/results/*.json", timeout=600)
    assert "rc=0" in proc.stdout, proc.stdout + proc.stderr
    assert '"count": 50' in proc.stdout and '"total": 50' in proc.stdout  # both nodes ran their 50 steps


def _ship(robot, local: Path, name: str) -> None:
    """Copy a tree to the robot's home the way a user would: rsync over ssh."""
    import subprocess

    shell = f"ssh -F {robot.ssh_config}"
    subprocess.run(["rsync", "-a", "-e", shell, f"{local}/", f"{robot.name}:{name}/"], check=True, timeout=300)
