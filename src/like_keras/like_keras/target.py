"""Load a system from a target: ``path/to/file.py:Name`` or ``package.module:Name``.

``Name`` is a System subclass (called with no arguments, or with ``kwargs``), a
factory function returning a System, or a System instance. Remote processes use
the same targets to rebuild their part of a system from code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._paths import is_file, resolve
from .errors import TargetError
from .system import System


def load_system(target: str, kwargs: dict[str, Any] | None = None) -> System:
    """Build the System that ``target`` names."""
    if ":" not in target:
        raise TargetError(
            f"target '{target}' needs the form path/to/file.py:Name or package.module:Name"
        )
    ref, _, attr = target.rpartition(":")
    obj = resolve(target)
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
    if is_file(ref):  # other processes may start elsewhere: keep the file's absolute path
        target = f"{Path(ref).resolve()}:{attr}"
    system.__dict__["_target_ref"] = (target, dict(kwargs or {}))
    return system
