"""The Dora transport: one Dora node (process) per like-keras Node, on the real engine."""

from .dataflow import compile
from .launcher import launch

__all__ = ["compile", "launch"]
