"""``System``: nodes, components and connections, described once, run anywhere."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from like_keras.errors import (
    GraphError,
    InvalidConnectionError,
    MissingNodeError,
    PortTypeMismatchError,
    UnknownPortError,
)
from like_keras.graph.ir import ComponentSpec, ConnectionSpec, NodeSpec, PortSpec, SystemGraph
from like_keras.graph.validation import check_system_name, infer_clock, validate
from like_keras.live import Live
from like_keras.result import RunResult
from like_keras.system import types
from like_keras.system.component import Component
from like_keras.system.node import Node
from like_keras.system.ports import PortRef
from like_keras.utils.paths import class_path

_DEFAULT_NODE = "main"


@dataclasses.dataclass
class SystemConfig:
    """``name`` of the system (lower case: it names generated packages) and the
    ``clock`` component that ``launch(iterations=N)`` counts (inferred when None)."""

    name: str | None = None
    clock: str | None = None


class System:
    """A robot system. Subclass it and assign nodes and components as attributes,
    then call ``super().__init__(config=System.Config(name=...))``; or use the
    functional form ``System(name=..., nodes=[...], components=[...],
    connections=[(src, dst), ...])``.
    """

    Config = SystemConfig

    def __new__(cls, *args: Any, **kwargs: Any) -> System:
        self = super().__new__(cls)
        # How this system was made: remote processes rebuild it from code.
        self.__dict__["_init_args"] = (args, kwargs)
        return self

    def __init__(
        self,
        config: SystemConfig | None = None,
        *,
        name: str | None = None,
        nodes: Sequence[Node] = (),
        components: Sequence[Component] = (),
        connections: Iterable[tuple[Any, Any]] = (),
        clock: str | None = None,
    ) -> None:
        config = config or SystemConfig()
        self.config = dataclasses.replace(
            config,
            name=name or config.name or _snake(type(self).__name__),
            clock=clock or config.clock,
        )
        self._extra_nodes = list(nodes)
        self._extra_components = list(components)
        for src, dst in connections:
            self.connect(src, dst)

    # --- describing ------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._config().name  # type: ignore[return-value]

    def connect(self, src: PortRef | str, dst: PortRef | str) -> None:
        """Connect an output port to an input port; types must match."""
        src_ref, dst_ref = self._ref(src), self._ref(dst)
        if src_ref.is_input or not dst_ref.is_input:
            raise InvalidConnectionError(
                f"connect({src_ref!r}, {dst_ref!r}): connect an output to an input, in that order"
            )
        s_t, d_t = src_ref.port.type, dst_ref.port.type
        if not types.compatible(s_t, d_t):
            raise PortTypeMismatchError(
                f"cannot connect {src_ref!r} ({types.describe(s_t)}) to {dst_ref!r} "
                f"({types.describe(d_t)}): the port types differ; change one port's type "
                f"or add a component that converts"
            )
        self.__dict__.setdefault("_connections", []).append((src_ref, dst_ref))

    def build(self) -> SystemGraph:
        """Validate the system and return its frozen IR; raises a GraphError if wrong."""
        config = self._config()
        check_system_name(config.name)
        comps = self._components()
        nodes = self._nodes(comps)
        names = {id(c) for c in comps}
        conns = []
        for src, dst in self.__dict__.get("_connections", []):
            for ref in (src, dst):
                if id(ref.component) not in names:
                    raise InvalidConnectionError(
                        f"connection {src!r} -> {dst!r} uses component {ref.component!r}, which is not "
                        f"part of system '{config.name}': assign it as an attribute or list it in components="
                    )
            conns.append(ConnectionSpec(src.component.name, src.port.name, dst.component.name, dst.port.name))
        members: dict[int, list[str]] = {id(n): [] for n in nodes}
        for c in comps:
            members[id(c.node)].append(c.name)
        target, target_kwargs = self._target()
        graph = SystemGraph(
            name=config.name,  # type: ignore[arg-type]
            nodes=tuple(
                NodeSpec(n.name, tuple(members[id(n)]), n.machine, n.executable, n.args, n.env, n.lifecycle,
                         n.autostart) for n in nodes
            ),
            components=tuple(_component_spec(c) for c in comps),
            connections=tuple(conns),
            clock=config.clock,
            target=target,
            target_kwargs=target_kwargs,
        )
        validate(graph)
        return dataclasses.replace(graph, clock=infer_clock(graph))

    # --- inspecting ------------------------------------------------------------------

    def summary(self, print_fn: Any = None) -> None:
        """Print a table of nodes, components, ports and connections."""
        from like_keras.graph.summary import summary

        summary(self.build(), print_fn)

    def draw(self, path: str | Path, format: str | None = None) -> Path:
        """Draw the system with Graphviz to ``path`` (``svg``, ``png`` or ``dot``, by default
        from its suffix): nodes as boxes of components, connections as arrows with types."""
        from like_keras.graph.draw import draw

        return draw(self.build(), path, format)

    def to_mermaid(self) -> str:
        """A Mermaid flowchart of the system: one subgraph per node."""
        from like_keras.graph.summary import mermaid

        return mermaid(self.build())

    # --- running ---------------------------------------------------------------------

    def launch(
        self,
        transport: str = "native",
        iterations: int | None = None,
        duration: float | None = None,
        realtime: bool = False,
        record: Sequence[str] | None = None,
        timeout: float | None = None,
        live: bool | Live = False,
        *,
        progress: bool = False,
        run_dir: str | Path | None = None,
        replay: Mapping[str, Any] | None = None,
        machines: Mapping[str, str] | None = None,
        ssh_config: str | Path | None = None,
        **options: Any,
    ) -> RunResult:
        """Run the system on a transport and return what happened.

        Args:
            transport: ``"native"`` (this process), ``"dora"``, ``"ros2"`` or any
                transport installed through the ``like_keras.transports`` entry points.
            iterations: the clock component steps that many times, then the run drains
                and stops.
            duration: seconds to run (simulated time natively unless ``realtime``).
            realtime: pace the native transport's timers to the wall clock.
            record: ports to record into a rosbag2 bag, as ``"component.port"``.
            timeout: wall-clock seconds before the run is stopped and RunTimeoutError raised.
            live: serve a Foxglove live view of the recorded ports (every output without
                ``record``) while it runs, at ``ws://127.0.0.1:8765`` or where
                ``Live(host, port)`` says.
            progress: show a progress bar.
            run_dir: where the run keeps its files (default: a new temporary directory).
            replay: components, or inputs fed by a topic, whose messages come from rosbag2
                bags: ``{"camera": "runs/day1/recording"}`` or ``Replay(...)`` values.
            machines: run across machines over ssh (``"dora"``, ``"ros2"``): each
                ``Node(machine=NAME)`` on ``{NAME: "[user@]host[:port]" or an ssh Host alias}``.
                like-keras, the system's code and its wheels are installed there first
                (``like_keras.deploy``); the recording is fetched back.
            ssh_config: an OpenSSH config file to use instead of ``~/.ssh/config``.
            **options: the transport's own options (Dora: ``coordinator="host:port"``;
                ROS 2: ``namespace="robot_a"``).
        """
        from like_keras.live import serve
        from like_keras.transports import RunOptions, check_support, get

        if iterations is not None and (isinstance(iterations, bool) or not isinstance(iterations, int)
                                       or iterations < 1):
            raise ValueError(f"iterations must be a positive int, got {iterations!r}")
        graph = self.build()
        run = get(transport)
        check_support(graph, transport)
        with serve(graph, live, list(record or [])) as view:
            run_options = RunOptions(iterations=iterations, duration=duration, realtime=realtime,
                                     record=tuple(record or ()), timeout=timeout, progress=progress,
                                     run_dir=run_dir, replay=replay, live=view)
            if machines is not None:
                from like_keras import deploy

                if options:
                    raise TypeError(f"launch(machines=...) takes no transport options: {', '.join(options)}")
                return deploy.launch(self, transport, run_options, machines, ssh_config)
            if ssh_config is not None:
                raise TypeError("ssh_config= is for launch(machines=...)")
            return run.launch(self, graph, run_options, **options)

    def compile_to_transport(self, transport: str, output_path: str | Path, **options: Any) -> Path:
        """Write what ``transport`` needs to run this system (e.g. a Dora dataflow)."""
        from like_keras.transports import check_support, get_compiler

        graph = self.build()
        compiler = get_compiler(transport)
        check_support(graph, transport)
        return compiler(graph, Path(output_path), **options)

    # --- internals -------------------------------------------------------------------

    def _config(self) -> SystemConfig:
        config = self.__dict__.get("config")
        if not isinstance(config, SystemConfig):
            raise GraphError(
                f"{type(self).__qualname__}.__init__ must call super().__init__(...) "
                f"after assigning its nodes and components"
            )
        return config

    def _members(self, kind: type) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in self.__dict__.items() if not k.startswith("_") and isinstance(v, kind)]

    def _components(self) -> list[Component]:
        comps: list[Component] = []
        for attr, comp in self._members(Component):
            if comp.name is None:
                comp.name = attr
            comps.append(comp)
        seen = {id(c) for c in comps}
        for comp in self._extra_components:
            if comp.name is None:
                comp.name = _snake(type(comp).__name__)
            if id(comp) not in seen:
                seen.add(id(comp))
                comps.append(comp)
        return comps

    def _nodes(self, comps: list[Component]) -> list[Node]:
        nodes: list[Node] = []
        seen, listed = set(), {id(c) for c in comps}
        for node in [n for _, n in self._members(Node)] + self._extra_nodes + [c.node for c in comps]:
            if node is not None and id(node) not in seen:
                seen.add(id(node))
                nodes.append(node)
                if node.external is not None and id(node.external) not in listed:
                    listed.add(id(node.external))
                    comps.append(node.external)
        homeless = [c for c in comps if c.node is None]
        if homeless and len(nodes) > 1:
            raise MissingNodeError(
                f"component '{homeless[0].name}' has no node, and system '{self.name}' has "
                f"{len(nodes)} nodes ({', '.join(n.name for n in nodes)}): place it with "
                f"{type(homeless[0]).__name__}.from_node(node)"
            )
        if homeless:
            if not nodes:
                nodes.append(Node(_DEFAULT_NODE))
            for c in homeless:
                c.node = nodes[0]
        return nodes

    def _ref(self, end: PortRef | str) -> PortRef:
        if isinstance(end, PortRef):
            return end
        if isinstance(end, str) and "." in end:
            comp_name, port = end.split(".", 1)
            for comp in self._components():
                if comp.name == comp_name:
                    return getattr(comp, port)  # UnknownPortError if absent
            raise UnknownPortError(f"'{end}': system has no component named '{comp_name}'")
        raise InvalidConnectionError(
            f"connect() takes ports such as system.env.obs or 'env.obs', got {end!r}"
        )

    def _target(self) -> tuple[str | None, dict[str, Any] | None]:
        """How other processes rebuild this system: (``module:Name`` or ``file.py:Name``,
        JSON keyword arguments, or None when the arguments are not JSON)."""
        explicit = self.__dict__.get("_target_ref")
        if explicit:
            return explicit
        cls = type(self)
        if cls is System:
            return None, None
        target = class_path(cls)
        args, kwargs = self.__dict__.get("_init_args", ((), {}))
        try:
            bound = inspect.signature(cls.__init__).bind(self, *args, **kwargs).arguments
            call = {k: v for k, v in bound.items() if k != "self"}
            json.dumps(call)
        except (TypeError, ValueError):
            return target, None
        return target, call


def _component_spec(comp: Component) -> ComponentSpec:
    cls = type(comp)
    return ComponentSpec(
        name=comp.name,  # type: ignore[arg-type]
        cls=class_path(cls),
        node=comp.node.name,  # type: ignore[union-attr]
        config=_jsonable(dataclasses.asdict(comp.config)) if dataclasses.is_dataclass(comp.config) else {},
        rate_hz=comp.effective_rate_hz,
        starts=comp.starts,
        inputs=tuple(
            PortSpec(n, types.to_json(p.type), p.trigger, p.has_default, p.keep_last, topic=p.topic)
            for n, p in cls.inputs.items()
        ),
        outputs=tuple(
            PortSpec(n, types.to_json(p.type), topic=p.topic, image=p.image, frame_id=p.frame_id, latched=p.latched,
                     tf=p.tf)
            for n, p in cls.outputs.items()
        ),
    )


def _jsonable(value: Any) -> Any:
    """Config values as JSON: numpy values become lists/numbers, others their repr."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    return repr(value)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()

