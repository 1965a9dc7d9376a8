"""Launch a system on Dora and supervise it: Dora itself has no fail-fast.

The dataflow is compiled into a run directory (so Dora's ``out/`` logs land there),
then run with ``dora run`` (or ``dora start --attach`` against a coordinator for
multi-machine systems). The launcher watches the runners' pid, result and failure
files: a node that raises or dies makes it stop the whole dataflow within seconds
and raise ``RunError`` with the node's traceback. ``duration`` ends a run cleanly
(Dora's STOP); ``timeout`` and Ctrl-C end it whatever the nodes do. No process is
left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..._files import atomic_write
from ..._rundir import make_run_dir
from ...errors import RunError, RunTimeoutError, TransportError
from ...graph import SystemGraph
from ...recording import merge, parse_record
from ...result import RunResult
from ...validation import require_clock
from .dataflow import compile

_POLL = 0.05
_GRACE = 3.0  # seconds a stopped dataflow gets to drain before it is killed


def dora_cli() -> str:
    """The ``dora`` command next to this interpreter, else on PATH."""
    here = Path(sys.executable).parent / "dora"
    found = str(here) if here.exists() else shutil.which("dora")
    if not found:
        raise TransportError("the dora CLI is not installed: pip install dora-rs-cli==1.1.0 (or run `make setup`)")
    return found


def launch(
    system: Any,
    graph: SystemGraph,
    *,
    iterations: int | None = None,
    duration: float | None = None,
    realtime: bool = False,
    record: list[str] | None = None,
    timeout: float | None = None,
    progress: bool = False,
    run_dir: str | Path | None = None,
    coordinator: str | None = None,
) -> RunResult:
    """Run ``graph`` on Dora. ``coordinator="host:port"`` runs it on a Dora cluster
    (``dora start``), honouring ``Node(machine=...)``; otherwise ``dora run`` runs every
    node on this machine. Dora's timers are wall-clock: ``duration`` is real seconds."""
    if iterations is not None:
        require_clock(graph)
    parse_record(graph, record or [])
    out = make_run_dir(graph, run_dir)
    for sub in ("pids", "results", "failures", "rec"):
        shutil.rmtree(out / sub, ignore_errors=True)
    run_args = ["--run-dir", str(out)]
    if iterations is not None:
        run_args += ["--iterations", str(iterations)]
    if duration is not None:
        run_args += ["--duration", repr(float(duration))]
    if record:
        run_args += ["--record", ",".join(record)]
    atomic_write(out / "graph.json", graph.to_json())
    path = compile(graph, out / "dataflow.yml", run_args=run_args, deploy=coordinator is not None,
                   working_dir=str(out))
    cmd = [dora_cli()]
    name = f"{graph.name}-{os.getpid()}-{int(time.time())}"
    if coordinator:
        cmd += ["start", str(path), "--attach", "--name", name, *_coordinator_args(coordinator)]
    else:
        cmd += ["run", str(path)]
    wall0 = time.perf_counter()
    run = _Supervised(cmd, out, coordinator, name)
    try:
        run.wait(duration, timeout)
    except BaseException:
        run.kill()
        raise
    run.kill()  # only stragglers: a finished dataflow has none
    return RunResult(
        graph=graph, transport="dora", steps=_steps(graph, out), duration=time.perf_counter() - wall0,
        recording=_recording(out) if record else None, run_dir=out,
    )


class _Supervised:
    """A ``dora run`` / ``dora start --attach`` process and the runners it started."""

    def __init__(self, cmd: list[str], out: Path, coordinator: str | None, name: str) -> None:
        self.out = out
        self.dora = cmd[0]
        self.coordinator = coordinator
        self.name = name
        # Nodes import the system as this process did: same interpreter, same import path.
        path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
        env = {**os.environ, "RUST_BACKTRACE": "0", "PYTHONPATH": path}
        self.log = open(out / "dora.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=out, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait(self, duration: float | None, timeout: float | None) -> None:
        start = time.monotonic()
        stop_sent = False
        while True:
            rc = self.proc.poll()
            failure = self._failure()
            if failure is not None:
                raise failure
            if rc is not None:
                break
            elapsed = time.monotonic() - start
            if timeout is not None and elapsed > timeout:
                raise RunTimeoutError(f"the Dora dataflow did not finish within timeout={timeout} s; it was stopped "
                                      f"(logs: {self.out / 'dora.log'})")
            # The coordinator ends a duration itself; Dora's STOP is the fallback.
            if duration is not None and elapsed > duration + _GRACE and not stop_sent:
                self.stop()
                stop_sent = True
            time.sleep(_POLL)
        if rc != 0:
            failure = self._failure(final=True)
            if failure is not None:
                raise failure
            raise RunError(f"dora exited with code {rc}:\n{self._log_tail()}")

    def stop(self) -> None:
        """Ask Dora to stop the dataflow (nodes get STOP and drain)."""
        if self.coordinator:
            subprocess.run([self.dora, "stop", "--name", self.name, *_coordinator_args(self.coordinator)],
                           capture_output=True, timeout=30)
        elif self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def kill(self) -> None:
        """Stop gently, then kill Dora and every runner still alive."""
        if self.proc.poll() is None:
            self.stop()
            try:
                self.proc.wait(_GRACE)
            except subprocess.TimeoutExpired:
                _killpg(self.proc.pid)
                self.proc.wait()
        for pid in self._runner_pids().values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()

    # --- what the runners left ---------------------------------------------------------

    def _runner_pids(self) -> dict[str, int]:
        pids = {}
        for f in (self.out / "pids").glob("*.json"):
            try:
                pids[f.stem] = json.loads(f.read_text())["pid"]
            except (ValueError, KeyError, OSError):
                continue
        return pids

    def _failure(self, final: bool = False) -> RunError | None:
        reports = sorted((self.out / "failures").glob("*.json"), key=lambda f: f.stat().st_mtime)
        if reports:
            info = json.loads(reports[0].read_text())
            return RunError(
                f"node '{info['node']}' failed: {info['message']}",
                component=info.get("component"), node=info["node"], step=info.get("step"),
                remote_traceback=info.get("traceback"),
            )
        for node, pid in self._runner_pids().items():
            done = (self.out / "results" / f"{node}.json").exists()
            if not done and (final or not _alive(pid)):
                if (self.out / "failures" / f"{node}.json").exists():
                    continue  # it reported just now: the next poll raises its own error
                return RunError(
                    f"node '{node}' (pid {pid}) died without reporting an error: it was killed or crashed. "
                    f"Dora's log:\n{self._log_tail()}",
                    node=node,
                )
        return None

    def _log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        text = (self.out / "dora.log").read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _coordinator_args(coordinator: str) -> list[str]:
    """``host:port`` as the dora CLI takes it."""
    host, _, port = coordinator.rpartition(":")
    return ["--coordinator-addr", host, "--coordinator-port", port]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _steps(graph: SystemGraph, out: Path) -> dict[str, int]:
    steps: dict[str, int] = {}
    for node in graph.nodes:
        if node.executable is not None:
            continue  # an external process: not ours to count
        f = out / "results" / f"{node.name}.json"
        if not f.exists():
            raise RunError(f"node '{node.name}' ended without reporting its results (see {out / 'dora.log'})",
                           node=node.name)
        steps.update(json.loads(f.read_text())["steps"])
    return {c.name: steps[c.name] for c in graph.components if c.name in steps}


def _recording(out: Path) -> Path:
    return merge(sorted((out / "rec").glob("*.mcap")), out / "recording.mcap")
