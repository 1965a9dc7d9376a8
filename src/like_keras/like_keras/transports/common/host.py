"""One like-keras node in a process of its own, the same on every multi-process transport.

``rebuild_node`` is how a node process starts: it rebuilds the system from code, keeps
the components of its node, puts replayed ones in place and opens its part of the
recording. ``NodeHost`` holds the node's NodeRuntime and the stop-and-drain protocol
around it (``drain``); a transport's host (``dora.host``, ``like_keras_ros.host``) says
how values and control messages travel, and is tested without its engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from like_keras.graph.ir import ConnectionSpec, SystemGraph
from like_keras.recording import replay
from like_keras.runtime.node_runtime import NodeRuntime
from like_keras.runtime.taps import Feed, LiveView, Recorder
from like_keras.system.component import Component
from like_keras.transports.common.drain import Drain
from like_keras.transports.common.rundir import NodeFiles
from like_keras.transports.common.target import rebuild


@dataclass(frozen=True)
class NodeParts:
    """What a node process hosts: the system's graph, its node's components (replayed ones
    replaced), the feeds of its replayed inputs, every replay key, and its recorder."""

    graph: SystemGraph
    components: dict[str, Component]
    feeds: dict[str, Feed]
    replayed: frozenset[str]
    recorder: Recorder | None
    record: frozenset[tuple[str, str]]


def rebuild_node(files: NodeFiles, target: str, kwargs: dict[str, Any], node: str, digest: str | None, *,
                 record: str | None, replays: str | None, compiled: Path | None = None) -> NodeParts:
    """The parts of ``node`` of the system ``target`` builds (``record``: the ports to
    record, comma-separated; ``replays``: ``replay.to_arg``'s JSON)."""
    system, graph = rebuild(target, kwargs, node, digest, compiled)
    chosen = replay.from_arg(replays)
    components = {c.name: c for c in system._components()}
    _, feeds = replay.install(graph, components, chosen, paced=True)
    recorder, local = files.recorder(graph, record)
    return NodeParts(graph, components, feeds, frozenset(chosen), recorder, local)


class NodeHost:
    """Hosts the components of ``node`` in a NodeRuntime, with the drain that ends the run
    on every node together. Subclasses send values (``_send``) and the drain's probes and
    reports (``_send_probe``, ``_send_report``) their transport's way."""

    def __init__(self, graph: SystemGraph, node: str, components: dict[str, Component], *,
                 iterations: int | None = None, recorder: Recorder | None = None,
                 record: frozenset[tuple[str, str]] = frozenset(), live: LiveView | None = None,
                 feeds: dict[str, Feed] | None = None, publish: frozenset[tuple[str, str]] = frozenset(),
                 replayed: frozenset[str] = frozenset(), lockstep: bool = False,
                 duration: float | None = None, epoch_ns: int | None = None,
                 clock: Callable[[], int] = time.time_ns) -> None:
        """``replayed``: every replay key of the run, this node's or not; ``lockstep``: the
        run's timers tick in simulated time (``common.lockstep``) from ``epoch_ns`` (the
        launch's wall time: every node's on_start is at it), for ``duration`` seconds of
        it; then the node's clock is the simulated one, else ``clock`` (ns: the wall
        clock, or the ROS time of a node that follows a /clock from outside)."""
        self.graph = graph
        self.node = node
        self._clock = clock
        self.runtime = NodeRuntime(graph, node, components, send_remote=self._send, recorder=recorder,
                                   record=record, live=live, time_ns=self._time_ns, iterations=iterations,
                                   on_clock_done=lambda: self.drain.clock_done(), publish=publish, feeds=feeds)
        self.drain = Drain(graph, node, self.runtime, iterations=iterations,
                           send_probe=self._send_probe, send_report=self._send_report, replayed=replayed,
                           lockstep=lockstep, duration=duration, on_time=self._on_time, epoch_ns=epoch_ns)

    def _time_ns(self) -> int:
        """The node's clock: simulated in lockstep, else ``clock``."""
        sim = self.drain.sim_ns
        return self._clock() if sim is None else sim

    def _on_time(self, t_ns: int) -> None:
        """Lockstep, at the coordinator: the simulated clock moved to ``t_ns``."""

    def _send(self, component: str, port: str, value: Any, connections: list[ConnectionSpec],
              header: tuple[int, str] | None = None) -> None:
        raise NotImplementedError

    def _send_probe(self, payload: str) -> None:
        raise NotImplementedError

    def _send_report(self, payload: str) -> None:
        raise NotImplementedError
