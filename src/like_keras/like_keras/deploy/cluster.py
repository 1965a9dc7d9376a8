"""A run across machines, watched from the launcher: one agent per machine over ssh
(``agent.py``), the transport's session here, and the machines' run directories fetched
back when it ends.

Each machine's output comes back prefixed with its name (and into
``<run_dir>/machines/<name>.log``). A node that fails or dies on any machine, or a machine
whose ssh connection dies (its link cut, it powered off), ends the run within seconds with
a RunError naming the machine; then every machine stops its part (the agents), and a
machine that cannot be told stops by itself when the heartbeat stops coming.
"""

from __future__ import annotations

import json
import queue
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from like_keras.deploy.agent import BEAT, EVENT, STOP
from like_keras.deploy.ssh import Ssh
from like_keras.errors import RunError, RunTimeoutError, TransportError

_BEAT_EVERY = 0.5
_START_TIMEOUT = 60.0
_FETCHED = ("results", "failures", "rec", "log")  # not pids: those are the machine's processes


class Cluster:
    """The machines' parts of one run (``session`` says what runs where), running."""

    def __init__(self, session: Any, sshes: dict[str, Ssh], releases: dict[str, str], runs: dict[str, str],
                 out: Path, *, grace: float) -> None:
        self.session, self.sshes, self.runs, self.out, self.grace = session, sshes, runs, out, grace
        self.log_path = out / "machines"
        self.log_path.mkdir(exist_ok=True)
        self._events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._exited: dict[str, int] = {}  # machine -> its command's exit code
        self._stopping = threading.Event()
        self.agents: dict[str, subprocess.Popen[bytes]] = {}
        for name, ssh in sshes.items():
            setup, argv = session.command(name)
            agent = (f"{setup} && exec {shlex.quote(releases[name])}/.venv/bin/python -m like_keras.deploy.agent "
                     f"--run-dir {shlex.quote(runs[name])} -- {shlex.join(argv)}")
            proc = subprocess.Popen(ssh.argv(agent), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            self.agents[name] = proc
            threading.Thread(target=self._read, args=(name, proc), daemon=True).start()
        threading.Thread(target=self._beat, daemon=True).start()
        try:
            self._wait_started()
            session.start()
        except BaseException:
            self.kill()  # what did start, everywhere
            raise

    def wait(self, duration: float | None, timeout: float | None) -> None:
        """Until every machine's part ends (or the transport's ``main`` here does); raises the
        first failure on any machine, a lost machine, or on ``timeout``."""
        start = time.monotonic()
        stop_sent = False
        while True:
            self._raise_events(0.05)
            main = self.session.main
            if main is not None and main.poll() is not None:
                self._raise_events(0.5)  # a failure reported as it ended explains it best
                if main.returncode != 0:
                    raise RunError(f"the run across machines ended with exit code {main.returncode} "
                                   f"(log: {self.out / 'coordinator.log'})")
                return
            if main is None and len(self._exited) == len(self.agents):
                failed = {m: rc for m, rc in self._exited.items() if rc != 0}
                if failed:
                    machine, rc = sorted(failed.items())[0]
                    raise RunError(f"machine '{machine}': its part of the run exited with code {rc} (log: "
                                   f"{self.log_path / machine}.log)", machine=machine)
                return
            elapsed = time.monotonic() - start
            if timeout is not None and elapsed > timeout:
                raise RunTimeoutError(f"the run across machines did not finish within timeout={timeout} s. "
                                      f"It was stopped on every machine")
            if duration is not None and elapsed > duration + self.grace and not stop_sent:
                self.stop()
                stop_sent = True

    def stop(self) -> None:
        """Ask the run to stop (the transport's own stop, then every machine's agent)."""
        self.session.stop()
        if self.session.main is None:
            self._tell_all(STOP)

    def kill(self) -> None:
        """Stop every machine's part (gently, then for good), stop what runs here, and fetch
        back what the machines' nodes reported and recorded."""
        self._stopping.set()
        if self.session.main is not None and self.session.main.poll() is None:
            try:
                self.session.stop()
            except (subprocess.SubprocessError, OSError):
                pass
        self._tell_all(STOP)
        deadline = time.monotonic() + self.grace + 6
        for proc in self.agents.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.session.close()
        for name, ssh in self.sshes.items():
            try:
                ssh.pull(self.runs[name], self.out, only=_FETCHED)
            except TransportError as exc:  # a machine that is gone keeps what it recorded
                print(f"[{name}] not fetched: {exc}", file=sys.stderr)

    def _wait_started(self) -> None:
        """Every agent up (ssh connected, the release's Python started), or an error naming
        the machine that is not."""
        deadline = time.monotonic() + _START_TIMEOUT
        started: set[str] = set()
        while len(started) < len(self.agents):
            try:
                name, event = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                missing = sorted(set(self.agents) - started)
                raise TransportError(f"machine '{missing[0]}' did not start its part of the run within "
                                     f"{_START_TIMEOUT:.0f} s (log: {self.log_path / missing[0]}.log)") from None
            if event["event"] == "started":
                started.add(name)
            elif event["event"] in ("gone", "exit"):
                raise TransportError(f"machine '{name}' could not start its part of the run: "
                                     f"{event.get('said') or 'its command exited'} (log: {self.log_path / name}.log)")

    def _raise_events(self, wait: float) -> None:
        """Raise what the machines reported (a failure, a lost link); note exits."""
        deadline = time.monotonic() + wait
        while True:
            try:
                name, event = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return
            kind = event["event"]
            dest = self.sshes[name].machine.destination
            if kind == "failure":
                raise RunError(f"{event['message']} (on machine '{name}', {dest})", component=event.get("component"),
                               node=event.get("node"), step=event.get("step"),
                               remote_traceback=event.get("traceback"), machine=name)
            if kind == "exit":
                self._exited[name] = int(event["rc"])
            elif kind in ("gone", "lost"):
                raise RunError(f"machine '{name}' ({dest}) dropped off the network: its ssh connection died "
                               f"({event.get('said') or 'no heartbeat'}); the run was stopped on every machine",
                               machine=name)

    def _read(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        """Pass a machine's output through, prefixed, and queue its agent's events."""
        assert proc.stdout is not None
        last, exited = "", False
        with open(self.log_path / f"{name}.log", "a", encoding="utf-8") as log:
            for raw in proc.stdout:
                line = raw.decode(errors="replace").rstrip("\n")
                if line.startswith(EVENT):
                    event = json.loads(line[len(EVENT):])
                    exited = exited or event["event"] == "exit"
                    self._events.put((name, event))
                    continue
                last = line or last
                log.write(line + "\n")
                log.flush()
                print(f"[{name}] {line}", flush=True)
        rc = proc.wait()
        if not exited and not self._stopping.is_set():
            self._events.put((name, {"event": "gone", "said": last.strip() or f"ssh exited with code {rc}"}))

    def _beat(self) -> None:
        while not self._stopping.is_set():
            self._tell_all(BEAT)
            time.sleep(_BEAT_EVERY)

    def _tell_all(self, line: str) -> None:
        for proc in self.agents.values():
            _tell(proc.stdin, line)


def _tell(pipe: IO[bytes] | None, line: str) -> None:
    if pipe is None:
        return
    try:
        pipe.write(f"{line}\n".encode())
        pipe.flush()
    except (BrokenPipeError, ValueError, OSError):
        pass
