"""The native transport: every node in this process, one deterministic event loop."""

from .loop import launch

__all__ = ["launch"]
