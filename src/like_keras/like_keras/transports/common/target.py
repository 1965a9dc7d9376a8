"""Load a system from a target: ``path/to/file.py:Name`` or ``package.module:Name``.

``Name`` is a System subclass (called with no arguments, or with ``kwargs``), a
factory function returning a System, or a System instance. Remote processes use
the same targets to rebuild their part of a system from code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from like_keras.errors import RunError, TargetError, TransportError
from like_keras.graph.ir import SystemGraph
from like_keras.system.system import System
from like_keras.utils.paths import is_file, resolve


def load_system(target: str, kwargs: dict[str, Any] | None = None) -> System:
    """Build the System that ``target`` names."""
    if ":" not in target:
        raise TargetError(
            f"target '{target}' needs the form path/to/file.py:Name or package.module:Name"
        )
    ref, _, attr = target.rpartition(":")
    obj = resolve(target)
    if isinstance(obj, System):
        system = obj
    elif callable(obj):
        system = obj(**(kwargs or {}))
    else:
        raise TargetError(f"target '{target}' is neither a System nor a factory returning one")
    if not isinstance(system, System):
        raise TargetError(
            f"target '{target}' returned {type(system).__name__}, not a like_keras System"
        )
    if is_file(ref):  # other processes may start elsewhere: keep the file's absolute path
        target = f"{Path(ref).resolve()}:{attr}"
    system.__dict__["_target_ref"] = (target, dict(kwargs or {}))
    return system


def require_rebuildable(graph: SystemGraph) -> None:
    """A TransportError unless node processes can rebuild ``graph``'s system from code: a
    target to import, called with JSON arguments."""
    if not graph.target:
        raise TransportError(
            f"system '{graph.name}' cannot be rebuilt in another process: define it as a System "
            f"subclass or factory in a module or file (not an anonymous System(...) in a session)"
        )
    if graph.target_kwargs is None:
        raise TransportError(
            f"system '{graph.name}' was constructed with arguments that are not JSON: other "
            f"processes rebuild it from {graph.target} and need JSON-serialisable arguments"
        )


def node_arguments(prog: str) -> argparse.ArgumentParser:
    """The command line every node runner takes: which system (``--target``, ``--kwargs``
    as JSON), which node of it, and the digest of the graph it was compiled from."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--target", required=True, help="path/to/file.py:Name or package.module:Name")
    parser.add_argument("--node", required=True)
    parser.add_argument("--kwargs", type=json.loads, default={}, help="the target's arguments, as JSON")
    parser.add_argument("--digest", help="the compiled graph's digest: a different rebuild is refused")
    return parser


def rebuild(target: str, kwargs: dict[str, Any] | None, node: str, digest: str | None = None,
            compiled: Path | None = None) -> tuple[System, SystemGraph]:
    """The system a node process hosts ``node`` of, rebuilt from code; a RunError when it is
    not the one compiled (``digest``; ``compiled`` is that graph's JSON, to show the difference)."""
    system = load_system(target, kwargs)
    graph = system.build()
    if digest and graph.digest() != digest:
        raise RunError(
            f"node '{node}' rebuilt a different system from {target} than the one compiled (the code "
            f"changed since, or building it is not deterministic): compile it again{_difference(graph, compiled)}",
            node=node,
        )
    return system, graph


def _difference(graph: Any, compiled: Path | None) -> str:
    if compiled is None or not compiled.exists():
        return ""
    ours, theirs = json.loads(graph.to_json()), json.loads(compiled.read_text())
    for key in ours:
        if ours[key] != theirs.get(key):
            return f". First difference, in '{key}':\n  compiled: {theirs.get(key)}\n  rebuilt:  {ours[key]}"
    return ""
