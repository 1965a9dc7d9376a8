"""``launch(transport="ros2")``: build the system's packages and run them with ``ros2 launch``.

The packages are compiled into the run directory's workspace (``<run_dir>/ws``) and
built with colcon (a build of the same files is reused); ``ros2 launch`` then runs the
bringup package's launch file with the run bounds, the run directory and the ports to
record as launch arguments. The nodes report to the run directory (``common.rundir``), so the
launcher fails fast, stops everything on ``timeout`` and Ctrl-C, and returns the same
``RunResult`` as every transport. ROS 2's own logs go to ``<run_dir>/log``.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

from like_keras.errors import TransportError
from like_keras.graph.ir import SystemGraph
from like_keras.recording.replay import to_arg
from like_keras.result import RunResult
from like_keras.transports.common import lockstep, rundir
from like_keras.transports.common.options import RunOptions
from like_keras.transports.common.supervise import prepare, supervise
from like_keras.utils.files import tail
from like_keras_ros import workspace
from like_keras_ros.bringup import bringup_name
from like_keras_ros.environment import ros_environment, sourced

_GRACE = 5.0  # seconds a stopped launch gets to drain and end before it is killed


def launch(system: Any, graph: SystemGraph, options: RunOptions, *, namespace: str = "") -> RunResult:
    """Run ``graph`` on ROS 2 on this machine: in simulated time unless ``realtime`` (then
    ``duration`` is simulated seconds, published on /clock; ``common.lockstep`` says when
    the wall clock is kept instead). ``namespace`` puts the whole system under one."""
    out, iterations, replays = prepare(graph, options)
    ws = out / "ws"
    with open(out / "colcon.log", "w") as log:
        rc = workspace.build(system, ws, log=log, reuse=True)
    if rc != 0:
        raise TransportError(f"colcon build of system '{graph.name}' failed (exit {rc}); its output is in "
                             f"{out / 'colcon.log'}:\n{tail(out / 'colcon.log')}")
    env = sourced({**ros_environment(), "ROS_LOG_DIR": str(out / "log")}, ws / "install" / "setup.bash")
    # Nodes import the system as this process did (same interpreter, same import path).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), rundir.import_path()) if p)
    ros2 = shutil.which("ros2", path=env.get("PATH"))
    if ros2 is None:
        raise TransportError("the ros2 command is not on PATH after sourcing ROS 2: install ros2launch")
    args = {"iterations": iterations or 0, "duration": float(options.duration or 0.0), "run_dir": out,
            "record": ",".join(options.record), "namespace": namespace, "replay": to_arg(replays) if replays else "",
            "lockstep": "true" if lockstep.applies(graph, options.realtime, set(replays)) else "false",
            "epoch_ns": time.time_ns()}
    cmd = [ros2, "launch", bringup_name(graph), f"{graph.name}.launch.py",
           *(f"{key}:={value}" for key, value in args.items() if value != "")]  # launch takes no empty value
    return supervise(graph, "ros2", cmd, out, env, options, what="ROS 2 launch", log="launch.log", grace=_GRACE)

