"""A deterministic discrete-event loop over the NodeRuntimes of all nodes.

One FIFO of messages shared by every runtime, and a heap of timer ticks in
simulated time: all pending messages are processed (in zero simulated time)
before the clock advances to the next tick. Ties between ticks go in component
declaration order, so the same system gives the same trace on every run.
``realtime=True`` paces ticks to the wall clock instead of running ahead.
``timeout`` holds even against a step that never returns: in the main thread an
alarm signal ends the run wherever it is.
"""

from __future__ import annotations

import contextlib
import heapq
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from like_keras.errors import RunError, RunTimeoutError, TransportError
from like_keras.graph.ir import ConnectionSpec, SystemGraph
from like_keras.recording import PartWriter
from like_keras.recording import replay as replay_mod
from like_keras.result import RunResult
from like_keras.runtime.node_runtime import Event, NodeRuntime, busy, describe_busy
from like_keras.transports.common import rundir
from like_keras.transports.common.lockstep import period_ns
from like_keras.transports.common.options import RunOptions, check_run
from like_keras.utils.progress import progress as progress_bar

_CHECK_EVERY = 512  # events between wall-clock checks (timeout, progress)


class _Expired(BaseException):
    """The timeout's alarm, raised in whatever runs then (not an Exception: no step catches it)."""


@contextlib.contextmanager
def _alarm(timeout: float | None) -> Iterator[None]:
    if timeout is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _Expired(frame)  # the frame it interrupted: where the run was

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def launch(system: Any, graph: SystemGraph, options: RunOptions) -> RunResult:
    """Run ``system`` (already built into ``graph``) in this process. The live view of
    ``options``, if any, takes the values of the ports its clients watch."""
    external = [n for n in graph.nodes if n.executable is not None]
    if external:
        raise TransportError(
            f"node '{external[0].name}' is an external process ({external[0].executable}); the native "
            f"transport runs only like-keras components: use transport='dora'"
        )
    ports, iterations, replays, opened = check_run(graph, options)
    run_dir, live = options.run_dir, options.live
    instances = {c.name: c for c in system._components()}
    sources, feeds = replay_mod.install(graph, instances, replays, paced=False, opened=opened)
    out_dir = rundir.make_run_dir(graph, run_dir) if ports else (Path(run_dir) if run_dir else None)
    loop = _Loop(graph, instances, iterations, ports, out_dir, {n: s.offsets() for n, s in sources.items()}, feeds,
                 live)
    wall0 = time.perf_counter()
    try:
        with progress_bar(options.progress, graph.name, iterations) as update:
            try:
                with _alarm(options.timeout):
                    loop.run(options.duration, options.realtime, options.timeout, update)
            except _Expired as exc:
                raise loop.expired(options.timeout, exc) from None
    except BaseException as exc:
        loop.abort()
        if isinstance(exc, RunError):
            exc.recording = loop.finish()  # what was recorded before the failure
        else:
            loop.finish()
        raise
    recording = loop.finish()
    return RunResult(
        graph=graph, transport="native", steps=loop.steps(), duration=time.perf_counter() - wall0,
        recording=recording, sim_time=loop.now_ns / 1e9, run_dir=out_dir,
    )


class _Loop:
    def __init__(
        self, graph: SystemGraph, instances: dict[str, Any], iterations: int | None,
        ports: frozenset[tuple[str, str]], out_dir: Path | None, replayed: dict[str, list[int]],
        feeds: dict[str, replay_mod.Feed], live: Any = None,
    ) -> None:
        self.graph = graph
        self.now_ns = 0
        self.epoch_ns = time.time_ns()  # recordings stamp simulated time from the launch's wall time
        self.queue: deque[Event] = deque()
        self.out_dir = out_dir
        self.replayed = set(replayed) | set(feeds)
        self.recorder = (PartWriter(out_dir / "rec" / "native.mcap", graph, ports, start_ns=self.epoch_ns)
                         if ports else None)
        self.stopping = False
        self.runtimes = [
            NodeRuntime(
                graph, node.name, instances, send_remote=self._send, inbox=self.queue,
                recorder=self.recorder, record=ports, live=live,
                time_ns=lambda: self.epoch_ns + self.now_ns,
                iterations=iterations, on_clock_done=self._clock_done, feeds=feeds,
            )
            for node in graph.nodes
        ]
        self.owner = {name: rt for rt in self.runtimes for name in (*rt.components, *rt.feeds)}
        self.clock_rt = self.owner.get(graph.clock) if graph.clock else None
        # (when, declaration order, component, tick number k, when tick k is due or None)
        self.timers: list[tuple[int, int, str, int, Callable[[int], int | None]]] = []
        schedules: dict[str, Callable[[int], int | None]] = {}
        for comp in graph.components:
            if comp.name in replayed:  # a replayed component steps when its bag says
                schedules[comp.name] = lambda k, o=replayed[comp.name]: o[k - 1] if k <= len(o) else None
            elif comp.rate_hz:
                schedules[comp.name] = lambda k, period=period_ns(comp.rate_hz): period * k
        for key, feed in feeds.items():  # so does a replayed input, after the components
            schedules[key] = lambda k, o=feed.player.source.offsets(): o[k - 1] if k <= len(o) else None
        for order, (name, due) in enumerate(schedules.items()):
            first = due(1)
            if first is not None:
                self.timers.append((first, order, name, 1, due))
        heapq.heapify(self.timers)
        self.started = False
        self.stopped = False

    def _send(self, component: str, port: str, value: Any, connections: list[ConnectionSpec],
              header: tuple[int, str] | None = None) -> None:
        for conn in connections:
            self.queue.append((conn.dst, conn.dst_port, value))

    def _clock_done(self) -> None:
        # No tick after the clock's last; a replayed message of this same instant was sent
        # before the drain when it was recorded, so it still is.
        self.stopping = True
        self.timers = [e for e in self.timers if e[2] in self.replayed and e[0] <= self.now_ns]
        heapq.heapify(self.timers)

    def steps(self) -> dict[str, int]:
        return {name: rt.steps[name] for rt in self.runtimes for name in rt.components}

    def expired(self, timeout: float | None, alarm: BaseException | None = None) -> RunTimeoutError:
        """The timeout's error; ``alarm`` (raised where the run was) names the busy component."""
        info = busy(alarm.args[0]) if alarm is not None else None
        said = f"; {describe_busy(info)}" if info else ""
        return RunTimeoutError(
            f"system '{self.graph.name}' did not finish within timeout={timeout} s{said} (steps so far: "
            f"{self.steps()})", node=info and info["node"], component=info and info["component"],
            step=info and info["step"],
        )

    def run(self, duration: float | None, realtime: bool, timeout: float | None, update: Any) -> None:
        wall0 = time.perf_counter()
        deadline = wall0 + timeout if timeout is not None else None
        end_ns = round(duration * 1e9) if duration is not None else None
        clock = self.graph.clock

        def check() -> None:
            if deadline is not None and time.perf_counter() > deadline:
                raise self.expired(timeout)
            if self.clock_rt is not None:
                update(self.clock_rt.steps[clock])

        self.started = True
        for rt in self.runtimes:
            rt.start()
        while True:
            n = 0
            queue, owner = self.queue, self.owner
            while queue:
                comp, port, value = queue.popleft()
                owner[comp].deliver(comp, port, value)
                n += 1
                if n % _CHECK_EVERY == 0:
                    check()
            check()
            if not self.timers:
                break
            t_ns, order, comp, k, due = self.timers[0]
            if end_ns is not None and t_ns > end_ns:
                self.now_ns = end_ns
                break
            after = due(k + 1)
            if after is None:
                heapq.heappop(self.timers)
            else:
                heapq.heapreplace(self.timers, (after, order, comp, k + 1, due))
            if realtime:
                delay = wall0 + t_ns / 1e9 - time.perf_counter()
                if delay > 0:
                    time.sleep(delay if deadline is None else min(delay, max(0.0, deadline - time.perf_counter())))
            self.now_ns = t_ns
            owner[comp].tick(comp)
        if end_ns is not None and not self.stopping and not self.timers:
            self.now_ns = max(self.now_ns, end_ns)
        self._stop_all()

    def _stop_all(self) -> None:
        self.stopped = True
        first: RunError | None = None
        for rt in self.runtimes:
            try:
                rt.stop()
            except RunError as exc:
                first = first or exc
        if first is not None:
            raise first

    def abort(self) -> None:
        """After a failure: run every on_stop (errors there are secondary)."""
        if self.started and not self.stopped:
            for rt in self.runtimes:
                rt.abort()

    def finish(self) -> Path | None:
        """Close the recording (a part, like a node process's) and make it the run's bag."""
        if self.recorder is None:
            return None
        self.recorder.close()
        return rundir.recording(self.out_dir)
