"""``Node``: a process that hosts components."""

from __future__ import annotations


class Node:
    """A process. Components placed in the same node talk by direct calls;
    between nodes the transport carries the messages.

    ``machine`` names the machine the node runs on (multi-machine transports).
    """

    def __init__(self, name: str, *, machine: str | None = None) -> None:
        self.name = name
        self.machine = machine

    def __repr__(self) -> str:
        where = f", machine={self.machine!r}" if self.machine else ""
        return f"Node({self.name!r}{where})"
