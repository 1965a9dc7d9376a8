"""ROS 2 across machines, for ``like_keras.deploy``: what a release holds, and how a run
starts and stops.

A release is a colcon workspace (``ws/src``: the self-contained packages of
``compile``), built on the machine with the colcon of its venv. A run is one ``ros2
launch`` per machine of the same launch file, with ``machine_<name>:=true`` for its own
nodes only, on one ``ROS_DOMAIN_ID``; the nodes find each other by DDS discovery on the
machines' network (``ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET``).
"""

from __future__ import annotations

import os
import random
import shlex
from pathlib import Path

from like_keras.graph.ir import SystemGraph
from like_keras.transports.common.artifact import portable
from like_keras.transports.common.options import RunOptions
from like_keras_ros.app import app_name
from like_keras_ros.bringup import bringup_name
from like_keras_ros.compiler import compile

NEEDS_ROS = True
SYSTEM_SITE = True  # ROS 2's own Python packages (rclpy's dependencies) come from the OS
WORKSPACE = "ws"
_SOURCE_ROS = 'for s in /opt/ros/*/setup.bash; do ros="$s"; done; source "$ros"'


def requirements(graph: SystemGraph) -> tuple[str, str]:
    """Where a release keeps its requirements file and its wheels."""
    app = f"{WORKSPACE}/src/{app_name(graph)}"
    return f"{app}/requirements.txt", f"{app}/wheels"


def artifact(graph: SystemGraph, out: Path) -> None:
    """Write a release into the empty directory ``out``."""
    compile(graph, out / WORKSPACE / "src")


def build_script(release: str) -> str | None:
    """colcon build of the release's workspace, with the colcon of its venv."""
    ws = shlex.quote(f"{release}/{WORKSPACE}")
    venv = shlex.quote(f"{release}/.venv/bin")
    return (f"set -e; {_SOURCE_ROS}; cd {ws}; export PATH={venv}:$PATH; "
            f"colcon build --event-handlers console_direct- --cmake-args -DBUILD_TESTING=OFF > colcon.log 2>&1 "
            f"|| {{ tail -n 30 colcon.log; exit 1; }}")


def service_command(graph: SystemGraph, machine: str, machines: list[str]) -> tuple[dict[str, str], str, list[str]]:
    """(files for the release, shell set-up, argv) of the machine's part as a service: its
    nodes, unbounded, on the ``ROS_DOMAIN_ID`` of the deploying shell (0 by default).
    ``"$here"`` in the set-up is the release's folder."""
    domain = int(os.environ.get("ROS_DOMAIN_ID") or 0)
    setup, argv = _launch(portable(graph), machine, machines, '"$here"', {}, domain)
    return {}, setup, argv


def _launch(graph: SystemGraph, machine: str, machines: list[str], release: str, args: dict[str, object],
            domain: int) -> tuple[str, list[str]]:
    """``ros2 launch`` of ``machine``'s nodes from ``release`` (as a shell word), with launch
    arguments ``args``."""
    setup = (f"{_SOURCE_ROS} && source {release}/{WORKSPACE}/install/setup.bash && "
             f"export ROS_DOMAIN_ID={domain} ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET")
    flags = [f"machine_{name}:={'true' if name == machine else 'false'}" for name in machines]
    argv = ["ros2", "launch", bringup_name(graph), f"{graph.name}.launch.py", *flags,
            *(f"{key}:={value}" for key, value in args.items() if value != "")]
    return setup, argv


class Session:
    """One run across machines: ``command(machine)`` is what runs there; every machine's
    ``ros2 launch`` ending ends the run (``main`` is None: nothing runs here)."""

    main = None

    def __init__(self, graph: SystemGraph, releases: dict[str, str], runs: dict[str, str], options: RunOptions,
                 iterations: int | None, out: Path) -> None:
        self.graph = portable(graph)
        self.releases, self.runs, self.options, self.iterations = releases, runs, options, iterations
        self.domain = int(os.environ.get("ROS_DOMAIN_ID") or random.randrange(1, 101))

    def command(self, machine: str) -> tuple[str, list[str]]:
        """(shell set-up, argv) of the machine's part: ``ros2 launch`` of its nodes."""
        run = self.runs[machine]
        args = {"iterations": self.iterations or 0, "duration": float(self.options.duration or 0.0), "run_dir": run,
                "record": ",".join(self.options.record)}
        setup, argv = _launch(self.graph, machine, sorted(self.releases), shlex.quote(self.releases[machine]), args,
                              self.domain)
        return f"{setup} ROS_LOG_DIR={shlex.quote(run)}/log", argv

    def start(self) -> None:
        """Nothing runs here."""

    def stop(self) -> None:
        """The machines' agents stop their launches (``cluster``)."""

    def close(self) -> None:
        """Nothing runs here."""
