"""The deploy's agent: runs on each machine, over ssh, around that machine's part of a run.

    python -m like_keras.deploy.agent --run-dir DIR -- COMMAND...

It starts COMMAND (``ros2 launch`` of the machine's nodes, or a Dora daemon) in a session
of its own, passes its output through, and reports on stdout, as ``EVENT`` lines of JSON,
what the machine's run directory says (``common.rundir``): a node that failed, or one that
died without a word (``kill -9``). Its stdin carries the launcher's heartbeat: ``stop``
stops COMMAND gently, then kills what is left; with no heartbeat for ``DEAD_AFTER``
seconds (the launcher or the link is gone) it does the same, so nothing is left running.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from like_keras.transports.common import rundir
from like_keras.transports.common.supervise import end

EVENT = "@@like_keras "
BEAT, STOP = "beat", "stop"
DEAD_AFTER = 4.0  # seconds without a heartbeat before the machine stops its part
_GRACE = 5.0


def emit(kind: str, **data: object) -> None:
    sys.stdout.write(EVENT + json.dumps({"event": kind, **data}) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="like_keras.deploy.agent")
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    out: Path = args.run_dir
    out.mkdir(parents=True, exist_ok=True)
    rundir.clear(out)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=out)
    threading.Thread(target=_pass_through, args=(proc,), daemon=True).start()
    emit("started", pid=os.getpid())
    last_beat, reported, stdin = time.monotonic(), False, _Lines(0)
    try:
        while True:
            line = stdin.next(0.1)
            if line == STOP or line is None:  # asked to stop, or the launcher's end of ssh closed
                break
            if line == BEAT:
                last_beat = time.monotonic()
            if time.monotonic() - last_beat > DEAD_AFTER:
                emit("lost", seconds=DEAD_AFTER)
                break
            rc = proc.poll()
            if not reported:
                failed = rundir.failure(out, final=rc is not None)
                if failed is not None:
                    emit("failure", node=failed.node, component=failed.component, step=failed.step,
                         message=str(failed).split("\n\nOriginal traceback:")[0], traceback=failed.remote_traceback)
                    reported = True
            if rc is not None:
                emit("exit", rc=rc)
                return 0
    finally:
        _stop(proc, out)
    return 0


class _Lines:
    """Lines of a file descriptor, read without blocking longer than asked."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lines: list[str] = []
        self._partial = b""

    def next(self, timeout: float) -> str | None:
        """The next line within ``timeout`` ('' when none came); None at end of input."""
        if not self._lines:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return ""
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return None
            *lines, self._partial = (self._partial + chunk).split(b"\n")
            self._lines.extend(line.decode(errors="replace").strip() for line in lines)
            if not self._lines:
                return ""
        return self._lines.pop(0)


def _pass_through(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        sys.stdout.write(raw.decode(errors="replace"))
        sys.stdout.flush()


def _stop(proc: subprocess.Popen[bytes], out: Path) -> None:
    """Stop COMMAND gently (SIGINT to its session, as Ctrl-C would), then kill what is left."""

    def interrupt() -> None:
        try:
            os.killpg(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    end(proc, out, _GRACE, interrupt)


if __name__ == "__main__":
    sys.exit(main())
