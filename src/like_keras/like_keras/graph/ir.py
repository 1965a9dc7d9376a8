"""``SystemGraph``: the frozen, JSON-serialisable IR that transports read.

Data flows one way: user classes -> ``System.build()`` -> ``SystemGraph`` -> a
transport. A transport never needs the user's classes to plan; processes that run
components rebuild them from code (the system's target), not from this IR.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class PortSpec:
    """A port: its name, JSON type (see ``like_keras.system.types.to_json``) and delivery options
    (inputs: trigger, default, keep_last; outputs: topic override, image, frame, latched, tf)."""

    name: str
    type: dict[str, Any]
    trigger: bool = True
    has_default: bool = False
    keep_last: int | None = None
    topic: str | None = None
    image: bool = False
    frame_id: str | None = None
    latched: bool = False
    tf: bool = False


@dataclass(frozen=True)
class ComponentSpec:
    """A component instance: its class path, node, configuration and ports."""

    name: str
    cls: str
    node: str
    config: dict[str, Any] = field(default_factory=dict)
    rate_hz: float | None = None
    starts: bool = False
    inputs: tuple[PortSpec, ...] = ()
    outputs: tuple[PortSpec, ...] = ()

    def input(self, name: str) -> PortSpec:
        return next(p for p in self.inputs if p.name == name)

    def output(self, name: str) -> PortSpec:
        return next(p for p in self.outputs if p.name == name)


@dataclass(frozen=True)
class NodeSpec:
    """A process and the components it hosts, in declaration order.

    An external node (``executable`` set) hosts one stand-in component, named like
    the node, whose ports are the process's Dora inputs and outputs.
    """

    name: str
    components: tuple[str, ...] = ()
    machine: str | None = None
    executable: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    lifecycle: bool = False  # a managed node on ROS 2
    autostart: bool = True  # a lifecycle node's launch configures and activates it


@dataclass(frozen=True)
class ConnectionSpec:
    """An edge from one output port to one input port."""

    src: str
    src_port: str
    dst: str
    dst_port: str

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} -> {self.dst}.{self.dst_port}"


@dataclass(frozen=True)
class SystemGraph:
    """The whole system: nodes, components, connections and the clock component.

    ``target`` (``module:Name`` or ``/abs/file.py:Name``) and ``target_kwargs`` say how
    another process rebuilds the same system from code.
    """

    name: str
    nodes: tuple[NodeSpec, ...]
    components: tuple[ComponentSpec, ...]
    connections: tuple[ConnectionSpec, ...]
    clock: str | None = None
    target: str | None = None
    target_kwargs: dict[str, Any] | None = None

    @cached_property
    def _index(self) -> _Index:
        """Lookups by name, built once (the graph is frozen): compilers stay linear."""
        return _Index(self)

    def component(self, name: str) -> ComponentSpec:
        try:
            return self._index.components[name]
        except KeyError:
            raise KeyError(f"no component named '{name}' in system '{self.name}'") from None

    def node(self, name: str) -> NodeSpec:
        try:
            return self._index.nodes[name]
        except KeyError:
            raise KeyError(f"no node named '{name}' in system '{self.name}'") from None

    def node_of(self, component: str) -> str:
        return self.component(component).node

    def cross_node_connections(self, node: str | None = None) -> tuple[ConnectionSpec, ...]:
        """The connections between two nodes (that touch ``node``, when given), in order."""
        if node is None:
            return self._index.cross
        return self._index.cross_of.get(node, ())

    def connections_from(self, component: str) -> tuple[ConnectionSpec, ...]:
        """The connections out of ``component``, in order."""
        return self._index.out_of.get(component, ())

    def reader_nodes(self, component: str, port: str) -> frozenset[str]:
        """The other nodes that read output ``component.port``."""
        return self._index.readers.get((component, port), frozenset())

    def lossless_readers(self, component: str, port: str) -> list[str]:
        """The like-keras nodes (not external processes) that read output ``component.port``
        from another node losslessly (not every reader there opted into keep_last), sorted:
        those a sender keeps a window of messages in flight to. None for an external
        process's output (an empty list): it takes no part in flow control."""
        if self.is_external(component):
            return []
        node = self.node_of(component)
        dests: dict[str, list[tuple[str, str]]] = {}
        for conn in self.connections_from(component):
            if conn.src_port == port and self.node_of(conn.dst) != node:
                dests.setdefault(self.node_of(conn.dst), []).append((conn.dst, conn.dst_port))
        return sorted(n for n, d in dests.items() if not self.is_external(d[0][0]) and not self.keep_last(d))

    def keep_last(self, readers: list[tuple[str, str]]) -> int | None:
        """How many messages a transport may keep for inputs ``readers`` (component, port)
        fed by one source: lossy only when every one of them opted in with keep_last."""
        keep = [self.component(c).input(p).keep_last for c, p in readers]
        return max(keep) if all(keep) else None  # type: ignore[type-var]

    def foreign_inputs(self, node: str | None = None) -> list[tuple[str, str, str]]:
        """(component, port, topic) of every input fed from outside the system by a topic
        (of ``node``'s components, when given)."""
        comps = self.components if node is None else [self.component(c) for c in self.node(node).components]
        return [(c.name, p.name, p.topic) for c in comps for p in c.inputs if p.topic is not None]

    def is_external(self, component: str) -> bool:
        """True for the stand-in component of an external node."""
        return self.node(self.node_of(component)).executable is not None

    def is_cross_node(self, conn: ConnectionSpec) -> bool:
        return self.node_of(conn.src) != self.node_of(conn.dst)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def digest(self) -> str:
        """A fingerprint of the system: node processes check they rebuilt the one compiled."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SystemGraph:
        def ports(items: list[dict[str, Any]]) -> tuple[PortSpec, ...]:
            return tuple(PortSpec(**p) for p in items)

        return cls(
            name=d["name"],
            nodes=tuple(
                NodeSpec(**{**n, "components": tuple(n["components"]), "args": tuple(n.get("args", ()))})
                for n in d["nodes"]
            ),
            components=tuple(
                ComponentSpec(**{**c, "inputs": ports(c["inputs"]), "outputs": ports(c["outputs"])})
                for c in d["components"]
            ),
            connections=tuple(ConnectionSpec(**c) for c in d["connections"]),
            clock=d.get("clock"),
            target=d.get("target"),
            target_kwargs=d.get("target_kwargs"),
        )

    @classmethod
    def from_json(cls, text: str) -> SystemGraph:
        return cls.from_dict(json.loads(text))


class _Index:
    """A SystemGraph's lookups: components and nodes by name, connections by source,
    cross-node connections (all, and by the nodes they touch) and the nodes reading each
    output."""

    def __init__(self, graph: SystemGraph) -> None:
        self.components = {c.name: c for c in graph.components}
        self.nodes = {n.name: n for n in graph.nodes}
        node_of = {c.name: c.node for c in graph.components}
        out_of: dict[str, list[ConnectionSpec]] = {}
        for conn in graph.connections:
            out_of.setdefault(conn.src, []).append(conn)
        self.out_of = {name: tuple(conns) for name, conns in out_of.items()}
        cross = [c for c in graph.connections if node_of[c.src] != node_of[c.dst]]
        self.cross = tuple(cross)
        by_node: dict[str, list[ConnectionSpec]] = {}
        readers: dict[tuple[str, str], set[str]] = {}
        for conn in cross:
            by_node.setdefault(node_of[conn.src], []).append(conn)
            by_node.setdefault(node_of[conn.dst], []).append(conn)
            readers.setdefault((conn.src, conn.src_port), set()).add(node_of[conn.dst])
        self.cross_of = {n: tuple(conns) for n, conns in by_node.items()}
        self.readers = {k: frozenset(v) for k, v in readers.items()}
