"""Replay: outputs of a component, or an input fed from outside, come from a rosbag2 bag.

    system.launch(replay={"camera": "runs/day1/recording"})
    system.launch(replay={"camera": Replay("robot_bag", topics={"image": "/camera/image_raw"})})
    system.launch(replay={"planner.scan": "robot_bag"})    # an Input(T, topic="/scan")

A replayed component does not run (not even ``on_start``); a ``Replayer`` in its place
sends the bag's messages on its output ports at their recorded times, relative to the
start of the recorded run: in simulated time natively (exactly), by the wall clock on
Dora and ROS 2 (to the millisecond). Messages to its inputs are dropped. A replayed
input (``"component.port"``, an input with a ``topic`` and no connection) gets the bag's
messages of that topic the same way, instead of what ROS nodes publish. Everything else
runs as usual. When the clock component is replayed, the run ends when the bag is
exhausted (``iterations`` counts its messages then); so does a run that only bags feed
(``transports.common.drain.ends_when_quiet``).

A port reads the topic ``topics`` names, else the topic the bag recorded that port
on (a like-keras recording), else its own ROS 2 topic. The bag's type on that topic
must be the port's ROS 2 type; anything else is a ReplayError before the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from like_keras.errors import ReplayError
from like_keras.graph.ir import SystemGraph
from like_keras.runtime.taps import Paced
from like_keras.system.component import Component

PACE_HZ = 1000.0  # how often a paced player (Dora, ROS 2) looks for due messages  # pragma: no mutate


@dataclass(frozen=True)
class Replay:
    """A bag to replay into one component's outputs (or one input); ``topics`` maps port
    names to the bag's topics (needed for a bag recorded elsewhere, e.g. by ``ros2 bag
    record``)."""

    path: str | Path
    topics: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"path": str(Path(self.path).resolve()), "topics": dict(self.topics)}


def parse(replay: Mapping[str, Any] | None) -> dict[str, Replay]:
    """``{key: path or Replay}`` as ``{key: Replay}``."""
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
    """What one replay key takes from its bag: when each group of messages is due, and
    the groups (``{port: value}``, one message per port) read as needed."""

    def __init__(self, graph: SystemGraph, key: str, replay: Replay) -> None:
        from like_keras.recording.bag import Topics

        self.key = key
        component, _, port = key.partition(".")
        wanted = _wanted(graph, component, port, replay)
        path = Path(replay.path)
        recorded_as = {w.port: f"{component}.{w.port}" for w in wanted}
        self._open = lambda: Topics(path, component, wanted, recorded_as)
        with self._open() as topics:
            self.times = [t for t, _ in _grouped((t, p, None) for t, p in topics.stamps())]
            # When the recorded run began; a bag recorded elsewhere: its first message here.
            self.start_ns = topics.start_ns if topics.start_ns is not None else next(iter(self.times), 0)

    def groups(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(ns since the recorded run began, {port: value})`` in time order."""
        with self._open() as topics:
            for t, group in _grouped(topics.values()):
                yield t - self.start_ns, group

    @property
    def count(self) -> int:
        return len(self.times)

    def offsets(self) -> list[int]:
        """When each group is due, in ns since the recorded run began."""
        return [t - self.start_ns for t in self.times]


def _wanted(graph: SystemGraph, component: str, port: str, replay: Replay) -> list[Any]:
    from like_keras.msgs.ros_mapping import input_mapping, port_mapping, topic_of
    from like_keras.recording.bag import Wanted

    try:
        comp = graph.component(component)
    except KeyError:
        raise ReplayError(f"replay: '{component}' names no component; components are "
                          f"{', '.join(c.name for c in graph.components)}") from None
    if port:  # an input fed from outside
        spec = next((p for p in comp.inputs if p.name == port and p.topic is not None), None)
        if spec is None:
            fed = [f"{c}.{p}" for c, p, _ in graph.foreign_inputs()]
            raise ReplayError(f"replay: '{component}.{port}' is not an input fed by a topic (Input(T, topic=...)); "
                              f"those are: {', '.join(fed) or 'none'}. To replay a component, name it alone")
        mapping = input_mapping(graph, component, port)
        topic = replay.topics.get(port, spec.topic)
        return [Wanted(port, _absolute(topic), True, mapping.ros_type, mapping.from_ros)]
    unknown = sorted(set(replay.topics) - {p.name for p in comp.outputs})
    if unknown:
        raise ReplayError(f"replay: '{component}' has no output '{unknown[0]}' (topics=...); its outputs: "
                          f"{', '.join(p.name for p in comp.outputs) or 'none'}")
    out = []
    for spec in comp.outputs:
        mapping = port_mapping(graph, component, spec.name)
        topic = replay.topics.get(spec.name) or topic_of(graph, component, spec.name)
        out.append(Wanted(spec.name, _absolute(topic), spec.name in replay.topics, mapping.ros_type,
                          mapping.from_ros))
    return out


def _absolute(topic: str) -> str:
    return topic if topic.startswith("/") else f"/{topic}"


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


class Player:
    """Plays a Source's groups: ``paced`` by ``clock`` (ns, monotonic) since ``start`` (a
    transport asks ``due`` at ``PACE_HZ``), a group due once its offset has passed and
    never before; else each ``take`` is the next group (the native loop asks exactly at
    their times)."""

    def __init__(self, source: Source, paced: bool, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.source = source
        self._paced = paced
        self._clock = clock
        self._groups: Iterator[tuple[int, dict[str, Any]]] = iter(())
        self._next: tuple[int, dict[str, Any]] | None = None
        self._started = False
        self._t0: int  # set by start(), before anything is due

    def start(self) -> None:
        self._groups = self.source.groups()
        self._next = next(self._groups, None)  # the bag is open and read before the clock starts
        self._t0 = self._clock()
        self._started = True

    def due(self) -> bool:
        if self._next is None:
            return False
        return not self._paced or self._clock() - self._t0 >= self._next[0]

    @property
    def done(self) -> bool:
        """Started, and every group taken."""
        return self._started and self._next is None

    def take(self) -> dict[str, Any] | None:
        if self._next is None:
            return None
        _, group = self._next
        self._next = next(self._groups, None)
        return group


class Replayer(Paced):
    """Stands in for a replayed component: each step sends its bag's next group."""

    def __init__(self, original: Component, player: Player) -> None:
        self.name, self.node, self.config = original.name, original.node, original.config
        self.player = player

    def on_start(self) -> None:
        self.player.start()

    def due(self) -> bool:
        return self.player.due()

    @property
    def done(self) -> bool:
        return self.player.done

    def step(self, **inputs: Any) -> dict[str, Any] | None:
        return self.player.take()


@dataclass
class Feed:
    """A replayed input (a ``runtime.taps.Feed``): the player of its bag, and where its values go."""

    component: str
    port: str
    player: Player

    def start(self) -> None:
        self.player.start()

    def due(self) -> bool:
        return self.player.due()

    def take(self) -> Any:
        return self.player.take()[self.port]  # type: ignore[index]

    @property
    def done(self) -> bool:
        return self.player.done


def install(graph: SystemGraph, instances: dict[str, Any], replays: Mapping[str, Replay], paced: bool,
            opened: Mapping[str, Source] | None = None) -> tuple[dict[str, Source], dict[str, Feed]]:
    """Put a Replayer in place of each replayed component of ``instances`` (those of one node
    process, or all), and make the feeds of their replayed inputs: returns the sources of
    the replaced components and the feeds, by replay key. ``opened``: sources ``check``
    already read, not read again."""
    sources, feeds = {}, {}
    for key, replay in replays.items():
        component, _, port = key.partition(".")
        if component not in instances:
            continue
        source = (opened or {}).get(key) or Source(graph, key, replay)
        if port:
            feeds[key] = Feed(component, port, Player(source, paced))
        else:
            sources[key] = source
            instances[key] = _replayer_for(instances[key], Player(source, paced))
    return sources, feeds


def _replayer_for(original: Component, player: Player) -> Replayer:
    """A Replayer with the outputs of ``original``'s class (and no inputs: none triggers it)."""
    cls = type(f"Replayed{type(original).__name__}", (Replayer,), {})
    cls.inputs = {}
    cls.outputs = dict(type(original).outputs)
    return cls(original, player)


def check(graph: SystemGraph, replays: Mapping[str, Replay],
          iterations: int | None) -> tuple[int | None, dict[str, Source]]:
    """Open every bag before the run (a ReplayError on a mismatch); return the run's
    ``iterations`` (a replayed clock ends the run with its bag) and the sources read."""
    sources = {key: Source(graph, key, r) for key, r in replays.items()}
    if graph.clock in sources:
        count = sources[graph.clock].count
        return min(iterations or count, count), sources
    return iterations, sources
