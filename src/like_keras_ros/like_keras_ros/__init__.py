"""The ROS 2 transport of like-keras, registered as ``ros2`` in the ``like_keras.transports``
entry-point group. This module is its seam: ``compile``, ``launch`` and ``lk ros2 ...``.

- ``compiler``: ``compile``, the ``<system>_bringup`` package (with ``launch_file``) and,
  for user Msg types, ``<system>_interfaces`` (``interfaces``).
- ``launcher``: ``launch``: colcon build, then ``ros2 launch``, supervised.
- ``host``: one like-keras node on ROS 2 topics, in plain Python (tested without rclpy).
- ``runner``: the thin rclpy adapter around the host (the only rclpy import).
- ``workspace``: ``lk ros2 build`` (generate, then ``colcon build``); ``environment``: a
  sourced ROS 2.
- ``app``: what travels in a self-contained workspace; ``remote``: ROS 2 across machines,
  for ``like_keras.deploy`` (loaded when used, as ``like_keras_ros.remote``).
- port types <-> ROS 2 messages: ``like_keras.msgs.ros_mapping`` (core: recordings use it too).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from like_keras.graph.ir import SystemGraph
    from like_keras.result import RunResult
    from like_keras.transports import RunOptions

__all__ = ["MANAGES_LIFECYCLE", "cli", "compile", "launch"]

MANAGES_LIFECYCLE = True  # lifecycle nodes answer /<node>/change_state; launch files autostart them

# The modules behind the seam load when called: a node process (``runner``) imports this
# package too, and needs neither the compiler nor the launcher.


def compile(graph: SystemGraph, out: Path, **options: Any) -> Path:
    """Write the system's ROS 2 packages into ``out`` (``compiler.compile``)."""
    from like_keras_ros import compiler

    return compiler.compile(graph, out, **options)


def launch(system: Any, graph: SystemGraph, options: RunOptions, **extra: Any) -> RunResult:
    """Build the system's packages and run them with ``ros2 launch`` (``launcher.launch``)."""
    from like_keras_ros import launcher

    return launcher.launch(system, graph, options, **extra)


def cli(sub: argparse._SubParsersAction, command: Callable[..., argparse.ArgumentParser]) -> None:
    """``lk ros2 build TARGET --workspace WS``."""
    build = command(sub, "build", "Generate the system's packages into WS/src and colcon build WS, to run here "
                    "(lk compile writes a workspace that travels).", _build)
    build.add_argument("--workspace", required=True, metavar="WS")


def __getattr__(name: str) -> Any:
    if name == "remote":
        import importlib

        return importlib.import_module(f"{__name__}.remote")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _build(system: Any, args: argparse.Namespace) -> int:
    from like_keras_ros import workspace

    return workspace.build(system, args.workspace)
