"""``SystemGraph``: the frozen, JSON-serialisable IR that transports read.

Data flows one way: user classes -> ``System.build()`` -> ``SystemGraph`` -> a
transport. A transport never needs the user's classes to plan; processes that run
components rebuild them from code (the system's target), not from this IR.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class PortSpec:
    """A port: its name, JSON type (see ``like_keras.types.to_json``) and delivery options
    (inputs: trigger, default, keep_last; outputs: topic override, image)."""

    name: str
    type: dict[str, Any]
    trigger: bool = True
    has_default: bool = False
    keep_last: int | None = None
    topic: str | None = None
    image: bool = False


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

    def component(self, name: str) -> ComponentSpec:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component named '{name}' in system '{self.name}'")

    def node(self, name: str) -> NodeSpec:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node named '{name}' in system '{self.name}'")

    def node_of(self, component: str) -> str:
        return self.component(component).node

    def keep_last(self, readers: list[tuple[str, str]]) -> int | None:
        """How many messages a transport may keep for inputs ``readers`` (component, port)
        fed by one source: lossy only when every one of them opted in with keep_last."""
        keep = [self.component(c).input(p).keep_last for c, p in readers]
        return max(keep) if all(keep) else None  # type: ignore[type-var]

    def foreign_inputs(self) -> list[tuple[str, str, str]]:
        """(component, port, topic) of every input fed from outside the system by a topic."""
        return [(c.name, p.name, p.topic) for c in self.components for p in c.inputs if p.topic is not None]

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
