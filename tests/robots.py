"""Robots simulated on this machine, for the tests that deploy to robots over ssh.

``with robots(["robot", "base"], tmp_path) as fleet:`` gives each name its own network
namespace, one veth into a host bridge that also holds the host (DDS multicast and
daemons reach each other and the host, nothing else is routed: no NAT, no internet, as
a robot in the field), and Debian's OpenSSH server started in a private mount namespace
where the developer's checkout is an empty tmpfs (whatever a deployment forgets to ship
fails there) and /root, the ssh user's home, is a fresh tmpfs per robot (two robots never
share a directory). ``fleet.ssh_config`` names each robot as a ``Host`` for ``ssh -F``.
Everything is removed on exit, also when the test body fails. Needs root
(``unavailable()`` says why not). See /work/shared/notes/robots-here.md."""

from __future__ import annotations

import functools
import ipaddress
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]  # the developer's checkout, hidden on robots
SSHD = "/usr/sbin/sshd"
SSH_PORT = 22
START_SECONDS = 10.0  # until every sshd answers
MULTICAST = "224.0.0.0/4"
# sshd and the mount commands get this environment, not the test's (its venv, ROS, ...).
CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


def _run(*cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Runs a host command, stdin closed; on failure raises with its stderr."""
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
    return done


def _netns_pids(namespace: str) -> list[int]:
    """Live processes in a network namespace (``ip netns pids``; zombies are not listed)."""
    done = _run("ip", "netns", "pids", namespace, check=False)
    return [int(p) for p in done.stdout.split()] if done.returncode == 0 else []


def _kill(pids: Sequence[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


@functools.cache
def unavailable() -> str | None:
    """Why robots cannot be simulated here (not root, a tool missing, ``ip netns`` refused),
    or None when they can. Probes once, with a namespace it deletes right away."""
    if os.geteuid() != 0:
        return "simulated robots need root (network namespaces, mounts, sshd)"
    for tool in ("ip", "ssh", "ssh-keygen", "unshare", "mount", SSHD):
        if not shutil.which(tool):
            return f"'{tool}' is not installed: run `make setup` (openssh-server, openssh-client, iproute2)"
    probe = f"lkr-probe-{secrets.token_hex(3)}"
    added = _run("ip", "netns", "add", probe, check=False)
    _run("ip", "netns", "del", probe, check=False)
    if added.returncode != 0:
        return f"`ip netns add` does not work here: {added.stderr.strip()}"
    return None


def _free_subnet() -> ipaddress.IPv4Network:
    """A random 10.x.y.0/24 that overlaps no address or route already on the host."""
    used = [ipaddress.ip_interface(word).network
            for line in _run("ip", "-4", "-o", "addr").stdout.splitlines()
            for before, word in zip(line.split(), line.split()[1:]) if before == "inet"]
    for line in _run("ip", "-4", "route", "show", "table", "all").stdout.splitlines():
        destination = line.split()[0] if line.split() else ""
        if destination[:1].isdigit():
            used.append(ipaddress.ip_network(destination, strict=False))
    for _ in range(100):
        candidate = ipaddress.ip_network(f"10.{random.randint(1, 254)}.{random.randint(0, 255)}.0/24")
        if not any(candidate.overlaps(other) for other in used):
            return candidate
    raise RuntimeError("no free 10.x.y.0/24 on this host")


def _keygen(path: Path) -> Path:
    """A fresh ed25519 key without passphrase at ``path`` (and ``path``.pub)."""
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path))
    return path


def _client_config(robots: Sequence[Robot], key: Path) -> str:
    """ssh_config text naming every robot as a Host; host keys are not checked (they are
    new each run) and ConnectTimeout makes an unreachable robot fail in seconds."""
    return "".join(
        f"Host {r.name}\n"
        f"    HostName {r.address}\n    User root\n    Port {SSH_PORT}\n"
        f"    IdentityFile {key}\n    IdentitiesOnly yes\n"
        f"    StrictHostKeyChecking no\n    UserKnownHostsFile /dev/null\n"
        f"    LogLevel ERROR\n    BatchMode yes\n    ConnectTimeout 3\n    UpdateHostKeys no\n\n"
        for r in robots)


def _sshd_config(address: str, host_key: Path, authorized: Path, pid_file: Path) -> str:
    """A minimal sshd_config: root by key only on ``address``; no PAM (systemd is not PID 1
    here), no environment from the client, sftp in-process (rsync and scp -s work)."""
    return (f"Port {SSH_PORT}\nListenAddress {address}\nHostKey {host_key}\n"
            f"AuthorizedKeysFile {authorized}\nPidFile {pid_file}\n"
            "PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            "UseDNS no\nPrintMotd no\nSubsystem sftp internal-sftp\n")


def _shadow_for_key_login(tmp: Path) -> Path | None:
    """Without PAM, sshd refuses even key logins to a locked account ('!' password, as on
    some images): then a copy of /etc/shadow with root unlocked to mount on the robot
    (key login only: the password stays '*'). None when root is not locked."""
    lines = Path("/etc/shadow").read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        user, _, rest = line.partition(":")
        if user == "root" and rest.startswith("!"):
            lines[i] = "root:*:" + rest.partition(":")[2]
            copy = tmp / "shadow"
            copy.write_text("".join(lines))
            copy.chmod(0o600)
            return copy
    return None


@dataclass
class Robot:
    """One simulated robot: a network namespace running sshd in a private mount namespace."""

    name: str
    address: str
    namespace: str
    host_link: str  # host end of its veth, a port of the fleet's bridge
    ssh_config: Path
    log: Path  # sshd's log (-E)
    sshd: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def destination(self) -> str:
        """Where to deploy to: ``root@ADDRESS:22``."""
        return f"root@{self.address}:{SSH_PORT}"

    def ssh(self, cmd: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Runs a shell command on the robot through real ssh (the fleet's config)."""
        return subprocess.run(["ssh", "-F", str(self.ssh_config), self.name, cmd], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def pids(self) -> list[int]:
        """Processes in the robot's network namespace but its sshd listener: what sessions
        and deployments started there."""
        listener = self.sshd.pid if self.sshd else None
        return [pid for pid in _netns_pids(self.namespace) if pid != listener]

    def kill_all(self, sig: int = signal.SIGKILL) -> None:
        """Signals every process ``pids()`` lists (sshd keeps listening): a crash of
        everything running on the robot, which stays reachable. With SIGKILL, returns once
        they are gone (a killed process stays listed for a moment while it exits)."""
        pids = self.pids()
        _kill(pids, sig)
        deadline = time.monotonic() + 5
        while sig == signal.SIGKILL and set(pids) & set(self.pids()) and time.monotonic() < deadline:
            time.sleep(0.01)

    def cut_link(self) -> None:
        """Takes the robot off the network (host end of its veth down): a robot out of
        range. Established connections hang, new ones time out."""
        _run("ip", "link", "set", self.host_link, "down")

    def restore_link(self) -> None:
        """Puts the robot back on the network after ``cut_link``."""
        _run("ip", "link", "set", self.host_link, "up")


@dataclass
class Fleet:
    """The robots of one test, on one bridge with the host at ``host_address``."""

    robots: dict[str, Robot]
    bridge: str
    network: ipaddress.IPv4Network
    host_address: str
    ssh_config: Path
    tmp: Path
    key: Path  # the user key sshd accepts
    _wrong_config: Path | None = field(default=None, repr=False)

    def __getitem__(self, name: str) -> Robot:
        return self.robots[name]

    def __iter__(self) -> Iterator[Robot]:
        return iter(self.robots.values())

    def __len__(self) -> int:
        return len(self.robots)

    def config_with_wrong_key(self) -> Path:
        """An ssh config like ``ssh_config`` but for a fresh key no robot authorizes: every
        login with it is refused."""
        if self._wrong_config is None:
            wrong = _keygen(self.tmp / "wrong_key")
            self._wrong_config = self.tmp / "ssh_config.wrong_key"
            self._wrong_config.write_text(_client_config(list(self), wrong))
        return self._wrong_config


def _start_sshd(robot: Robot, hide: Sequence[Path], home_size: str | None, without_ros: bool,
                shadow: Path | None, config: Path) -> subprocess.Popen[bytes]:
    """sshd -D in the robot's network namespace and a private mount namespace that every
    session inherits: ``hide`` and (``without_ros``) /opt/ros empty, /root and
    /etc/systemd/system fresh tmpfs."""
    home = "mode=700" + (f",size={home_size}" if home_size else "")
    # Its own /root, and its own systemd units (a deploy --service writes one there).
    mounts = [f"mount -t tmpfs -o {home} lkr-home /root",
              "mount -t tmpfs -o mode=755 lkr-units /etc/systemd/system"]
    mounts += [f"mount -t tmpfs -o mode=755 lkr-hidden {shlex.quote(str(p))}" for p in hide]
    if without_ros:
        mounts.append("mount -t tmpfs -o mode=755 lkr-no-ros /opt/ros")
    if shadow:
        mounts.append(f"mount --bind {shlex.quote(str(shadow))} /etc/shadow")
    script = " && ".join(mounts + [f"exec {SSHD} -D -f {shlex.quote(str(config))} -E {shlex.quote(str(robot.log))}"])
    with open(robot.log.with_suffix(".start.log"), "wb") as out:
        return subprocess.Popen(
            ["ip", "netns", "exec", robot.namespace, "unshare", "--mount", "--propagation", "private",
             "sh", "-c", script],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=CLEAN_ENV, start_new_session=True)


def _wait_until_answering(robots: Sequence[Robot]) -> None:
    """Until ``ssh ROBOT true`` succeeds for every robot; raises with sshd's log otherwise."""
    deadline = time.monotonic() + START_SECONDS
    for robot in robots:
        while True:
            assert robot.sshd is not None
            if robot.sshd.poll() is not None:
                raise RuntimeError(f"sshd of {robot.name} exited {robot.sshd.returncode}: "
                                   f"{_tail(robot.log.with_suffix('.start.log'))}{_tail(robot.log)}")
            done = subprocess.run(["ssh", "-F", str(robot.ssh_config), "-o", "ConnectTimeout=1", robot.name, "true"],
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
            if done.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd of {robot.name} does not answer after {START_SECONDS:.0f} s: "
                                   f"{done.stderr.strip()} {_tail(robot.log)}")
            time.sleep(0.05)


def _tail(path: Path) -> str:
    """The end of a log, for an error message."""
    return path.read_text(errors="replace")[-2000:] if path.exists() else ""


def _remove(namespaces: Sequence[str], links: Sequence[str], sshds: Sequence[subprocess.Popen[bytes]]) -> None:
    """Kills every process in the namespaces, deletes them, the host links and the bridge
    (``links``, bridge last); raises when any of them is still there afterwards."""
    for _ in range(50):  # a process may fork while the others die
        pids = [pid for ns in namespaces for pid in _netns_pids(ns)]
        if not pids:
            break
        _kill(pids, signal.SIGKILL)
        time.sleep(0.02)
    for sshd in sshds:
        try:
            sshd.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    for ns in namespaces:
        _run("ip", "netns", "del", ns, check=False)
    for link in links:  # veths go with their namespace; this catches those that did not
        if Path("/sys/class/net", link).exists():
            _run("ip", "link", "del", link, check=False)
    left = [ns for ns in namespaces if Path("/run/netns", ns).exists()]
    left += [link for link in links if Path("/sys/class/net", link).exists()]
    left += [f"pid {pid}" for ns in namespaces for pid in _netns_pids(ns)]
    if left:
        raise RuntimeError(f"simulated robots left behind: {left}")


@contextmanager
def robots(names: list[str], tmp: Path, *, hide: Sequence[Path] | None = None, home_size: str | None = None,
           without_ros: Sequence[str] = ()) -> Iterator[Fleet]:
    """A fleet of simulated robots, one per name, reachable by ``ssh -F fleet.ssh_config NAME``.

    ``hide``: paths that are an empty tmpfs on the robots (default: this checkout).
    ``home_size``: size limit of each robot's /root (e.g. "8m"), a full disk.
    ``without_ros``: names of robots where /opt/ros is empty, no ROS 2 installed.
    Keys, configs and sshd logs are written to ``tmp`` (and stay there, for a failing test's
    report); processes, namespaces, links and the bridge are removed on exit."""
    if not names or len(set(names)) != len(names) or not all(re.fullmatch(r"[A-Za-z0-9_-]+", n) for n in names):
        raise ValueError(f"robot names must be distinct words (an ssh Host, a namespace), at least one: {names}")
    if unknown := set(without_ros) - set(names):
        raise ValueError(f"without_ros names no robot of {names}: {sorted(unknown)}")
    hidden = [Path(p).resolve() for p in (hide if hide is not None else [REPO])]
    tmp = Path(tmp).resolve()
    if any(tmp.is_relative_to(p) for p in [*hidden, Path("/root")]):
        raise ValueError(f"{tmp} would be hidden on the robots (under /root or {hidden}): sshd reads its files there")
    if not all(p.is_dir() for p in hidden):
        raise ValueError(f"hide names paths that are not directories: {hidden}")

    token = secrets.token_hex(3)
    bridge = f"lkb{token}"
    namespaces: list[str] = []
    links: list[str] = []
    sshds: list[subprocess.Popen[bytes]] = []
    try:
        network = _free_subnet()
        hosts = network.hosts()
        host_address = str(next(hosts))
        _run("ip", "link", "add", bridge, "type", "bridge", "mcast_snooping", "0", "stp_state", "0")
        links.append(bridge)
        _run("ip", "addr", "add", f"{host_address}/{network.prefixlen}", "dev", bridge)
        _run("ip", "link", "set", bridge, "up")

        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation dir
        tmp.mkdir(parents=True, exist_ok=True)
        host_key, key = _keygen(tmp / "host_key"), _keygen(tmp / "user_key")
        authorized = tmp / "authorized_keys"
        authorized.write_text(Path(f"{key}.pub").read_text())
        ssh_config = tmp / "ssh_config"
        shadow = _shadow_for_key_login(tmp)

        fleet = Fleet({}, bridge, network, host_address, ssh_config, tmp, key)
        for i, name in enumerate(names):
            robot = Robot(name, str(next(hosts)), f"lkr-{token}-{name}", f"lkv{token}{i}", ssh_config,
                          tmp / f"{name}.sshd.log")
            _run("ip", "netns", "add", robot.namespace)
            namespaces.append(robot.namespace)
            links.insert(0, robot.host_link)  # before the bridge
            _run("ip", "link", "add", robot.host_link, "type", "veth", "peer", "name", "eth0", "netns", robot.namespace)
            _run("ip", "link", "set", robot.host_link, "master", bridge, "up")
            inside = ("ip", "-n", robot.namespace)
            _run(*inside, "link", "set", "lo", "up")
            _run(*inside, "addr", "add", f"{robot.address}/{network.prefixlen}", "dev", "eth0")
            _run(*inside, "link", "set", "eth0", "up")
            # No default route in there: without this, sending to a multicast group (DDS
            # discovery) fails with "Network is unreachable".
            _run(*inside, "route", "add", MULTICAST, "dev", "eth0")
            fleet.robots[name] = robot
        ssh_config.write_text(_client_config(list(fleet), key))

        for robot in fleet:
            config = tmp / f"{robot.name}.sshd_config"
            config.write_text(_sshd_config(robot.address, host_key, authorized, tmp / f"{robot.name}.sshd.pid"))
            robot.sshd = _start_sshd(robot, hidden, home_size, robot.name in without_ros, shadow, config)
            sshds.append(robot.sshd)
        _wait_until_answering(list(fleet))
        yield fleet
    finally:
        _remove(namespaces, links, sshds)
