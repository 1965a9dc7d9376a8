"""Human views of a SystemGraph: a summary table (rich) and a Mermaid diagram."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from typing import Any

from like_keras.graph.ir import PortSpec, SystemGraph
from like_keras.system import types


def _port(p: PortSpec) -> str:
    text = f"{p.name}: {types.describe(types.from_json(p.type))}" if p.type["kind"] != "msg" else (
        f"{p.name}: {p.type['class'].rpartition(':')[2]}"
    )
    if not p.trigger:
        text += " (sampled)"
    if p.keep_last:
        text += f" (keep_last={p.keep_last})"
    return text


def summary(graph: SystemGraph, print_fn: Callable[[str], Any] | None = None) -> None:
    """Print nodes, components with their ports and rates, and connections."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"System '{graph.name}'", show_lines=True)
    for col in ("Node", "Component", "Inputs", "Outputs", "Trigger"):
        table.add_column(col)
    for node in graph.nodes:
        for name in node.components:
            c = graph.component(name)
            trigger = f"timer {c.rate_hz:g} Hz" if c.rate_hz else "inputs"
            if c.name == graph.clock:
                trigger += " (clock)"
            node_label = node.name + (f" @ {node.machine}" if node.machine else "")
            table.add_row(
                node_label, f"{c.name} ({c.cls.rpartition(':')[2]})",
                "\n".join(_port(p) for p in c.inputs) or "-",
                "\n".join(_port(p) for p in c.outputs) or "-",
                trigger,
            )
    conns = Table(title="Connections")
    conns.add_column("From")
    conns.add_column("To")
    conns.add_column("Crosses nodes")
    for conn in graph.connections:
        conns.add_row(f"{conn.src}.{conn.src_port}", f"{conn.dst}.{conn.dst_port}",
                      "yes" if graph.is_cross_node(conn) else "no")
    buf = StringIO()
    console = Console(file=buf, width=110, force_terminal=False)
    console.print(table)
    console.print(conns)
    console.print(
        f"{count(graph.nodes, 'node')}, {count(graph.components, 'component')}, "
        f"{count(graph.connections, 'connection')}; clock: {graph.clock or 'none'}"
    )
    (print_fn or print)(buf.getvalue().rstrip("\n"))


def count(items: tuple[Any, ...], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def mermaid(graph: SystemGraph) -> str:
    """A Mermaid flowchart: a subgraph per node, an edge per connection labelled with ports."""
    lines = ["flowchart LR"]
    for node in graph.nodes:
        lines.append(f"  subgraph node_{node.name}[{json.dumps('node ' + node.name)}]")
        for name in node.components:
            c = graph.component(name)
            label = f"{c.name}: {c.cls.rpartition(':')[2]}" + (f" @ {c.rate_hz:g} Hz" if c.rate_hz else "")
            lines.append(f"    {c.name}[{json.dumps(label)}]")
        lines.append("  end")
    for conn in graph.connections:
        arrow = "-->" if graph.component(conn.dst).input(conn.dst_port).trigger else "-.->"
        lines.append(f"  {conn.src} {arrow}|{conn.src_port} to {conn.dst_port}| {conn.dst}")
    return "\n".join(lines) + "\n"
