"""What travels with a compiled system, so it runs on a machine that has only Python (and
ROS 2 for the ROS transport): like-keras itself, the system's own code, and the pinned
wheels of what they import (``wheels.py``).

The system's own code is the module its target names and every local module that imports
reach: those found outside any installation (site-packages, the standard library,
``/opt/ros``), found by reading their ``import`` statements. A target given as a file
(``/home/me/robot/systems.py:Arm``) travels as the module ``systems``: ``portable``
rewrites the graph so no generated file names a path of the compiling machine.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from like_keras.errors import TransportError
from like_keras.graph.ir import SystemGraph
from like_keras.utils.paths import is_file

# like-keras' own packages: they travel as themselves, never as the system's code.
OWN = ("like_keras", "like_keras_ros")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "install", "log", ".*")


def portable_ref(ref: str) -> str:
    """``/abs/dir/file.py:Name`` as ``file:Name``; a ``module:Name`` ref unchanged."""
    where, _, name = ref.rpartition(":")
    return f"{Path(where).stem}:{name}" if is_file(where) else ref


def portable(graph: SystemGraph) -> SystemGraph:
    """``graph`` with its target and component classes named by module, as the shipped code
    imports them: a node that rebuilds it elsewhere finds the same digest."""
    if not graph.target:
        return graph
    data = graph.to_dict()
    data["target"] = portable_ref(graph.target)
    for comp in data["components"]:
        if comp.get("cls"):
            comp["cls"] = portable_ref(comp["cls"])
    return SystemGraph.from_dict(data)


def travelling(graph: SystemGraph) -> tuple[SystemGraph, dict[str, Path]]:
    """The graph as it travels (``portable``) and the system's code that travels with it
    (``app_modules``), found from where the graph's target is *here*: the portable target
    names a module that may mean another file in this process."""
    return portable(graph), app_modules(graph.target or "")


def app_modules(target: str) -> dict[str, Path]:
    """The system's own code: top-level module name -> its package folder or ``.py`` file.
    ``target`` is the graph's (``module:Name`` or ``/abs/file.py:Name``)."""
    where = target.rpartition(":")[0]
    if is_file(where):
        start = Path(where).resolve()
        search = [str(start.parent)]
        top, todo = start.stem, [start]
        found = {top: start}
    else:
        search = []
        top = where.partition(".")[0]
        origin = _origin(where, search)
        if origin is None:
            raise TransportError(f"the system's module '{where}' cannot be found: is it importable here?")
        found = {top: _top_path(where, origin)}
        todo = _sources(found[top])
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            first = name.partition(".")[0]
            if first in found or first in OWN or first in sys.stdlib_module_names:
                continue
            origin = _origin(first, search)
            if origin is None or _installed(origin):
                continue
            found[first] = _top_path(first, origin)
            todo.extend(_sources(found[first]))
    return found


def external_imports(modules: dict[str, Path]) -> set[str]:
    """Top-level names the shipped code imports from installed packages (not the standard
    library, not like-keras): their distributions travel as wheels."""
    names: set[str] = set()
    for path in modules.values():
        for source in _sources(path):
            for name in _imports(source):
                first = name.partition(".")[0]
                if first not in modules and first not in OWN and first not in sys.stdlib_module_names:
                    names.add(first)
    return names


def own_package(name: str) -> Path:
    """The colcon package (source folder with ``package.xml``) of like-keras' package ``name``."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise TransportError(f"{name} is not installed here, so it cannot travel with the system")
    source = Path(list(spec.submodule_search_locations)[0]).parent
    if not (source / "package.xml").is_file():
        raise TransportError(
            f"{name} is installed without its colcon package (no package.xml beside {source}): install "
            f"like-keras from its workspace (pip install -e src/{name}) to compile a system that travels"
        )
    return source


def copy_code(src: Path, dst: Path) -> None:
    """Copy a package folder (into ``dst``, which may exist) or module file, without caches
    and build leftovers."""
    if src.is_dir():
        shutil.copytree(src, dst, ignore=_SKIP, dirs_exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def _origin(name: str, search: list[str]) -> str | None:
    """Where module ``name`` would be imported from (``search``: extra folders first)."""
    for folder in search:
        for candidate in (Path(folder) / name / "__init__.py", Path(folder) / f"{name}.py"):
            if candidate.is_file():
                return str(candidate)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    return spec.origin if spec.origin not in (None, "built-in", "frozen") else None


def _top_path(name: str, origin: str) -> Path:
    """The folder of top-level package ``name`` (or its file, for a plain module)."""
    path = Path(origin).resolve()
    if path.name == "__init__.py":
        path = path.parent
    for _ in name.split(".")[1:]:
        path = path.parent
    return path


def _sources(path: Path) -> list[Path]:
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def _imports(path: Path) -> set[str]:
    """Absolute module names that ``path``'s import statements name."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _installed(origin: str) -> bool:
    """Whether a module file belongs to an installation rather than to the system's code."""
    real = os.path.realpath(origin)
    parts = Path(real).parts
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    roots = {os.path.realpath(p) for p in (sysconfig.get_paths()["stdlib"], sys.base_prefix, "/opt/ros")}
    return any(real.startswith(root + os.sep) for root in roots)
