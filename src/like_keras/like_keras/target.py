"""Load a system from a target: ``path/to/file.py:Name`` or ``package.module:Name``.

``Name`` is a System subclass (called with no arguments, or with ``kwargs``), a
factory function returning a System, or a System instance. Remote processes use
the same targets to rebuild their part of a system from code.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from .errors import TargetError
from .system import System


def load_module(ref: str) -> Any:
    """Import the module part of a target (a file path or a dotted module name)."""
    if _is_file(ref):
        path = Path(ref).resolve()
        if not path.is_file():
            raise TargetError(f"target file '{ref}' does not exist")
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
        name = f"_like_keras_target_{path.stem}_{digest}"
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise TargetError(f"target file '{ref}' cannot be imported as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.parent))
        try:
            spec.loader.exec_module(module)
        except Exception:
            del sys.modules[name]
            raise
        return module
    try:
        return importlib.import_module(ref)
    except ModuleNotFoundError as exc:
        raise TargetError(f"cannot import module '{ref}': {exc}") from exc


def _is_file(ref: str) -> bool:
    return ref.endswith(".py") or "/" in ref or "\\" in ref


def load_system(target: str, kwargs: dict[str, Any] | None = None) -> System:
    """Build the System that ``target`` names."""
    if ":" not in target:
        raise TargetError(
            f"target '{target}' needs the form path/to/file.py:Name or package.module:Name"
        )
    ref, _, attr = target.rpartition(":")
    module = load_module(ref)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise TargetError(f"'{ref}' has no attribute '{attr}' (target '{target}')")
        obj = getattr(obj, part)
    if isinstance(obj, System):
        system = obj
    elif callable(obj):
        system = obj(**(kwargs or {}))
    else:
        raise TargetError(f"target '{target}' is neither a System nor a factory returning one")
    if not isinstance(system, System):
        raise TargetError(
            f"target '{target}' returned {type(system).__name__}, not a like_keras System"
        )
    if _is_file(ref):  # other processes may start elsewhere: keep the file's absolute path
        target = f"{Path(ref).resolve()}:{attr}"
    system.__dict__["_target_ref"] = (target, dict(kwargs or {}))
    return system
