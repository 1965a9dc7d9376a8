"""Releases on a machine: where a deployed system lands, and how one is installed,
made current and rolled back.

    ~/.like_keras/<system>/<transport>/
      releases/<stamp>/   one deploy: the transport's artifact (+ its build, for ROS 2)
      current ->          the release that runs; swapped atomically (rename of a link)
      envs/<digest>/      a venv made from the shipped wheels, shared by the releases that
                          need the same packages (so a second deploy installs nothing)
      runs/<id>/          the run directories of runs started from the launcher

A new release is shipped with rsync against the current one (unchanged files are
hard-linked, not sent), installed, and only then made current: a failure on any machine
removes it everywhere and leaves the previous release untouched.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

from like_keras.deploy.ssh import Ssh
from like_keras.errors import TransportError
from like_keras.transports.common import wheels

KEEP = 5  # releases kept on a machine (and the current one)
_MB = 1 << 20


@dataclass(frozen=True)
class Facts:
    """What a machine has, found before anything is changed there."""

    home: str
    python: str | None
    ros: str | None  # its ROS 2 setup script
    rsync: bool
    free: int  # bytes free in its home
    current: str | None  # the release ``current`` points to
    envs: tuple[str, ...] = ()  # the venvs made there (digests)


@dataclass(frozen=True)
class Layout:
    """The paths of one system's releases on one machine."""

    root: str

    @classmethod
    def of(cls, facts: Facts, system: str, transport: str) -> Layout:
        return cls(f"{facts.home}/{home_root(system, transport)}")

    @property
    def current(self) -> str:
        return f"{self.root}/current"

    def release(self, stamp: str) -> str:
        return f"{self.root}/releases/{stamp}"

    def env(self, digest: str) -> str:
        return f"{self.root}/envs/{digest}"

    def run(self, run_id: str) -> str:
        return f"{self.root}/runs/{run_id}"


def home_root(system: str, transport: str) -> str:
    """Where a system's releases on a transport are, in a machine's home."""
    return f".like_keras/{system}/{transport}"


def facts(ssh: Ssh, system: str, transport: str) -> Facts:
    """Look at a machine (TransportError when ssh cannot reach it)."""
    root = f'"$HOME"/{home_root(system, transport)}'
    script = f"""
echo "home=$HOME"
if command -v python3 >/dev/null; then python3 -c 'import sys; print("python=%d.%d" % sys.version_info[:2])'; fi
for s in /opt/ros/*/setup.bash; do [ -f "$s" ] && echo "ros=$s"; done
command -v rsync >/dev/null && echo rsync=1
echo "free=$(df -Pk "$HOME" | awk 'NR==2 {{print $4}}')"
echo "current=$(readlink -f {root}/current 2>/dev/null)"
echo "envs=$(cd {root}/envs 2>/dev/null && ls -d */.complete 2>/dev/null | cut -d/ -f1 | tr '\\n' ' ')"
true
"""
    found = dict(line.split("=", 1) for line in ssh.run(script, what="looking at it").splitlines() if "=" in line)
    return Facts(home=found["home"], python=found.get("python"), ros=found.get("ros"), rsync="rsync" in found,
                 free=int(found.get("free") or 0) * 1024, current=found.get("current") or None,
                 envs=tuple(found.get("envs", "").split()))


def check(ssh: Ssh, found: Facts, *, needs_ros: bool, need_bytes: int) -> None:
    """A TransportError when the machine cannot take the release: before anything is shipped."""
    m = ssh.machine
    where = f"machine '{m.name}' ({m.destination})"
    want = wheels.python_tag()
    if found.python is None:
        raise TransportError(f"{where} has no python3: install Python {want} there")
    if found.python != want:
        raise TransportError(
            f"{where} has Python {found.python}, and the shipped wheels are for Python {want} (this machine's): "
            f"install Python {want} there, or deploy from a machine with Python {found.python}")
    if needs_ros and found.ros is None:
        raise TransportError(f"{where} has no ROS 2 (no /opt/ros/<distro>/setup.bash) and transport='ros2' needs "
                             f"it: install ROS 2 Jazzy there (ros-jazzy-ros-base), or use transport='dora'")
    if not found.rsync:
        raise TransportError(f"{where} has no rsync, which ships the release: install it there (apt install rsync)")
    if found.free < need_bytes:
        raise TransportError(f"{where} has {found.free // _MB} MB free in {found.home}, and the release needs about "
                             f"{need_bytes // _MB} MB: free space there")


def env_digest(requirements: Path, system_site: bool) -> str:
    """Which venv a release needs: its pinned packages, for this Python."""
    key = requirements.read_bytes() + wheels.python_tag().encode() + bytes([system_site])
    return hashlib.sha256(key).hexdigest()[:16]


def install_env(ssh: Ssh, layout: Layout, release: str, files: tuple[str, str], digest: str,
                system_site: bool) -> None:
    """Make the release's venv from its wheels (once per set of packages) and link it as
    ``<release>/.venv``; a half-made venv is removed."""
    env = layout.env(digest)
    venv = "python3 -m venv" + (" --system-site-packages" if system_site else "")
    requirements, wheel_dir = files
    q = shlex.quote
    script = f"""set -e
env={q(env)}
if [ ! -f "$env/.complete" ]; then
  rm -rf "$env"
  trap 'rm -rf "$env"' ERR
  {venv} "$env"
  "$env/bin/pip" install -q --disable-pip-version-check --no-index \\
    --find-links {q(f"{release}/{wheel_dir}")} -r {q(f"{release}/{requirements}")}
  touch "$env/.complete"
fi
ln -sfn "$env" {q(release)}/.venv
"""
    ssh.run(script, what="installing the release's Python packages from its wheels")


def make_current(ssh: Ssh, layout: Layout, release: str) -> None:
    """Point ``current`` at ``release`` (an atomic rename), and keep the last ``KEEP`` releases."""
    q = shlex.quote
    script = f"""set -e
cd {q(layout.root)}
ln -sfn {q(release)} .current.new
mv -T .current.new current
ls -1d releases/*/ 2>/dev/null | sort | head -n -{KEEP} | while read -r old; do
  [ "$(readlink -f "$old")" = "$(readlink -f current)" ] || rm -rf "$old"
done
"""
    ssh.run(script, what="making the new release current")


def remove(ssh: Ssh, layout: Layout, stamp: str) -> None:
    """Remove a release that did not install, shipped or half-shipped (best effort: the
    machine may be gone)."""
    paths = [layout.release(stamp), f"{layout.root}/releases/.new-{stamp}"]
    try:
        ssh.run("rm -rf " + " ".join(map(shlex.quote, paths)), what="removing the release that did not install",
                timeout=60)
    except TransportError:
        pass


def previous(ssh: Ssh, layout: Layout) -> str:
    """The release before the current one (TransportError when there is none)."""
    out = ssh.run(f"cd {shlex.quote(layout.root)} 2>/dev/null && readlink -f current; "
                  f"ls -1d {shlex.quote(layout.root)}/releases/*/ 2>/dev/null | sort", what="listing its releases")
    lines = [line.rstrip("/") for line in out.splitlines() if line.strip()]
    if not lines or "/releases/" not in lines[0]:
        raise TransportError(f"machine '{ssh.machine.name}' has no current release of this system to roll back from")
    current, releases = lines[0], lines[1:]
    older = [r for r in releases if r < current]
    if not older:
        raise TransportError(f"machine '{ssh.machine.name}' has no release older than {current} to roll back to")
    return older[-1]
