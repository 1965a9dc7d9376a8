"""Replay: a component's outputs come from a rosbag2 bag instead of the component.

    system.launch(replay={"camera": "runs/day1/recording"})
    system.launch(replay={"camera": Replay("robot_bag", topics={"image": "/camera/image_raw"})})

The replayed component does not run (not even ``on_start``); a ``Replayer`` in its
place sends the bag's messages on its output ports at their recorded times, relative
to the start of the recorded run: in simulated time natively (exactly), by the wall
clock on Dora and ROS 2 (to the millisecond). Messages to its inputs are dropped.
Everything else runs as usual. When the clock component is replayed, the run ends
when the bag is exhausted (``iterations`` counts its messages then).

A port reads the topic ``topics`` names, else the topic the bag recorded that port
on (a like-keras recording), else its own ROS 2 topic. The bag's type on that topic
must be the port's ROS 2 type; anything else is a ReplayError before the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .component import Component
from .errors import ReplayError
from .graph import SystemGraph

PACE_HZ = 1000.0  # how often a paced replayer (Dora, ROS 2) looks for due messages


@dataclass(frozen=True)
class Replay:
    """A bag to replay into one component's outputs; ``topics`` maps output ports to the
    bag's topics (needed for a bag recorded elsewhere, e.g. by ``ros2 bag record``)."""

    path: str | Path
    topics: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"path": str(Path(self.path).resolve()), "topics": dict(self.topics)}


def parse(replay: Mapping[str, Any] | None) -> dict[str, Replay]:
    """``{component: path or Replay}`` as ``{component: Replay}``."""
    out = {}
    for name, spec in (replay or {}).items():
        if isinstance(spec, dict):
            spec = Replay(spec["path"], spec.get("topics", {}))
        elif not isinstance(spec, Replay):
            spec = Replay(spec)
        out[name] = spec
    return out


def to_arg(replays: Mapping[str, Replay]) -> str:
    """The replay options as one string, for a node process's command line."""
    return json.dumps({name: r.to_json() for name, r in replays.items()}, sort_keys=True)


def from_arg(text: str | None) -> dict[str, Replay]:
    return parse(json.loads(text)) if text else {}


class Source:
    """One component's messages in a bag: when each group of them was sent, and the groups."""

    def __init__(self, graph: SystemGraph, component: str, replay: Replay) -> None:
        from .recording.bag import open_topics

        self.graph, self.component, self.replay = graph, component, replay
        try:
            comp = graph.component(component)
        except KeyError:
            raise ReplayError(
                f"replay: '{component}' names no component; components are "
                f"{', '.join(c.name for c in graph.components)}"
            ) from None
        unknown = sorted(set(replay.topics) - {p.name for p in comp.outputs})
        if unknown:
            raise ReplayError(f"replay: '{component}' has no output '{unknown[0]}' (topics=...); its outputs: "
                              f"{', '.join(p.name for p in comp.outputs) or 'none'}")
        self._open = lambda: open_topics(Path(replay.path), graph, component, dict(replay.topics))
        with self._open() as topics:
            self.start_ns = topics.start_ns
            self.times = [t for t, _ in _grouped((t, port, None) for t, port in topics.stamps())]

    def groups(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(time since the recorded run began, {port: value})`` in time order, read as needed."""
        with self._open() as topics:
            for t, group in _grouped(topics.values()):
                yield t - self.start_ns, group

    @property
    def count(self) -> int:
        return len(self.times)

    def offsets(self) -> list[int]:
        """When each group is due, in ns since the recorded run began."""
        return [t - self.start_ns for t in self.times]


def _grouped(items: Iterator[tuple[int, str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Messages sent at one time, one per port, as one step's outputs."""
    group: dict[str, Any] = {}
    at = 0
    for t, port, value in items:
        if group and (t != at or port in group):
            yield at, group
            group = {}
        at = t
        group[port] = value
    if group:
        yield at, group


class Replayer(Component):
    """Stands in for a replayed component: sends its bag's groups of messages.

    ``paced``: by the wall clock since ``on_start`` (a transport ticks it at
    ``PACE_HZ``; a tick with nothing due is no step). Otherwise each step sends the
    next group (the native loop steps it exactly at their times)."""

    def __init__(self, original: Component, source: Source, paced: bool) -> None:
        self.name, self.node, self.config = original.name, original.node, original.config
        self._source = source
        self._paced = paced
        self._groups: Iterator[tuple[int, dict[str, Any]]] = iter(())
        self._next: tuple[int, dict[str, Any]] | None = None
        self._t0 = 0

    def on_start(self) -> None:
        self._groups = self._source.groups()
        self._next = next(self._groups, None)
        self._t0 = time.monotonic_ns()

    def due(self) -> bool:
        """Whether a group is due now (always, unpaced, while any is left)."""
        if self._next is None:
            return False
        return not self._paced or time.monotonic_ns() - self._t0 >= self._next[0]

    def step(self, **inputs: Any) -> dict[str, Any] | None:
        if self._next is None:
            return None
        _, group = self._next
        self._next = next(self._groups, None)
        return group


def install(graph: SystemGraph, live: dict[str, Any], replays: Mapping[str, Replay], paced: bool) -> dict[str, Source]:
    """Put a Replayer in place of each replayed component of ``live`` (those of one node
    process, or all); returns the sources of those it replaced."""
    sources = {}
    for name, replay in replays.items():
        if name in live:
            sources[name] = Source(graph, name, replay)
            live[name] = _replayer_for(live[name], sources[name], paced)
    return sources


def _replayer_for(original: Component, source: Source, paced: bool) -> Replayer:
    """A Replayer with the outputs of ``original``'s class (and no inputs: none triggers it)."""
    cls = type(f"Replayed{type(original).__name__}", (Replayer,), {})
    cls.inputs = {}
    cls.outputs = dict(type(original).outputs)
    return cls(original, source, paced)


def check(graph: SystemGraph, replays: Mapping[str, Replay], iterations: int | None) -> int | None:
    """Open every bag before the run (a ReplayError on a mismatch) and return the run's
    ``iterations``: a replayed clock ends the run with its bag."""
    counts = {name: Source(graph, name, r).count for name, r in replays.items()}
    if graph.clock in counts:
        return min(iterations or counts[graph.clock], counts[graph.clock])
    return iterations
