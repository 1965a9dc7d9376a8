"""Finding ROS 2 and the environment its setup scripts make, for colcon and ``ros2 launch``.

ROS 2 is used the way a ROS developer uses it: already sourced in this shell, else the
``/opt/ros/<distro>/setup.bash`` that Ubuntu's ``ros-<distro>-*`` packages install (the
newest distribution when there are several). Setup scripts are sourced by bash in a
child process and the environment they leave is read back: nothing is guessed.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from like_keras.errors import TransportError

OPT_ROS = Path("/opt/ros")
_HOW = ("install ROS 2 Jazzy (on Ubuntu 24.04: sudo apt install ros-jazzy-ros-base) and run "
        "`source /opt/ros/jazzy/setup.bash`, or set it up as your robot's image does")


def setup_script() -> Path | None:
    """The setup script of the ROS 2 to use; None when this shell is already sourced."""
    if os.environ.get("ROS_DISTRO") and os.environ.get("AMENT_PREFIX_PATH"):
        return None
    found = sorted(OPT_ROS.glob("*/setup.bash"))
    if not found:
        raise TransportError(f"ROS 2 was not found: ROS_DISTRO is not set and there is no "
                             f"{OPT_ROS}/<distro>/setup.bash. To use the ros2 transport, {_HOW}")
    return found[-1]


def ros_environment() -> dict[str, str]:
    """This process's environment as it is now, with ROS 2 sourced (TransportError without ROS 2)."""
    return {**os.environ, **_ros_additions()}


@functools.lru_cache(maxsize=1)
def _ros_additions() -> dict[str, str]:
    """What sourcing ROS 2 sets (once per process: it takes a shell and a Python start-up)."""
    script = setup_script()
    env = dict(os.environ) if script is None else sourced(os.environ, script)
    check_python(env)
    return {k: v for k, v in env.items() if os.environ.get(k) != v}


def sourced(env: Mapping[str, str], *scripts: Path) -> dict[str, str]:
    """``env`` after ``source``-ing ``scripts`` in bash, in order."""
    body = "".join(f'source "${i}" >/dev/null || exit $?\n' for i in range(1, len(scripts) + 1))
    proc = subprocess.run(["bash", "-c", body + "env -0", "bash", *map(str, scripts)], env=dict(env),
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise TransportError(f"sourcing {', '.join(map(str, scripts))} failed (exit {proc.returncode}): "
                             f"{proc.stderr.decode(errors='replace').strip()}")
    pairs = (item.split("=", 1) for item in proc.stdout.decode().split("\0") if "=" in item)
    return {key: value for key, value in pairs}


def check_python(env: Mapping[str, str]) -> None:
    """This interpreter must import rclpy and ROS messages in ``env``: node processes run it."""
    code = "import rclpy, std_msgs.msg; std_msgs.msg.Float64MultiArray(data=[1.0])"
    proc = subprocess.run([sys.executable, "-c", code], env=dict(env), capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise TransportError(
            f"{sys.executable} cannot use ROS 2 {env.get('ROS_DISTRO', '')} (rclpy and its messages must "
            f"import in the Python that runs like-keras, e.g. a venv made with --system-site-packages "
            f"from the Python ROS 2 was built for):\n{tail}"
        )
