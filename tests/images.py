"""Container images for tests/integration/test_images.py, built and run with podman.

No image can be pulled here, so the bases are made from this machine's Debian archive,
and kept in podman's storage between runs (built only when absent; CI starts without them):

    like-keras-test/debian:bookworm        debootstrap --variant=minbase, imported
    like-keras-test/ros:jazzy-<sha16>      + ../shared/ros2 installed, and Debian's colcon
                                           (as ros:jazzy-ros-base has Ubuntu's)
    like-keras-test/python:3.11-bookworm   + python3, python3-venv, python3-pip from Debian

The Debian base trusts what this machine trusts: its CA bundle (and its own CAs) are copied
in, and /etc/pip.conf names the bundle, so pip reaches the package index from a build
here as it does from the host (where the index is reached through a TLS proxy).

How podman works on these machines (see also /work/shared/notes/containers.md):
- A containers.conf of the test's own (CONTAINERS_CONF) gives containers the resource limits
  podman itself has: the sandbox refuses raising them, and podman's defaults would.
- Builds use OCI isolation with runc (cgroups are hybrid, so crun refuses): each build step
  gets a /dev of its own. ``--isolation chroot`` would bind the host's /dev into the steps.
- Runs use runc and ``--network none``: a run needs no network, and DDS and Dora traffic
  stays inside the container, apart from the ROS 2 and Dora runs of other tests.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_ROS2 = ROOT.parent / "shared" / "ros2"  # the minimal ROS 2 Jazzy kept beside the project
ROS2_TARBALL = "ros2-jazzy-min-bookworm-py311.tar.xz"
PREFIX = "localhost/like-keras-test"
DEBIAN = f"{PREFIX}/debian:bookworm"
PYTHON = f"{PREFIX}/python:3.11-bookworm"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


class Podman:
    """podman with this machine's limits (a containers.conf written into ``workdir``)."""

    def __init__(self, workdir: Path, log=print) -> None:
        self.workdir = Path(workdir)
        self.log = log  # where build and run times go (the test prints them)
        conf = self.workdir / "containers.conf"
        conf.write_text(containers_conf())
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def __call__(self, *args: str, timeout: float = 600, check: bool = True,
                 stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
        cmd = ["podman", "--runtime", "runc", *args]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, timeout=timeout, stdin=stdin)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n"
                                 f"{_tail(proc.stdout)}\n{_tail(proc.stderr)}")
        return proc

    def exists(self, image: str) -> bool:
        return self("image", "exists", image, check=False).returncode == 0

    def image_id(self, image: str) -> str | None:
        proc = self("image", "inspect", "--format", "{{.Id}}", image, check=False)
        return (proc.stdout.decode().strip() or None) if proc.returncode == 0 else None

    def build(self, tag: str, context: Path, dockerfile: Path | None = None,
              build_args: Mapping[str, str] | None = None, timeout: float = 900) -> None:
        """``podman build`` (its layer cache reused); the image ``tag`` had before it is removed
        when the build replaces it, so rebuilds leave no stale images behind."""
        before = self.image_id(tag)
        args = ["build", "--isolation", "oci", "--network", "host", "--pull=never", "-t", tag]
        for key, value in (build_args or {}).items():
            args += ["--build-arg", f"{key}={value}"]
        if dockerfile is not None:
            args += ["-f", str(dockerfile)]
        t0 = time.monotonic()
        self(*args, str(context), timeout=timeout)
        self.log(f"podman build {tag}: {time.monotonic() - t0:.1f} s")
        if before and before != self.image_id(tag):
            self("rmi", before, check=False)  # fails, harmlessly, while another tag or container uses it

    def run(self, image: str, *args: str, volumes: Mapping[Path, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
        """``podman run --rm`` without network; the result whatever its exit code. The container
        is killed after ``timeout`` seconds, also when this process is gone."""
        cmd = ["run", "--rm", "--network", "none", "--timeout", str(int(timeout))]
        for host, inside in (volumes or {}).items():
            cmd += ["-v", f"{host}:{inside}"]
        t0 = time.monotonic()
        proc = self(*cmd, image, *args, timeout=timeout + 30, check=False)
        self.log(f"podman run {image} {' '.join(args)}: {time.monotonic() - t0:.1f} s")
        return proc


def containers_conf() -> str:
    """The limits podman's containers get: the ones podman itself runs with. (podman lowers
    its own RLIMIT_NPROC to kernel.pid_max; asking for more than it has fails the run.)"""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    cap = {resource.RLIMIT_NOFILE: 1 << 20, resource.RLIMIT_NPROC: pid_max}

    def limit(kind: int, values: tuple[int, int]) -> str:
        soft, hard = (cap[kind] if v == resource.RLIM_INFINITY else min(v, cap[kind]) for v in values)
        return f"{soft}:{hard}"

    return ("[containers]\n"
            f'default_ulimits = ["nofile={limit(resource.RLIMIT_NOFILE, nofile)}", '
            f'"nproc={limit(resource.RLIMIT_NPROC, nproc)}"]\n')


def debian_mirror() -> str:
    """The Debian archive this machine's apt takes bookworm from (deb822 or one-line sources)."""
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        for stanza in re.split(r"\n\s*\n", path.read_text(errors="replace")):
            fields = {}
            for line in stanza.splitlines():
                key, sep, value = line.split("#", 1)[0].partition(":")
                if sep and not key.startswith((" ", "\t")):
                    fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and SUITE in fields.get("suites", []) and fields.get("uris"):
                return fields["uris"][0]
    lists = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]
    for path in lists:
        if not path.is_file():
            continue
        for line in path.read_text(errors="replace").splitlines():
            words = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()  # no [options]
            if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                return words[1]
    return DEFAULT_MIRROR


def ensure_debian(podman: Podman) -> str:
    """``like-keras-test/debian:bookworm``: debootstrap (minbase) from this machine's mirror, with
    its CA bundle, imported into podman; built only when absent."""
    if podman.exists(DEBIAN):
        return DEBIAN
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="lk-debootstrap-"))
    rootfs = tmp / "rootfs"
    try:
        proc = subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(rootfs), debian_mirror()],
                              capture_output=True, stdin=subprocess.DEVNULL, timeout=900)
        if proc.returncode != 0:
            raise AssertionError(f"debootstrap failed (exit {proc.returncode}):\n{_tail(proc.stdout)}\n"
                                 f"{_tail(proc.stderr)}")
        for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            deb.unlink()
        _trust_as_here(rootfs)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            podman("import", "-", DEBIAN, stdin=tar.stdout, timeout=600)
        finally:
            tar.stdout.close()
            assert tar.wait() == 0, "tar of the debootstrap tree failed"
    finally:
        _remove_tree(tmp)
    podman.log(f"debootstrap + podman import {DEBIAN}: {time.monotonic() - t0:.1f} s")
    return DEBIAN


def _remove_tree(path: Path) -> None:
    """Remove a debootstrap tree, never what is mounted in it: a debootstrap that was stopped
    leaves /proc, /sys (and in a container the host's /dev entries) mounted there."""
    def mounted() -> list[str]:
        points = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        return sorted((p for p in points if p.startswith(f"{path}/")), key=len, reverse=True)

    for point in mounted():
        subprocess.run(["umount", "-l", point], capture_output=True)
    if left := mounted():
        raise AssertionError(f"{path} still has mounts ({', '.join(left)}): left in place")
    shutil.rmtree(path)


def _trust_as_here(rootfs: Path) -> None:
    """The machine's CA bundle and its own CAs in ``rootfs``, and pip told to use the bundle."""
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if not bundle.is_file():
        return
    (rootfs / "etc/ssl/certs").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bundle, rootfs / "etc/ssl/certs/ca-certificates.crt")
    local = Path("/usr/local/share/ca-certificates")
    if local.is_dir():  # kept by update-ca-certificates should ca-certificates be installed later
        shutil.copytree(local, rootfs / "usr/local/share/ca-certificates", dirs_exist_ok=True)
    (rootfs / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")


def _ros_base_recipe() -> str:
    return (f"FROM {DEBIAN}\n"
            f"COPY install.sh {ROS2_TARBALL} /tmp/ros2/\n"
            # colcon from Debian, as ros:jazzy-ros-base has Ubuntu's: the image must not use it.
            "RUN bash /tmp/ros2/install.sh && apt-get update && apt-get install -y colcon"
            " && rm -rf /tmp/ros2 /var/lib/apt/lists/*\n")


def ros_base_tag() -> str:
    """Named by the tarball's and the recipe's digest: a new tarball makes a new base."""
    digest = hashlib.sha256((SHARED_ROS2 / ROS2_TARBALL).read_bytes())
    digest.update(_ros_base_recipe().encode())
    return f"{PREFIX}/ros:jazzy-{digest.hexdigest()[:16]}"


def ensure_ros_base(podman: Podman) -> str:
    """The Debian base with ../shared/ros2 installed (its install.sh, as on a machine) and
    Debian's colcon; built only when absent, replacing the bases of older tarballs."""
    tag = ros_base_tag()
    if podman.exists(tag):
        return tag
    ensure_debian(podman)
    with tempfile.TemporaryDirectory(prefix="lk-ros-base-") as tmp:
        context = Path(tmp)
        for name in ("install.sh", ROS2_TARBALL):
            shutil.copyfile(SHARED_ROS2 / name, context / name)
        (context / "Containerfile").write_text(_ros_base_recipe())
        podman.build(tag, context)
    listed = podman("images", "--format", "{{.Repository}}:{{.Tag}}", f"{PREFIX}/ros").stdout.decode().split()
    for old in set(listed) - {tag}:
        podman("rmi", old, check=False)
    return tag


def ensure_python_base(podman: Podman) -> str:
    """The Debian base with Debian's Python (what python:3.11-slim would be); built only when absent."""
    if podman.exists(PYTHON):
        return PYTHON
    debian = ensure_debian(podman)
    with tempfile.TemporaryDirectory(prefix="lk-python-base-") as tmp:
        context = Path(tmp)
        (context / "Containerfile").write_text(
            f"FROM {debian}\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv python3-pip"
            " && rm -rf /var/lib/apt/lists/*\n")
        podman.build(PYTHON, context)
    return PYTHON


def unavailable() -> str | None:
    """Why images cannot be built and run here, or None."""
    for tool in ("podman", "runc", "debootstrap", "tar"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed: `make setup` installs podman, runc and debootstrap"
    if os.geteuid() != 0:
        return "building the base images needs root (debootstrap, rootful podman)"
    return None


def _tail(data: bytes | str | None, lines: int = 40) -> str:
    text = data.decode(errors="replace") if isinstance(data, bytes) else (data or "")
    return "\n".join(text.splitlines()[-lines:])

