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

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from like_keras.errors import TransportError
from like_keras.graph.ir import SystemGraph
from like_keras.recording.replay import to_arg
from like_keras.result import RunResult
from like_keras.transports.common.options import RunOptions
from like_keras.transports.common.supervise import prepare, supervise
from like_keras.transports.dora.compiler import compile
from like_keras.transports.dora.drops import DropWatch
from like_keras.utils.files import atomic_write

_GRACE = 3.0  # seconds a stopped dataflow gets to drain before it is killed


def dora_cli() -> str:
    """The ``dora`` command next to this interpreter, else on PATH."""
    here = Path(sys.executable).parent / "dora"
    found = str(here) if here.exists() else shutil.which("dora")
    if not found:
        raise TransportError("the dora CLI is not installed: pip install dora-rs-cli==1.1.0 (or run `make setup`)")
    return found


def launch(system: Any, graph: SystemGraph, options: RunOptions, *, coordinator: str | None = None) -> RunResult:
    """Run ``graph`` on Dora. ``coordinator="host:port"`` runs it on a Dora cluster
    (``dora start``), honouring ``Node(machine=...)``; otherwise ``dora run`` runs every
    node on this machine. Dora's timers are wall-clock: ``duration`` is real seconds."""
    out, iterations, replays = prepare(graph, options)
    run_args = ["--run-dir", str(out)]
    if iterations is not None:
        run_args += ["--iterations", str(iterations)]
    if options.duration is not None:
        run_args += ["--duration", repr(float(options.duration))]
    if options.record:
        run_args += ["--record", ",".join(options.record)]
    if replays:
        run_args += ["--replay", to_arg(replays)]
    atomic_write(out / "graph.json", graph.to_json())
    path = compile(graph, out / "dataflow.yml", portable=False, run_args=run_args, deploy=coordinator is not None,
                   working_dir=str(out), replayed=frozenset(replays))
    cmd = [dora_cli()]
    name = f"{graph.name}-{os.getpid()}-{int(time.time())}"
    if coordinator:
        cmd += ["start", str(path), "--attach", "--name", name, *coordinator_args(coordinator)]
    else:
        cmd += ["run", str(path)]
    env = {**os.environ, "RUST_BACKTRACE": "0"}  # the nodes' import path is in the dataflow
    stop = (lambda: subprocess.run([cmd[0], "stop", "--name", name, *coordinator_args(coordinator)],
                                   capture_output=True, timeout=30)) if coordinator else None
    return supervise(graph, "dora", cmd, out, env, options, what="Dora", log="dora.log", grace=_GRACE, stop=stop,
                     watch=DropWatch(out / "dora.log"))


def coordinator_args(coordinator: str) -> list[str]:
    """``host:port`` as the dora CLI takes it."""
    host, _, port = coordinator.rpartition(":")
    return ["--coordinator-addr", host, "--coordinator-port", port]
