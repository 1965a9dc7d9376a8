"""The native transport: every node in this process, one deterministic event loop."""

from like_keras.transports.native.launcher import launch

__all__ = ["launch"]
