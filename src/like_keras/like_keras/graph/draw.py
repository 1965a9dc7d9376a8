"""The system graph as a picture (Graphviz): ``System.draw(path)`` and ``lk graph --format svg``.

Each node is a box holding its components; each connection an arrow labelled with its
ports and type (dashed when the input does not trigger a step). Timers and the clock
are marked on their components; external processes are dashed boxes; topics that reach
the world outside the system (``Input(T, topic=...)``, ``Output(T, topic=...)``) are
ellipses at the edge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from like_keras.errors import TransportError
from like_keras.graph.ir import SystemGraph
from like_keras.system import types
from like_keras.utils.files import atomic_write

FORMATS = ("svg", "png", "dot")


def dot(graph: SystemGraph) -> Any:
    """The ``graphviz.Digraph`` of ``graph``."""
    import graphviz

    g = graphviz.Digraph(graph.name, graph_attr={"rankdir": "LR", "label": f"system {graph.name}", "labelloc": "t",
                                                  "fontname": "Helvetica"},
                         node_attr={"fontname": "Helvetica", "shape": "box", "style": "rounded"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    for node in graph.nodes:
        external = node.executable is not None
        title = f"node {node.name}" + (f" @ {node.machine}" if node.machine else "")
        title += f"\\n(external: {Path(node.executable).name})" if external else ""
        with g.subgraph(name=f"cluster_{node.name}") as box:
            box.attr(label=title, style="dashed" if external else "solid")
            for name in node.components:
                box.node(_id(name), _label(graph, name, external))
    for conn in graph.connections:
        spec = graph.component(conn.dst).input(conn.dst_port)
        g.edge(_id(conn.src), _id(conn.dst), label=f"{conn.src_port} → {conn.dst_port}\\n{_type(spec)}",
               style="solid" if spec.trigger else "dashed")
    for comp in graph.components:
        for port in comp.inputs:
            if port.topic is not None:
                _topic_node(g, port.topic)
                g.edge(_topic(port.topic), _id(comp.name), label=f"→ {port.name}\\n{_type(port)}")
        for port in comp.outputs:
            if port.topic is not None:
                _topic_node(g, port.topic)
                g.edge(_id(comp.name), _topic(port.topic), label=f"{port.name} →\\n{_type(port)}")
    return g


def draw(graph: SystemGraph, path: str | Path, format: str | None = None) -> Path:
    """Write the picture of ``graph`` to ``path``; ``format`` (svg, png or dot) defaults to
    the file's suffix. Returns the path written."""
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".") or "svg").lower()
    if fmt not in FORMATS:
        raise TransportError(f"cannot draw system '{graph.name}' as '{fmt}' ({path}): use one of {', '.join(FORMATS)}")
    g = dot(graph)
    if fmt == "dot":
        data = g.source.encode()
    else:
        import graphviz

        try:
            data = g.pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise TransportError(
                "drawing needs Graphviz's 'dot' program: install Debian's graphviz (`make setup` does)"
            ) from None
    return atomic_write(path, data)


def _id(component: str) -> str:
    return f"c_{component}"


def _topic(topic: str) -> str:
    return f"t_{topic}"


def _topic_node(g: Any, topic: str) -> None:
    """A topic of the world outside the system: a yellow ellipse."""
    g.node(_topic(topic), topic, shape="ellipse", style="filled", fillcolor="lightyellow")


def _type(port: Any) -> str:
    return types.describe(types.from_json(port.type))


def _label(graph: SystemGraph, name: str, external: bool) -> str:
    c = graph.component(name)
    lines = [name] if external else [name, c.cls.rpartition(":")[2].rpartition(".")[2]]
    if c.rate_hz:
        lines.append(f"timer {c.rate_hz:g} Hz")
    if graph.clock == name:
        lines.append("clock")
    return "\\n".join(lines)
