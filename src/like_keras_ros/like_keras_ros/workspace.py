"""``lk ros2 build`` and the launcher's build: generate a system's packages into a colcon
workspace and build them with colcon.

colcon and CMake run with this interpreter first on PATH and as CMake's
``Python3_EXECUTABLE``, so the interfaces package's Python bindings are built for the
Python that runs the nodes, whatever is activated. With ROS 2 (sourced, or found in
``/opt/ros``) everything is built; without it only systems that need no interfaces
package can be, and saying so is an error, not a silent skip.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from like_keras.errors import TransportError
from like_keras.msgs.ros_mapping import interfaces_name
from like_keras.system.system import System
from like_keras_ros.environment import ros_environment
from like_keras_ros.interfaces import user_msgs

_STAMP = ".like_keras_build"


def build(system: System, workspace: str | Path, *, log: IO[str] | None = None, reuse: bool = False,
          portable: bool = False) -> int:
    """Compile ``system`` into ``workspace/src`` and run ``colcon build``; returns its exit code.
    ``reuse``: skip the build when the workspace already holds a good build of the same files;
    ``portable``: like-keras and the system's code travel in the workspace (``app.py``);
    otherwise the nodes import them from this environment, the one that runs the build."""
    ws = Path(workspace).resolve()
    graph = system.build()
    env = _environment(graph_needs_ros=bool(user_msgs(graph)), name=interfaces_name(graph))
    system.compile_to_transport("ros2", ws / "src", portable=portable)
    key = _tree_digest(ws / "src")
    stamp = ws / _STAMP
    if reuse and stamp.exists() and stamp.read_text() == key:
        return 0
    stamp.unlink(missing_ok=True)
    colcon = shutil.which("colcon", path=env["PATH"])
    if colcon is None:
        raise TransportError("colcon is not installed: pip install colcon-common-extensions (or `make setup`)")
    cmd = [colcon, "build", "--cmake-args", f"-DPython3_EXECUTABLE={sys.executable}", "-DBUILD_TESTING=OFF"]
    print("$ " + " ".join(cmd), file=log or sys.stdout, flush=True)
    rc = subprocess.run(cmd, cwd=ws, env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
                        stdin=subprocess.DEVNULL).returncode
    if rc == 0:
        stamp.write_text(key)
    return rc


def _environment(graph_needs_ros: bool, name: str) -> Mapping[str, str]:
    """ROS 2's environment, or without ROS 2 this one when nothing needs it; this
    interpreter's folder first on PATH."""
    try:
        env = dict(ros_environment())
    except TransportError as exc:
        if graph_needs_ros:
            raise TransportError(f"{name} (the system's own Msg types) needs ROS 2's rosidl to build. {exc}") from None
        env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256(sys.executable.encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
