"""Checks on a ``SystemGraph`` that every transport relies on, run by ``System.build()``.

Everything here reads only the IR, so any transport can re-run it on a graph it
was handed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection

from like_keras.errors import (
    DuplicateNameError,
    FanInError,
    InvalidNameError,
    NoClockError,
    UnstartableCycleError,
)
from like_keras.graph.ir import ComponentSpec, SystemGraph
from like_keras.msgs.header import valid_frame_id
from like_keras.msgs.ros_mapping import named_topic

# The intersection of a Dora id ([A-Za-z0-9_.-]) and a ROS 2 name token
# ([A-Za-z][A-Za-z0-9_]*, and no '__', which ROS reserves).
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# A ROS 2 package name (REP 144); the system name prefixes the generated packages.
_PACKAGE = re.compile(r"[a-z][a-z0-9_]*\Z")
_RESERVED_NODE_NAMES = {"dora"}
_TOKEN = r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)"
_TOPIC = re.compile(rf"/?{_TOKEN}(?:/{_TOKEN})*\Z")


def check_name(kind: str, name: object, where: str = "") -> None:
    """Raise InvalidNameError unless ``name`` is valid on every transport."""
    at = f" {where}" if where else ""
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"{kind} name{at} must be a non-empty string, got {name!r}")
    if not _NAME.match(name):
        raise InvalidNameError(
            f"{kind} name '{name}'{at} is not valid on every transport: use a letter followed by "
            f"letters, digits or '_' (Dora ids and ROS 2 names both accept that)"
        )
    if "__" in name or name.endswith("_"):
        raise InvalidNameError(
            f"{kind} name '{name}'{at} is not valid on ROS 2: no '__' and no trailing '_'"
        )


def check_system_name(name: object) -> None:
    check_name("system", name)
    assert isinstance(name, str)
    if not _PACKAGE.match(name):
        raise InvalidNameError(
            f"system name '{name}' must be lower case (letters, digits, '_'): it names the "
            f"generated ROS 2 packages ('{name.lower()}_bringup')"
        )


def validate(graph: SystemGraph) -> None:
    """Check names, uniqueness, fan-in, unstartable cycles and the clock."""
    check_system_name(graph.name)
    _check_unique("node", [n.name for n in graph.nodes])
    _check_unique("component", [c.name for c in graph.components])
    for n in graph.nodes:
        check_name("node", n.name)
        if n.name in _RESERVED_NODE_NAMES:
            raise InvalidNameError(f"node name '{n.name}' is reserved by Dora; choose another name")
        if n.machine is not None:
            check_name("machine", n.machine, f"of node '{n.name}'")
    for c in graph.components:
        check_name("component", c.name)
        for p in (*c.inputs, *c.outputs):
            check_name("port", p.name, f"of component '{c.name}'")
            if p.topic is not None and not _TOPIC.match(p.topic):
                raise InvalidNameError(
                    f"topic '{p.topic}' of {c.name}.{p.name} is not a valid ROS 2 topic name: use tokens "
                    f"of letters, digits and '_' separated by '/', e.g. '/robot/camera/image'"
                )
        _check_frames(c)
    _check_shared_topics(graph)
    _check_fan_in(graph)
    _check_cycles(graph)
    if graph.clock is not None and graph.clock not in {c.name for c in graph.components}:
        raise NoClockError(
            f"System.Config.clock = '{graph.clock}' is not a component of system '{graph.name}'; "
            f"choose one of: {', '.join(c.name for c in graph.components)}"
        )


def _check_frames(c: ComponentSpec) -> None:
    """Every frame a component's outputs may be given (the port's, its Config's) is a valid
    frame name."""
    given = [(f"frame_id {p.frame_id!r} of {c.name}.{p.name}", p.frame_id) for p in c.outputs if p.frame_id]
    given += [(f"{c.name}.config.{k} = {v!r}", v) for k, v in c.config.items()
              if (k == "frame_id" or k.endswith("_frame_id")) and v]
    for what, frame in given:
        if not valid_frame_id(frame):
            raise InvalidNameError(
                f"{what} is not a valid ROS frame name: letters, digits and '_', segments separated "
                f"by '/', not starting with a digit or '/' (e.g. 'camera_optical', 'robot1/base_link')"
            )


def _check_shared_topics(graph: SystemGraph) -> None:
    """No two outputs publish on one topic (a named one, or /tf): recordings, the live view
    and the ready barrier know a topic by the port that sends on it."""
    seen: dict[str, str] = {}
    for c in graph.components:
        for p in c.outputs:
            topic = named_topic(p)
            if topic is None:
                continue
            if topic in seen:
                also = " (transforms: send a list[TransformStamped] from one output)" if p.tf else ""
                raise DuplicateNameError(
                    f"outputs {seen[topic]} and {c.name}.{p.name} both publish on topic '{topic}': give each "
                    f"its own topic{also}"
                )
            seen[topic] = f"{c.name}.{p.name}"


def _check_unique(kind: str, names: list[str]) -> None:
    dupes = [n for n, k in Counter(names).items() if k > 1]
    if dupes:
        raise DuplicateNameError(
            f"two {kind}s are named '{dupes[0]}': {kind} names must be unique in a system; "
            f"pass name=... to tell them apart"
        )


def _check_fan_in(graph: SystemGraph) -> None:
    sources: dict[tuple[str, str], str] = {(c, p): f"topic '{t}' (from outside the system)"
                                           for c, p, t in graph.foreign_inputs()}
    for conn in graph.connections:
        key = (conn.dst, conn.dst_port)
        src = f"{conn.src}.{conn.src_port}"
        if key in sources:
            raise FanInError(
                f"input {conn.dst}.{conn.dst_port} has two sources ({sources[key]} and {src}); "
                f"an input takes one source: add a merge component with one input per source"
            )
        sources[key] = src


def _check_cycles(graph: SystemGraph) -> None:
    """Find input-triggered cycles that nothing can ever start.

    A component steps if it has a timer or a triggering input whose source emits;
    a component emits if it steps or overrides ``on_start``. Components on a cycle
    that can never step would deadlock silently: report them.
    """
    comps = {c.name: c for c in graph.components}
    triggers: dict[str, list[str]] = {name: [] for name in comps}
    for conn in graph.connections:
        if comps[conn.dst].input(conn.dst_port).trigger:
            triggers[conn.dst].append(conn.src)

    # Timers step; so do inputs fed from outside by a topic, whenever a message comes.
    fed = {c for c, p, _ in graph.foreign_inputs() if comps[c].input(p).trigger}
    steps = {name for name, c in comps.items() if c.rate_hz or name in fed}
    # External processes may send at any time; on_start() may send.
    emits = steps | {name for name, c in comps.items() if c.starts or graph.is_external(name)}
    changed = True
    while changed:
        changed = False
        for name, srcs in triggers.items():
            if name not in steps and any(s in emits for s in srcs):
                steps.add(name)
                emits.add(name)
                changed = True

    dead = set(comps) - steps
    for start in comps:
        if start in dead:
            cycle = _find_cycle(start, triggers, dead)
            if cycle:
                path = " -> ".join(cycle + [cycle[0]])
                raise UnstartableCycleError(
                    f"the input-triggered cycle {path} never starts: nothing in it has a timer or "
                    f"emits from on_start(). Return a first message from on_start() in one of them "
                    f"(e.g. {cycle[0]}), give one a rate_hz, or make one input trigger=False"
                )


def _find_cycle(start: str, triggers: dict[str, list[str]], within: set[str]) -> list[str]:
    """A cycle through ``start`` along trigger edges (reversed), inside ``within``."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        for src in triggers[name]:
            if src == start:
                return list(reversed(path))
            if src in within and src not in seen:
                seen.add(src)
                stack.append((src, path + [src]))
    return []


def infer_clock(graph: SystemGraph) -> str | None:
    """The configured clock, else the first component with a timer or an on_start()."""
    if graph.clock is not None:
        return graph.clock
    for c in graph.components:
        if c.rate_hz or c.starts:
            return c.name
    return None


def require_clock(graph: SystemGraph) -> str:
    clock = infer_clock(graph)
    if clock is None:
        raise NoClockError(
            f"launch(iterations=...) needs a clock component, and system '{graph.name}' has none: "
            f"no component has a rate_hz or an on_start(). Set System.Config(clock='<component>')"
        )
    return clock


def require_stepping_clock(graph: SystemGraph, iterations: int, replayed: Collection[str] = ()) -> None:
    """``iterations`` count the clock's steps: a clock that can never step would never end
    the run (it would wait forever on Dora and ROS 2)."""
    clock = graph.component(require_clock(graph))
    fed = {conn.dst_port for conn in graph.connections if conn.dst == clock.name}
    if clock.rate_hz or clock.name in replayed or any(
            p.trigger and (p.name in fed or p.topic is not None) for p in clock.inputs):
        return
    raise NoClockError(
        f"launch(iterations={iterations}) counts the steps of clock component '{clock.name}', which never "
        f"steps: it has no rate_hz and no connected input that triggers it. Give it a rate_hz, choose "
        f"another clock (System.Config(clock=...)), or bound the run with duration or timeout instead"
    )

