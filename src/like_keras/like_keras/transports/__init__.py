"""Transports: what moves messages. One subpackage per transport, each exposing the
same small interface, and nothing outside this package imports one directly:

- ``launch(system, graph, *, iterations, duration, realtime, record, timeout, live, **options) -> RunResult``
  (``live``: the live view's server, which takes copies of its ports' values, or None)
- ``compile(graph, out, **options) -> Path`` (transports that run from generated files)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from like_keras.errors import TransportError

_TRANSPORTS = {
    "native": "like_keras.transports.native",
    "dora": "like_keras.transports.dora",
    "ros2": "like_keras_ros.compiler",
}


def available() -> list[str]:
    """Names of the transports that this installation provides."""
    return [name for name in _TRANSPORTS if _try_import(name) is not None]


def get(name: str) -> ModuleType:
    """The transport module called ``name``; TransportError names the choices otherwise."""
    if name not in _TRANSPORTS:
        raise TransportError(
            f"unknown transport {name!r}; available transports: {', '.join(available())}"
        )
    module = _try_import(name)
    if module is None:
        raise TransportError(
            f"transport {name!r} is not provided by this installation; "
            f"available transports: {', '.join(available())}"
        )
    return module


def get_compiler(name: str) -> Callable[..., Path]:
    """The ``compile`` function of transport ``name``."""
    module = get(name)
    compiler: Any = getattr(module, "compile", None)
    if compiler is None:
        can = [n for n in available() if getattr(get(n), "compile", None) is not None]
        raise TransportError(
            f"transport {name!r} runs in-process and has nothing to compile; "
            f"transports that compile: {', '.join(can) or 'none in this installation'}"
        )
    return compiler


def _try_import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(_TRANSPORTS[name])
    except ModuleNotFoundError as exc:
        if exc.name and _TRANSPORTS[name].startswith(exc.name):
            return None
        raise
