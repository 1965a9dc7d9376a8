"""Run directories: where a run keeps its files, and how node processes report to the
launcher of a multi-process transport (Dora, ROS 2).

    <run_dir>/pids/<node>.json      {"pid": N, "parent": P}    a node process started (P: by whom)
    <run_dir>/results/<node>.json   {"steps": {...}}           it ended cleanly
    <run_dir>/failures/<node>.json  {"node", "message", ...}   it failed, with the traceback
    <run_dir>/rec/<node>.mcap       what it recorded (a part: recording/part.py), until merged
    <run_dir>/recording/            the parts merged: the run's rosbag2 bag
    <run_dir>/live/address.json     where the launcher's live view takes the nodes' values

``NodeFiles`` is the node's side; ``failure``, ``steps`` and ``recording`` are the
launcher's. Every file is written atomically, so a reader never sees half of one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from like_keras.errors import RunError
from like_keras.graph.ir import SystemGraph
from like_keras.utils.files import atomic_write

BUSY_SIGNAL = signal.SIGUSR1  # the launcher asks a node what it is busy in

_PARTS = ("pids", "results", "failures", "busy", "rec", "live")


def make_run_dir(graph: SystemGraph, run_dir: str | Path | None) -> Path:
    """``run_dir`` if given (created), else a fresh temporary directory for this run."""
    if run_dir is not None:
        path = Path(run_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path.resolve()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f"like_keras-{graph.name}-{stamp}-"))


def clear(out: Path) -> None:
    """Forget what an earlier run in ``out`` reported."""
    for sub in _PARTS:
        shutil.rmtree(out / sub, ignore_errors=True)


def import_path() -> str:
    """The folders on this interpreter's import path that it did not get from its own
    installation (a script's folder, the current directory, PYTHONPATH, a pytest rootdir),
    for node processes that run the same interpreter and must import the system as this
    process did. Site and standard-library folders stay out: another interpreter (the
    ``ros2`` command's) must not import this one's packages."""
    own = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    folders = []
    for entry in sys.path:
        path = os.path.abspath(entry or ".")
        real = os.path.realpath(path)
        installed = any(real == o or real.startswith(o + os.sep) for o in own)
        if os.path.isdir(path) and not installed and path not in folders:
            folders.append(path)
    return os.pathsep.join(folders)


class NodeFiles:
    """What one node process writes for its launcher (nothing without a run directory)."""

    def __init__(self, run_dir: str | Path | None, node: str) -> None:
        self.dir = Path(run_dir) if run_dir else None
        self.node = node
        self.times: dict[str, float] = {}  # what -> wall time, in the order reached
        self._opened: list[Any] = []  # the recorder and live feed, closed when the node ends

    def started(self) -> None:
        self.mark("process up")  # interpreter and like-keras imported
        if self.dir is not None:  # before the pid is known: the launcher may ask at once
            signal.signal(BUSY_SIGNAL, self._report_busy)
        self._write("pids", {"pid": os.getpid(), "parent": os.getppid()})

    def _report_busy(self, signum: int, frame: Any) -> None:
        """The launcher's run timed out: say which component this process is busy in."""
        from like_keras.runtime.node_runtime import busy

        info = busy(frame)
        if info is not None:
            self._write("busy", info)

    def mark(self, what: str) -> None:
        """Note when this node reached ``what`` (``results`` keeps it: where start-up goes)."""
        self.times[what] = time.time()

    def finished(self, steps: dict[str, int]) -> None:
        self.close()  # the recording is whole before the launcher hears the node is done
        self.mark("finished")
        self._write("results", {"steps": steps, "times": self.times})

    def failed(self, exc: BaseException) -> str:
        """Report ``exc`` (the original traceback of a RunError's cause); returns its text.
        What was recorded before the failure stays."""
        self.close()
        text = _traceback(exc)
        info: dict[str, Any] = {"node": self.node, "message": str(exc), "traceback": text,
                                "type": type(exc).__name__}
        if isinstance(exc, RunError):
            info.update(component=exc.component, step=exc.step, node=exc.node or self.node)  # a peer's death
            if exc.__cause__ is not None:
                info["traceback"] = _traceback(exc.__cause__)
        self._write("failures", info)
        return text

    def recording(self) -> Path | None:
        return self.dir / "rec" / f"{self.node}.mcap" if self.dir else None

    def recorder(self, graph: SystemGraph, record: str | None) -> tuple[Any, frozenset[tuple[str, str]]]:
        """This node's recorder (None without a run directory or a port of its own to record)
        and the ports it records, from ``record`` (``component.port,...``, checked)."""
        from like_keras.recording import PartWriter, parse_record

        ports = parse_record(graph, [p for p in (record or "").split(",") if p])
        local = frozenset((c, p) for c, p in ports if graph.node_of(c) == self.node)
        recording = self.recording()
        writer = PartWriter(recording, graph, local) if local and recording else None
        self._opened.append(writer)
        return writer, local

    def live_feed(self, graph: SystemGraph) -> Any:
        """This node's feed of its launcher's live view (``live.feed``), or None without one."""
        from like_keras.live.feed import connect

        feed = connect(self.dir, graph, self.node)
        self._opened.append(feed)
        return feed

    def close(self) -> None:
        """Finish the recording and the live feed (safe to call twice)."""
        for opened in self._opened:
            if opened is not None:
                opened.close()
        self._opened.clear()

    def _write(self, part: str, data: dict[str, Any]) -> None:
        if self.dir is not None:
            atomic_write(self.dir / part / f"{self.node}.json", json.dumps(data))


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


# --- the launcher's side ---------------------------------------------------------------


def pids(out: Path) -> dict[str, int]:
    """The node processes that have started, by node name."""
    found = {}
    for f in (out / "pids").glob("*.json"):
        try:
            found[f.stem] = json.loads(f.read_text())["pid"]
        except (ValueError, KeyError, OSError):
            continue
    return found


def busy(out: Path, wait: float = 1.0) -> list[dict[str, Any]]:
    """Ask every node process still alive what it is busy in (``BUSY_SIGNAL``); the answers
    of those in a component's code, within ``wait`` seconds (an idle one does not answer)."""
    asked = {}
    for node, pid in pids(out).items():
        if not (out / "results" / f"{node}.json").exists() and alive(pid):
            try:
                os.kill(pid, BUSY_SIGNAL)
                asked[node] = pid
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + wait
    files = [out / "busy" / f"{node}.json" for node in asked]
    while time.monotonic() < deadline and not all(f.exists() for f in files):
        time.sleep(0.05)
    return [json.loads(f.read_text()) for f in files if f.exists()]


def failure(out: Path, final: bool = False, log: str = "") -> RunError | None:
    """The first failure a node reported, else a node that died without reporting (every
    node not finished, when ``final``), else None. ``log`` is shown for a silent death."""
    reports = sorted((out / "failures").glob("*.json"), key=lambda f: f.stat().st_mtime)
    if reports:
        info = json.loads(reports[0].read_text())
        return RunError(
            f"node '{info['node']}' failed: {info['message']}",
            component=info.get("component"), node=info["node"], step=info.get("step"),
            remote_traceback=info.get("traceback"),
        )
    for node, pid in pids(out).items():
        done = (out / "results" / f"{node}.json").exists()
        if not done and (final or not alive(pid)):
            if (out / "failures" / f"{node}.json").exists():
                continue  # it reported just now: the next look raises its own error
            return RunError(
                f"node '{node}' (pid {pid}) died without reporting an error: it was killed or crashed.{log}",
                node=node,
            )
    return None


def steps(graph: SystemGraph, out: Path, log: Path) -> dict[str, int]:
    """Steps per component, from every like-keras node's results."""
    found: dict[str, int] = {}
    for node in graph.nodes:
        if node.executable is not None:
            continue  # an external process: not ours to count
        f = out / "results" / f"{node.name}.json"
        if not f.exists():
            raise RunError(f"node '{node.name}' ended without reporting its results (see {log})", node=node.name)
        found.update(json.loads(f.read_text())["steps"])
    return {c.name: found[c.name] for c in graph.components if c.name in found}


def recording(out: Path) -> Path:
    """Every node's part merged into the bag ``<out>/recording``. The parts are removed
    once the bag is whole, so a recording is on disk once; asked again with the parts
    gone, the bag they made is the answer."""
    from like_keras.recording import write_bag

    parts, bag = sorted((out / "rec").glob("*.mcap")), out / "recording"
    if not parts and (bag / "metadata.yaml").is_file():
        return bag
    write_bag(parts, bag)
    shutil.rmtree(out / "rec", ignore_errors=True)
    return bag


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True
