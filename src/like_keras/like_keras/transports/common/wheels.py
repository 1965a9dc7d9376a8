"""The Python packages a compiled system needs, pinned to what runs here and vendored as
wheels, so a robot without network installs them (``pip install --no-index``).

Pins are the installed versions of like-keras' requirements, of what the system's own
code imports, and of everything those require. Wheels come from a cache
(``$XDG_CACHE_HOME/like_keras/wheels``) that pip fills once from the package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from like_keras.errors import TransportError

REQUIREMENTS = "requirements.txt"
WHEELS = "wheels"
_OWN = {"like-keras", "like-keras-ros", "like-keras-examples"}


def pins(roots: Iterable[str], modules: Iterable[str] = ()) -> list[str]:
    """``name==version`` of the distributions ``roots`` and of those providing the top-level
    ``modules``, and of everything they require, as installed here (sorted)."""
    provider = metadata.packages_distributions()
    todo = [*roots, *(d for m in modules for d in provider.get(m, ()))]
    found: dict[str, str] = {}
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement not installed here
        if name not in _OWN:
            found[name] = dist.version
        for line in dist.requires or ():
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return [f"{name}=={version}" for name, version in sorted(found.items())]


def vendor(requirements: list[str], dest: Path) -> None:
    """Write ``dest/requirements.txt`` and put a wheel of each requirement in ``dest/wheels``."""
    cache = _cache()
    missing = [r for r in requirements if _cached(cache, r) is None]
    if missing:
        _download(missing, cache)
    wheels = dest / WHEELS
    wheels.mkdir(parents=True, exist_ok=True)
    for req in requirements:
        wheel = _cached(cache, req)
        if wheel is None:
            raise TransportError(f"no wheel of {req} could be made for this Python; see pip's output above")
        _link(wheel, wheels / wheel.name)
    header = "# What this system needs, pinned; its wheels are in wheels/ (pip install --no-index -f wheels -r ...)\n"
    (dest / REQUIREMENTS).write_text(header + "".join(f"{r}\n" for r in requirements), encoding="utf-8")


def python_tag() -> str:
    """The Python the vendored wheels are for, as ``3.11``."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _cache() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = root / "like_keras" / WHEELS
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cached(cache: Path, requirement: str) -> Path | None:
    """A wheel of ``name==version`` in ``cache`` that this interpreter can install."""
    name, _, version = requirement.partition("==")
    want = canonicalize_name(name)
    supported = set(sys_tags())
    for wheel in cache.glob("*.whl"):
        try:
            wname, wversion, _, tags = parse_wheel_filename(wheel.name)
        except ValueError:
            continue
        if wname == want and str(wversion) == version and tags & supported:
            return wheel
    return None


def _download(requirements: list[str], cache: Path) -> None:
    """Fill the cache from the package index: wheels, or wheels built from sources."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    got = subprocess.run([*pip, "download", "--no-deps", "--only-binary=:all:", "-d", str(cache), *requirements],
                         stdin=subprocess.DEVNULL, capture_output=True)  # one without a wheel fails it: see below
    if got.returncode == 0:
        return
    for req in requirements:  # one at a time: some have no wheel on the index
        if _cached(cache, req) is None:
            built = subprocess.run([*pip, "wheel", "--no-deps", "-w", str(cache), req], stdin=subprocess.DEVNULL)
            if built.returncode != 0:
                raise TransportError(f"pip could not fetch or build a wheel of {req} (is the package index "
                                     f"reachable? a wheel in {cache} would do)")


def _link(src: Path, dst: Path) -> None:
    """Hard-link a cached wheel (a copy across file systems)."""
    if dst.exists():
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
