"""The Dora transport: one Dora node (process) per like-keras Node, on the real engine.

``remote`` (loaded when used): Dora across machines, for ``like_keras.deploy``."""

from typing import Any

from like_keras.transports.dora.compiler import compile
from like_keras.transports.dora.launcher import launch

__all__ = ["compile", "launch"]


def __getattr__(name: str) -> Any:
    if name == "remote":
        import importlib

        return importlib.import_module(f"{__name__}.remote")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
