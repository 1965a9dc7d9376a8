"""``lk ros2 build``: generate a system's packages into a colcon workspace and build it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from like_keras.errors import TransportError
from like_keras.system import System


def build(system: System, workspace: str | Path) -> int:
    """Compile ``system`` into ``workspace/src`` and run ``colcon build``; returns its exit code.

    Without a ROS 2 installation, interface packages (they need rosidl_default_generators)
    are skipped with a note, and the rest is built.
    """
    ws = Path(workspace)
    system.compile_to_transport("ros2", ws / "src")
    colcon = shutil.which("colcon", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if colcon is None:
        raise TransportError("colcon is not installed: pip install colcon-common-extensions")
    cmd = [colcon, "build"]
    if not has_rosidl_generators():
        needing = sorted(
            xml.parent.name for xml in (ws / "src").glob("*/package.xml")
            if "<buildtool_depend>rosidl_default_generators</buildtool_depend>" in xml.read_text()
        )
        for name in needing:
            print(f"note: skipping {name}: it needs rosidl_default_generators (a ROS 2 installation)")
        if needing:
            cmd += ["--packages-ignore", *needing]
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ws).returncode


def has_rosidl_generators() -> bool:
    """True in a sourced ROS 2 environment that can build interface packages."""
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    return any((Path(p) / "share/rosidl_default_generators/package.xml").is_file() for p in prefixes)
