"""Dora across machines, for ``like_keras.deploy``: what a release holds, and how a run
starts and stops.

A release is the portable dataflow directory (``compile``). A run has Dora's coordinator
on the launcher, a daemon per machine (started by the deploy's agent, with the machine's
name as its id and the launcher's address as ssh sees it), and ``dora start --attach``
on the launcher with a dataflow whose nodes run in each machine's release.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import time
from pathlib import Path

import yaml

from like_keras.errors import TransportError
from like_keras.graph.ir import SystemGraph
from like_keras.transports.common.artifact import portable
from like_keras.transports.common.options import RunOptions
from like_keras.transports.common.supervise import end_session
from like_keras.transports.dora.compiler import PYTHON, VENV, compile, dataflow
from like_keras.transports.dora.launcher import coordinator_args, dora_cli
from like_keras.utils.files import atomic_write

NEEDS_ROS = False
_STOP_WAIT = 5.0
SYSTEM_SITE = False  # the nodes' venv sees only the shipped packages


def requirements(graph: SystemGraph) -> tuple[str, str]:
    """Where a release keeps its requirements file and its wheels."""
    return "requirements.txt", "wheels"


def artifact(graph: SystemGraph, out: Path) -> None:
    """Write a release into the empty directory ``out``."""
    compile(graph, out)


def build_script(release: str) -> str | None:
    """Nothing to build: the release runs as shipped."""
    return None


def service_command(graph: SystemGraph, machine: str, machines: list[str]) -> tuple[dict[str, str], str, list[str]]:
    """(files for the release, shell set-up, argv) of the machine's part as a service: ``dora
    run`` of a dataflow of all its nodes (a Dora service spans one machine). ``"$here"`` in
    the set-up is the release's folder."""
    if len(machines) > 1:
        raise TransportError(
            f"a Dora service runs on one machine, and system '{graph.name}' runs on {', '.join(machines)}: use "
            f"transport='ros2' for a service across machines, or launch(machines=...) to run it across them")
    graph = portable(graph)
    flow = dataflow(graph, python=f"{VENV}/bin/python", env={"PYTHONPATH": PYTHON}, deploy=False)
    files = {"service.yml": yaml.safe_dump(flow, sort_keys=False, width=1000)}
    return files, 'cd "$here" && export RUST_BACKTRACE=0', [f"{VENV}/bin/dora", "run", "service.yml"]


class Session:
    """One run across machines: ``command(machine)`` is what runs there, ``start`` what runs
    here once every machine's part is up, ``main`` the process whose end ends the run."""

    def __init__(self, graph: SystemGraph, releases: dict[str, str], runs: dict[str, str], options: RunOptions,
                 iterations: int | None, out: Path) -> None:
        self.graph = portable(graph)
        self.releases, self.runs, self.options, self.iterations, self.out = releases, runs, options, iterations, out
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.name = f"{graph.name}-{os.getpid()}-{int(time.time())}"
        self._env = {**os.environ, "RUST_BACKTRACE": "0"}
        self._log = open(out / "coordinator.log", "wb")
        # Listens on every interface: the machines' daemons reach it at the launcher's address.
        self._coordinator = subprocess.Popen(
            [dora_cli(), "coordinator", "--interface", "0.0.0.0", "--port", str(self.port), "--store", "memory"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self._env,
            start_new_session=True)
        self.main: subprocess.Popen[bytes] | None = None

    def command(self, machine: str) -> tuple[str, list[str]]:
        """(shell set-up, argv) of the machine's part: its Dora daemon."""
        release = self.releases[machine]
        # The launcher's address as this machine reaches it: where ssh came from.
        setup = (f"cd {shlex.quote(release)} && export RUST_BACKTRACE=0 NO_COLOR=1 "
                 f"PYTHONPATH={shlex.quote(release)}/{PYTHON} DORA_COORDINATOR_ADDR=${{SSH_CONNECTION%% *}}")
        argv = [f"{release}/{VENV}/bin/dora", "daemon", "--machine-id", machine,
                "--coordinator-port", str(self.port)]
        return setup, argv

    def start(self) -> None:
        """Wait for every machine's daemon, then start the dataflow (attached: ``main``)."""
        self._wait_for_daemons(timeout=30)
        run_args = ["--run-dir", "{run}"]
        if self.iterations is not None:
            run_args += ["--iterations", str(self.iterations)]
        if self.options.duration is not None:
            run_args += ["--duration", repr(float(self.options.duration))]
        if self.options.record:
            run_args += ["--record", ",".join(self.options.record)]
        flow = dataflow(self.graph, python=f"{VENV}/bin/python", env={"PYTHONPATH": PYTHON}, run_args=run_args,
                        working_dir=self.releases)
        for node in flow["nodes"]:  # each node reports to its own machine's run directory
            node["args"] = node["args"].replace("{run}", self.runs[node["deploy"]["machine"]])
        path = atomic_write(self.out / "dataflow.yml", yaml.safe_dump(flow, sort_keys=False, width=1000))
        self.main = subprocess.Popen(
            [dora_cli(), "start", str(path), "--attach", "--name", self.name, *coordinator_args(self.address)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self._env,
            start_new_session=True, cwd=self.out)

    def stop(self) -> None:
        """Ask the dataflow to stop (Dora's STOP: the nodes drain and end). Not waited for
        long: a machine that is gone never answers, and the agents stop the rest."""
        try:
            subprocess.run([dora_cli(), "stop", "--name", self.name, *coordinator_args(self.address)],
                           capture_output=True, timeout=_STOP_WAIT, env=self._env)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        """Stop what runs here: ``dora start`` and the coordinator."""
        for proc in (self.main, self._coordinator):
            if proc is not None:
                end_session(proc, 5)
        self._log.close()

    def _wait_for_daemons(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            status = subprocess.run([dora_cli(), "cluster", "status", *coordinator_args(self.address)],
                                    capture_output=True, text=True, env=self._env).stdout
            if all(machine in status for machine in self.releases):
                return
            time.sleep(0.2)
        raise TransportError(f"the Dora daemons of machines {', '.join(sorted(self.releases))} did not all reach "
                             f"the coordinator on this machine (port {self.port}) within {timeout:.0f} s: is that "
                             f"port reachable from them?\n{status}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])
