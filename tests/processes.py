"""Processes the tests start: each in a session of its own, stopped as a whole.

``subprocess.run(timeout=...)`` kills only the process it started: a ``ros2 launch`` it
times out leaves its nodes running. Here a command runs in its own session; on a
timeout (or when a ``launched`` block ends) the session gets Ctrl-C, so a launcher
stops what it started, then SIGKILL for whatever is left of it.

Every process of a test run carries ``MARK`` in its environment (set by conftest for the
whole run); ``leftovers`` finds those still running, for the check at the end of the run.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MARK = "LK_TEST_RUN"  # environment variable naming this test run
_GRACE = 10.0  # seconds a launcher gets to stop what it started


def stop(proc: subprocess.Popen, grace: float = _GRACE) -> None:
    """Ctrl-C to ``proc``'s session, ``grace`` seconds, then SIGKILL to what is left of it."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    proc.wait()


def run(cmd: list[str], *, timeout: float, capture_output: bool = False, text: bool = False,
        **kwargs: Any) -> subprocess.CompletedProcess:
    """``subprocess.run`` in a session of its own: a timeout stops all of it, then raises."""
    if capture_output:
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with subprocess.Popen(cmd, start_new_session=True, text=text, **kwargs) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop(proc)
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@contextmanager
def launched(cmd: list[str], **kwargs: Any) -> Iterator[subprocess.Popen]:
    """``subprocess.Popen`` in a session of its own, stopped whole when the block ends."""
    proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    try:
        yield proc
    finally:
        stop(proc)


def leftovers(run_id: str) -> list[tuple[int, str, str]]:
    """(pid, command line, working directory) of the processes of test run ``run_id``
    still running, this process and its ancestors aside."""
    mine = {os.getpid()}
    pid = os.getppid()
    while pid > 1 and pid not in mine:
        mine.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    marker = f"{MARK}={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue  # gone meanwhile, or a zombie
        if cmdline:
            found.append((int(entry.name), cmdline, cwd))
    return found
