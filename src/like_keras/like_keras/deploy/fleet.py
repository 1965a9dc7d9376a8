"""The machines of one system, reached over ssh: install a release on all of them, or none.

``Fleet.install`` compiles the transport's self-contained artifact once, looks at every
machine before changing any (reachable, key accepted, Python, ROS 2 for the ROS transport,
rsync, free space), ships and installs a new release on all of them in parallel, and
makes it current only when every machine has it; on a failure the new release is removed
everywhere and the previous one stays current.
"""

from __future__ import annotations

import secrets
import shlex
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from like_keras.deploy import release
from like_keras.deploy.machines import machines as check_machines
from like_keras.deploy.service import write_start_scripts
from like_keras.deploy.ssh import Ssh
from like_keras.errors import TransportError
from like_keras.graph.ir import SystemGraph

T = TypeVar("T")
_UNPACKED = 3  # installed packages take about this many times their wheels' size


@dataclass(frozen=True)
class Installed:
    """A release on one machine."""

    machine: str
    layout: release.Layout
    path: str
    sent: int  # bytes rsync sent to ship it (unchanged files are not sent)
    service: str | None = None  # what was done about its service, if one was asked for


class Fleet:
    """ssh connections to the machines ``graph`` runs on (a context manager: closes them)."""

    def __init__(self, graph: SystemGraph, transport: str, given: Mapping[str, str],
                 ssh_config: str | Path | None = None) -> None:
        self.graph = graph
        self.transport = transport
        self.remote = remote_of(transport)
        self.machines = check_machines(graph, given)
        if ssh_config is not None and not Path(ssh_config).is_file():
            raise TransportError(f"ssh_config: {ssh_config} is not a file")
        # ssh's connection sockets: a short path (a socket's has at most ~100 bytes), private.
        self._control = tempfile.TemporaryDirectory(prefix="lk-ssh-", dir="/tmp" if Path("/tmp").is_dir() else None)
        config = Path(ssh_config) if ssh_config is not None else None
        self.sshes = {m.name: Ssh(m, Path(self._control.name), config) for m in self.machines}

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.each(lambda ssh: ssh.close(), quiet=True)
        self._control.cleanup()

    def install(self, *, service: bool = False) -> dict[str, Installed]:
        """A new release of the system, current on every machine (see the module);
        ``service``: it must hold the start scripts a service runs (``service.py``)."""
        with tempfile.TemporaryDirectory(prefix="lk-release-") as tmp:
            local = Path(tmp) / "release"
            local.mkdir()
            self.remote.artifact(self.graph, local)
            write_start_scripts(self.remote, self.graph, [m.name for m in self.machines], local, required=service)
            files = self.remote.requirements(self.graph)
            env = release.env_digest(local / files[0], self.remote.SYSTEM_SITE)
            wheel_bytes = _size(local / files[1])
            stamp = time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(3)  # sorts by time

            facts = self.each(lambda ssh: release.facts(ssh, self.graph.name, self.transport))
            layouts = {name: release.Layout.of(found, self.graph.name, self.transport)
                       for name, found in facts.items()}
            paths = {name: layouts[name].release(stamp) for name in facts}
            new = {name: f"{layouts[name].root}/releases/.new-{stamp}" for name in facts}

            def look(ssh: Ssh) -> None:
                name = ssh.machine.name
                found = facts[name]
                release.check(ssh, found, needs_ros=self.remote.NEEDS_ROS, need_bytes=0)
                written = ssh.push(local, new[name], link_dest=found.current, dry_run=True)  # what is not there yet
                need = written + (0 if env in found.envs else wheel_bytes * _UNPACKED)
                release.check(ssh, found, needs_ros=self.remote.NEEDS_ROS, need_bytes=need)

            def ship(ssh: Ssh) -> int:
                name = ssh.machine.name
                sent = ssh.push(local, new[name], link_dest=facts[name].current)
                ssh.run(f"mv -T {shlex.quote(new[name])} {shlex.quote(paths[name])}",
                        what="putting the release in place")
                release.install_env(ssh, layouts[name], paths[name], files, env, self.remote.SYSTEM_SITE)
                build = self.remote.build_script(paths[name])
                if build:
                    ssh.run(build, what=f"building the release ({self.transport})")
                return sent

            try:
                self.each(look)  # every machine can take it before any gets it
                sent = self.each(ship)
            except BaseException:
                self.each(lambda ssh: release.remove(ssh, layouts[ssh.machine.name], stamp), quiet=True)
                raise
        self.each(lambda ssh: release.make_current(ssh, layouts[ssh.machine.name], paths[ssh.machine.name]))
        return {name: Installed(name, layouts[name], paths[name], sent[name]) for name in paths}

    def layouts(self) -> dict[str, release.Layout]:
        """Where the system's releases are on each machine (after looking at them)."""
        def layout(ssh: Ssh) -> release.Layout:
            return release.Layout.of(release.facts(ssh, self.graph.name, self.transport), self.graph.name,
                                     self.transport)

        return self.each(layout)

    def each(self, work: Callable[[Ssh], T], *, quiet: bool = False) -> dict[str, T]:
        """``work`` on every machine at once; the first machine's error (by name) is raised
        after all have finished (``quiet``: none)."""
        with ThreadPoolExecutor(max_workers=len(self.sshes)) as pool:
            futures = {name: pool.submit(work, ssh) for name, ssh in self.sshes.items()}
        results, errors = {}, []
        for name in sorted(futures):
            try:
                results[name] = futures[name].result()
            except Exception as exc:
                errors.append(exc)
        if errors and not quiet:
            raise errors[0]
        return results


def remote_of(transport: str) -> ModuleType:
    """The transport's ``remote`` module (what runs across machines), through the seam."""
    from like_keras.transports import get

    module = get(transport)
    remote = getattr(module, "remote", None)
    if remote is None:
        raise TransportError(f"transport {transport!r} does not run across machines; those that do: dora, ros2")
    return remote


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
