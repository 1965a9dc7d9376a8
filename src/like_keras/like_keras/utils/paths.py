"""Where code lives: ``module:Name`` or ``/abs/file.py:Name`` paths, both ways.

A class defined in a script (``__main__``) or in a target file is named by its file,
so every process that rebuilds the system names it the same way.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from like_keras.errors import TargetError

_FILE_MODULE_PREFIX = "_like_keras_target_"


def is_file(ref: str) -> bool:
    return ref.endswith(".py") or "/" in ref or "\\" in ref


def module_ref(module_name: str) -> str:
    """How to import ``module_name`` again: its name, or its file for scripts."""
    if module_name == "__main__" or module_name.startswith(_FILE_MODULE_PREFIX):
        file = getattr(sys.modules.get(module_name), "__file__", None)
        if file:
            return str(Path(file).resolve())
    return module_name


def class_path(cls: type) -> str:
    return f"{module_ref(cls.__module__)}:{cls.__qualname__}"


def load_module(ref: str) -> Any:
    """Import a module by dotted name or by file path (once per file)."""
    if is_file(ref):
        path = Path(ref).resolve()
        if not path.is_file():
            raise TargetError(f"target file '{ref}' does not exist")
        main = sys.modules.get("__main__")
        if getattr(main, "__file__", None) and Path(main.__file__).resolve() == path:
            return main  # the running script itself
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
        name = f"{_FILE_MODULE_PREFIX}{path.stem}_{digest}"
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


def resolve(path: str) -> Any:
    """The object at ``module:Qual.Name`` or ``/abs/file.py:Qual.Name``."""
    ref, _, qualname = path.rpartition(":")
    obj: Any = load_module(ref)
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise TargetError(f"'{ref}' has no attribute '{qualname}' (in '{path}')")
        obj = getattr(obj, part)
    return obj
