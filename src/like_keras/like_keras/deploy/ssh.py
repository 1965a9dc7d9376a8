"""OpenSSH, as the deploy uses it: one multiplexed connection per machine, commands in
bash there, files shipped with rsync (only what changed) and fetched back the same way.

ssh runs in batch mode (keys only, never a prompt) and notices a dead link within a few
seconds (``ServerAliveInterval``), so a machine that drops off the network ends a run
quickly. ``config`` is an ssh config file used instead of ``~/.ssh/config``.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from like_keras.deploy.machines import Machine
from like_keras.errors import TransportError

ALIVE_INTERVAL = 1  # seconds between keep-alives; ALIVE_COUNT missed ones end the connection
ALIVE_COUNT = 3
CONNECT_TIMEOUT = 5
_SENT = re.compile(r"Total bytes sent: ([\d,.]+)")
_WRITTEN = re.compile(r"Total transferred file size: ([\d,.]+)")


class Ssh:
    """ssh and rsync to one machine, sharing one connection (ControlMaster in ``control``)."""

    def __init__(self, machine: Machine, control: Path, config: Path | None = None) -> None:
        self.machine = machine
        self._options = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
                         "-o", f"ServerAliveInterval={ALIVE_INTERVAL}", "-o", f"ServerAliveCountMax={ALIVE_COUNT}",
                         "-o", "ControlMaster=auto", "-o", f"ControlPath={control}/%C",
                         "-o", "ControlPersist=120"]
        if config is not None:
            self._options = ["-F", str(config), *self._options]
        if machine.port:
            self._options += ["-p", machine.port]

    def argv(self, script: str) -> list[str]:
        """The ssh command that runs ``script`` in bash on the machine."""
        return ["ssh", *self._options, self.machine.host, "bash -c " + shlex.quote(script)]

    def run(self, script: str, *, what: str, timeout: float = 600) -> str:
        """Run ``script`` there; its output. TransportError naming the machine and ``what``
        it was doing when the connection fails or the script does."""
        try:
            proc = subprocess.run(self.argv(script), capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise TransportError(f"machine '{self.machine.name}' ({self.machine.destination}): {what} took "
                                 f"more than {timeout:.0f} s") from None
        if proc.returncode == 255:
            raise self.unreachable(proc.stderr)
        if proc.returncode != 0:
            raise TransportError(f"machine '{self.machine.name}' ({self.machine.destination}): {what} failed "
                                 f"(exit {proc.returncode}):\n{_tail(proc.stdout + proc.stderr)}")
        return proc.stdout

    def unreachable(self, stderr: str) -> TransportError:
        """The error for a connection that failed, saying why in the user's terms."""
        said = _tail(stderr, 3)
        if "Permission denied" in stderr:
            why = "its ssh server refused the key (give the machine's key in your ssh config or ssh-agent)"
        elif "Could not resolve" in stderr:
            why = "its host name does not resolve"
        else:
            why = "it cannot be reached (is it on, on this network, and running sshd?)"
        return TransportError(f"machine '{self.machine.name}' ({self.machine.destination}): {why}\n{said}")

    def push(self, local: Path, remote: str, *, link_dest: str | None = None, dry_run: bool = False) -> int:
        """rsync ``local``'s contents into the folder ``remote`` there; the bytes sent. Files
        that are in ``link_dest`` (a folder there) unchanged are hard-linked, not sent.
        ``dry_run``: ship nothing; the bytes of the files that would be written."""
        args = ["--checksum", f"--rsync-path=mkdir -p {shlex.quote(remote)} && rsync",
                *([f"--link-dest={link_dest}"] if link_dest else []), *(["--dry-run"] if dry_run else [])]
        out = self._rsync([*args, f"{local}/", f"{self.machine.host}:{remote}/"], what=f"shipping to {remote}")
        found = (_WRITTEN if dry_run else _SENT).search(out)
        return int(re.sub(r"[,.]", "", found.group(1))) if found else 0

    def pull(self, remote: str, local: Path, *, only: tuple[str, ...]) -> None:
        """rsync the folders ``only`` of the folder ``remote`` there into ``local`` (those
        missing there are skipped)."""
        local.mkdir(parents=True, exist_ok=True)
        sources = [f"{self.machine.host}:{remote}/{sub}" for sub in only]
        self._rsync(["--ignore-missing-args", *sources, f"{local}/"], what=f"fetching {remote}")

    def close(self) -> None:
        """End the shared connection (its master process on this machine)."""
        subprocess.run(["ssh", *self._options, "-O", "exit", self.machine.host], capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=10)

    def _rsync(self, args: list[str], *, what: str) -> str:
        shell = shlex.join(["ssh", *self._options])
        proc = subprocess.run(["rsync", "-a", "--stats", "-e", shell, *args], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if proc.returncode == 255 or "ssh:" in proc.stderr or "Permission denied" in proc.stderr:
            raise self.unreachable(proc.stderr)
        if proc.returncode != 0:
            full = "No space left on device" in proc.stderr
            why = "its disk is full: free space there (or deploy fewer releases)" if full else "rsync failed"
            raise TransportError(f"machine '{self.machine.name}' ({self.machine.destination}): {what}: {why} "
                                 f"(exit {proc.returncode}):\n{_tail(proc.stderr)}")
        return proc.stdout


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
