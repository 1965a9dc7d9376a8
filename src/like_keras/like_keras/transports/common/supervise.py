"""Supervising a multi-process run: the transport's own launcher (``dora run``,
``ros2 launch``) in a session of its own, and the node processes it starts, watched
through the run directory (``rundir``).

Neither Dora nor ROS 2 launch fails fast, so this does: a node that reports a failure
or dies makes ``wait`` raise at once; ``timeout`` raises ``RunTimeoutError``; ``kill``
stops the launcher gently, then kills whatever is left, node processes included.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from like_keras.errors import RunError, RunTimeoutError
from like_keras.graph.ir import SystemGraph
from like_keras.recording.replay import Replay
from like_keras.result import RunResult
from like_keras.runtime.node_runtime import describe_busy
from like_keras.transports.common import rundir
from like_keras.transports.common.options import RunOptions, check_run
from like_keras.utils.files import tail

POLL = 0.05


def prepare(graph: SystemGraph, options: RunOptions) -> tuple[Path, int | None, dict[str, Replay]]:
    """Check what a run was asked for, before anything starts: returns its run directory,
    its iterations (a replayed clock ends with its bag) and what it replays."""
    _, iterations, replays, _ = check_run(graph, options)  # the nodes open their bags
    out = rundir.make_run_dir(graph, options.run_dir)
    rundir.clear(out)
    return out, iterations, replays


def supervise(graph: SystemGraph, transport: str, cmd: list[str], out: Path, env: Mapping[str, str],
              options: RunOptions, *, what: str, log: str, grace: float, stop: Callable[[], None] | None = None,
              watch: Callable[[bool], RunError | None] | None = None) -> RunResult:
    """Run ``cmd`` until it ends, fails or times out; then what the nodes reported.
    ``watch`` is called as it runs (with True once ``cmd`` has ended): a RunError it returns
    (the transport saw a fault) ends it.
    The live view of ``options``, if any, serves what the node processes send it."""
    wall0 = time.perf_counter()
    if options.live is not None:
        options.live.serve_nodes(out)
    run = Supervised(cmd, out, env, what=what, log=log, grace=grace, stop=stop, watch=watch)
    return finish(graph, transport, run, out, options, wall0)


def finish(graph: SystemGraph, transport: str, run: Any, out: Path, options: RunOptions,
           wall0: float) -> RunResult:
    """Wait for a started ``run`` (``Supervised`` or alike: ``wait``, ``kill``, ``log_path``)
    and return what its nodes reported in ``out``; the recording survives every failure."""
    record = options.record
    try:
        run.wait(options.duration, options.timeout)
    except BaseException as exc:  # a failure, a timeout, Ctrl-C: the recording survives all of them
        run.kill()
        if record:
            recording = rundir.recording(out)  # every part the nodes completed
            if isinstance(exc, RunError):
                exc.recording = recording
        raise
    run.kill()  # only stragglers: a finished run has none
    return RunResult(
        graph=graph, transport=transport, steps=rundir.steps(graph, out, run.log_path),
        duration=time.perf_counter() - wall0, recording=rundir.recording(out) if record else None, run_dir=out,
    )


class Supervised:
    """``cmd`` (the transport's launcher, called ``what`` in errors) running in ``out``."""

    def __init__(self, cmd: list[str], out: Path, env: Mapping[str, str], *, what: str, log: str, grace: float,
                 stop: Callable[[], None] | None = None,
                 watch: Callable[[bool], RunError | None] | None = None) -> None:
        self.out = out
        self._watch = watch
        self.what = what
        self.grace = grace  # seconds a stopped run gets before it is killed
        self._stop = stop
        self.log_path = out / log
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=out, stdout=self.log, stderr=subprocess.STDOUT, env=dict(env),
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait(self, duration: float | None, timeout: float | None) -> None:
        """Until the launcher exits; raises the first node failure, or on ``timeout``.
        After ``duration`` (+ grace) the run is asked to stop, should it not end by itself."""
        start = time.monotonic()
        stop_sent = False
        while True:
            rc = self.proc.poll()
            failed = rundir.failure(self.out, log=self._log_note()) or (self._watch and self._watch(rc is not None))
            if failed:
                raise failed
            if rc is not None:
                break
            elapsed = time.monotonic() - start
            if timeout is not None and elapsed > timeout:
                raise self._timed_out(timeout)
            if duration is not None and elapsed > duration + self.grace and not stop_sent:
                self.stop()
                stop_sent = True
            time.sleep(POLL)
        if rc != 0:
            failed = rundir.failure(self.out, final=True, log=self._log_note())
            raise failed or RunError(f"{self.what} exited with code {rc}:\n{self.log_tail()}")
        if stop_sent:  # the nodes did not end by themselves: what was in flight is gone
            raise RunError(f"the {self.what} run did not end by itself within {self.grace} s of its duration="
                           f"{duration} s, so it was stopped, and the messages still in flight then were lost "
                           f"(log: {self.log_path})")

    def _timed_out(self, timeout: float) -> RunTimeoutError:
        """The timeout's error, naming what the nodes were busy in."""
        found = rundir.busy(self.out)
        said = "".join(f"; {describe_busy(info)}" for info in found)
        first = found[0] if found else {}
        return RunTimeoutError(
            f"the {self.what} run did not finish within timeout={timeout} s{said}. It was stopped "
            f"(log: {self.log_path})", node=first.get("node"), component=first.get("component"),
            step=first.get("step"),
        )

    def stop(self) -> None:
        """Ask the run to stop (nodes stop their clocks and drain)."""
        if self._stop is not None:
            self._stop()
        elif self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def kill(self) -> None:
        """Stop gently, then kill the launcher's session and every node process still alive."""
        end(self.proc, self.out, self.grace, self.stop)
        self.log.close()

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        return tail(self.log_path, lines)

    def _log_note(self) -> str:
        return f" The {self.what} log ends:\n{self.log_tail()}"


def end(proc: subprocess.Popen[bytes], out: Path, grace: float, stop: Callable[[], None]) -> None:
    """End ``proc`` (started in a session of its own) and the node processes of run
    directory ``out``: ``stop()``, ``grace`` seconds, then SIGKILL for whatever is left."""
    end_session(proc, grace, stop)
    for pid in rundir.pids(out).values():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def end_session(proc: subprocess.Popen[bytes], grace: float, stop: Callable[[], None] | None = None) -> None:
    """End ``proc``, started in a session of its own, and everything in that session:
    ``stop()`` (else SIGTERM), ``grace`` seconds, then SIGKILL for whatever is left."""
    if proc.poll() is None:
        if stop is not None:
            stop()
        else:
            proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers in its session, if any
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
