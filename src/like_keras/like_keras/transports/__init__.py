"""Transports: what moves messages. This module is the one seam through which the rest
of like-keras reaches a transport; each transport is a module found through the
entry-point group ``like_keras.transports`` (the name is the transport's, the value its
module), so a third-party transport plugs in exactly as the built-in ones do:

    [options.entry_points]
    like_keras.transports =
        toy = toy_transport

A transport module provides:

- ``launch(system, graph, options: RunOptions, **extra) -> RunResult``: run a built
  system (``extra``: the transport's own options, e.g. Dora's ``coordinator``);
- ``compile(graph, out, **options) -> Path``: optional, for transports that run from
  generated files;
- ``remote``: optional, a module that runs the transport across machines over ssh
  (``like_keras.deploy``): ``NEEDS_ROS``, ``SYSTEM_SITE``, ``requirements(graph)``,
  ``artifact(graph, out)``, ``build_script(release)`` and a ``Session`` class (see
  ``dora/remote.py``);
- ``MANAGES_LIFECYCLE``: optional, True when a manager outside the system can drive
  lifecycle nodes through their states (ROS 2); elsewhere a lifecycle node runs as a
  plain one, and one that waits for a manager (``autostart=False``) is refused;
- ``cli(sub, command)``: optional, adds the transport's own ``lk <name> ...``
  subcommands; ``command(sub, name, help, func)`` makes one that takes a TARGET and calls
  ``func(system, args)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from like_keras.errors import TransportError
from like_keras.transports.common.options import RunOptions

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from like_keras.graph.ir import SystemGraph

GROUP = "like_keras.transports"

__all__ = ["GROUP", "RunOptions", "available", "get", "get_compiler", "commands", "check_support"]


def available() -> list[str]:
    """Names of the transports that this installation provides."""
    return [name for name, ep in _registered().items() if _try_import(ep) is not None]


def get(name: str) -> ModuleType:
    """The transport module called ``name``; TransportError names the choices otherwise."""
    ep = _registered().get(name)
    if ep is None:
        raise TransportError(
            f"unknown transport {name!r}; available transports: {', '.join(available())}"
        )
    module = _try_import(ep)
    if module is None:
        raise TransportError(
            f"transport {name!r} is not provided by this installation; "
            f"available transports: {', '.join(available())}"
        )
    return module


def get_compiler(name: str) -> Callable[..., Path]:
    """The ``compile`` function of transport ``name``."""
    module = get(name)
    compiler: Any = getattr(module, "compile", None)
    if compiler is None:
        can = [n for n in available() if getattr(get(n), "compile", None) is not None]
        raise TransportError(
            f"transport {name!r} runs in-process and has nothing to compile; "
            f"transports that compile: {', '.join(can) or 'none in this installation'}"
        )
    return compiler


def check_support(graph: SystemGraph, name: str) -> None:
    """Raise TransportError, before anything runs, when transport ``name`` cannot honour
    what ``graph`` asks of it: a lifecycle node that waits for a manager needs one."""
    if getattr(get(name), "MANAGES_LIFECYCLE", False):
        return
    for node in graph.nodes:
        if node.lifecycle and not node.autostart:
            raise TransportError(
                f"node '{node.name}' is a lifecycle node that waits to be configured and activated "
                f"(autostart=False), and transport {name!r} has no lifecycle manager to do it: run it on "
                f"ros2 (ros2 lifecycle set, a plain rclpy client or Nav2's lifecycle manager drive it), or give "
                f"Node('{node.name}', lifecycle=True) its default autostart=True")


def commands() -> dict[str, Callable[..., None]]:
    """The ``cli`` hooks of the installed transports that add ``lk`` subcommands."""
    modules = {name: _try_import(ep) for name, ep in _registered().items()}
    return {name: m.cli for name, m in modules.items() if m is not None and hasattr(m, "cli")}


def _registered() -> dict[str, EntryPoint]:
    """The group's entry points by name (the first of a name wins), built-in ones first."""
    from importlib.metadata import entry_points  # here: node processes import this package, not the registry

    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return dict(sorted(found.items(), key=lambda item: (_ORDER.get(item[0], len(_ORDER)), item[0])))


_ORDER = {"native": 0, "dora": 1, "ros2": 2}


def _try_import(ep: EntryPoint) -> ModuleType | None:
    """The transport's module, or None when a package it needs is not installed."""
    try:
        return importlib.import_module(ep.module)
    except ModuleNotFoundError as exc:
        if exc.name and ep.module.startswith(exc.name):
            return None
        raise
