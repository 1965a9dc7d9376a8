"""Compile a system to ROS 2 colcon packages.

``compile`` writes ``<system>_bringup`` (and ``<system>_interfaces`` when the system has
its own Msg types), and what travels with them (``like_keras``, ``like_keras_ros``,
``<system>_app``: see ``app.py``) into a colcon workspace's ``src`` directory, each
package replaced whole. ``launch`` (``launcher.py``) builds them with colcon and runs ``ros2 launch``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from like_keras.errors import TransportError
from like_keras.graph.ir import SystemGraph
from like_keras.transports.common.artifact import travelling
from like_keras.transports.common.target import require_rebuildable
from like_keras.utils.files import replace_tree
from like_keras_ros.app import write_app, write_own_packages
from like_keras_ros.bringup import bringup_files, bringup_name
from like_keras_ros.interfaces import write_interfaces


def compile(graph: SystemGraph, out: Path, *, portable: bool = True, **options: Any) -> Path:
    """Write the system's ROS 2 packages into ``out`` (a workspace's ``src``); returns ``out``.

    ``portable`` (the default): the workspace builds and runs on a machine with only ROS 2
    and Python: like-keras and the system's code travel in it (``app.py``). Otherwise the
    nodes import both from the environment that builds it (``launch`` on this machine)."""
    external = [n.name for n in graph.nodes if n.executable is not None]
    if external:
        raise TransportError(
            f"node '{external[0]}' is an external Dora process; on ROS 2 run your own ROS node instead "
            f"and connect it by topic (Output(T, topic=...))"
        )
    require_rebuildable(graph)
    out = Path(out)
    if portable:
        graph, modules = travelling(graph)
        write_own_packages(out)
        write_app(graph, modules, out)
    write_interfaces(graph, out)
    replace_tree(out / bringup_name(graph), bringup_files(graph, app=portable))
    return out
