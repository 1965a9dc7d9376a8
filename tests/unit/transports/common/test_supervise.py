"""Supervising a multi-process run (``common/supervise.py`` with ``common/rundir.py``):
a node process that dies without a report fails the run at once, even while its launcher
goes on as if nothing happened (``ros2 launch`` with ``respawn:=true``, a Dora daemon
waiting for the other nodes). Real processes: a launcher stand-in starts a real node
process that reports as like-keras' nodes do (``NodeFiles``) and is then killed."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from like_keras.errors import RunError
from like_keras.transports.common import rundir
from like_keras.transports.common.supervise import Supervised

NODE = """
    import os, signal, sys, time
    from like_keras.transports.common.rundir import NodeFiles
    files = NodeFiles(sys.argv[1], "worker")
    files.started()
    {then}
"""
LAUNCHER = """
    import subprocess, sys, time
    subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])  # never reaped: a zombie when it dies
    time.sleep(120)  # the launcher does not notice
"""


def launch(tmp_path, then: str) -> Supervised:
    node = textwrap.dedent(NODE.format(then=then))
    cmd = [sys.executable, "-c", textwrap.dedent(LAUNCHER), node, str(tmp_path)]
    return Supervised(cmd, tmp_path, os.environ, what="launcher", log="launch.log", grace=1.0)


def test_a_node_killed_without_a_report_fails_the_run_while_its_launcher_goes_on(tmp_path):
    run = launch(tmp_path, "time.sleep(0.5); os.kill(os.getpid(), signal.SIGKILL)")
    try:
        with pytest.raises(RunError) as info:
            run.wait(None, 30)
        assert run.proc.poll() is None  # the launcher had not noticed: the run directory told
    finally:
        run.kill()
    pid = json.loads((tmp_path / "pids" / "worker.json").read_text())["pid"]
    assert info.value.node == "worker"
    assert f"node 'worker' (pid {pid}) died without reporting an error: it was killed or crashed" in str(info.value)


def test_a_node_that_finished_or_still_runs_is_no_failure(tmp_path):
    run = launch(tmp_path, "files.finished({'x': 1}); time.sleep(0.3)")
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "results" / "worker.json").exists():
            assert time.monotonic() < deadline
            assert rundir.failure(tmp_path) is None  # started, running
            time.sleep(0.05)
        time.sleep(0.6)  # it has ended, with its report
        assert rundir.failure(tmp_path) is None
        assert run.proc.poll() is None
    finally:
        run.kill()


def test_at_the_end_a_node_without_a_report_is_a_failure_even_if_its_pid_lives(tmp_path):
    # The launcher ended: a node process it left (pid reused, or stuck) never reported.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "pids").mkdir()
        (tmp_path / "pids" / "worker.json").write_text(json.dumps({"pid": sleeper.pid, "parent": os.getpid()}))
        assert rundir.failure(tmp_path) is None
        assert rundir.failure(tmp_path, final=True).node == "worker"
    finally:
        sleeper.send_signal(signal.SIGKILL)
        sleeper.wait()
