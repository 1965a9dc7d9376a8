"""The Dora transport: one Dora node (process) per like-keras Node, on the real engine."""

from like_keras.transports.dora.compiler import compile
from like_keras.transports.dora.launcher import launch

__all__ = ["compile", "launch"]
