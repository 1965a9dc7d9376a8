"""Sequence numbers on Dora edges: how a runner knows Dora lost or reordered nothing.

Every data message a runner sends carries ``seq`` (1, 2, 3... per output) in its
metadata; the receiving runner checks each input's numbers follow on. Lossy
(``keep_last``) inputs may skip numbers; nothing else may.
"""

from __future__ import annotations

from typing import Any

from like_keras.errors import RunError


class Numbering:
    """The sender's side: the next number of each output."""

    def __init__(self, outputs: list[str]) -> None:
        self.last = dict.fromkeys(outputs, 0)

    def stamp(self, oid: str, metadata: dict[str, Any], n: int = 1) -> None:
        """Number the next ``n`` messages on ``oid`` (a batch: ``seq`` is the first's)."""
        metadata["seq"] = self.last[oid] + 1
        self.last[oid] += n
        if n != 1:
            metadata["n"] = n


class SequenceCheck:
    """The receiver's side: ``routes`` maps each input to the (component, port) it feeds."""

    def __init__(self, node: str, routes: dict[str, list[tuple[str, str]]], lossy: set[str] | frozenset[str]) -> None:
        self.node = node
        self.routes = routes
        self.lossy = frozenset(lossy)
        self.last = dict.fromkeys(routes, 0)

    def check(self, iid: str, metadata: dict[str, Any], n: int = 1) -> None:
        """Raise RunError unless ``metadata["seq"]`` follows the last number seen on ``iid``
        (``n`` messages in a batch)."""
        seq = metadata.get("seq")
        expected = self.last[iid] + 1
        self.last[iid] = (seq if isinstance(seq, int) else expected) + n - 1
        if iid in self.lossy or seq == expected:
            return
        comp, port = self.routes[iid][0]
        raise RunError(
            f"Dora lost or reordered messages on {iid.replace('__', '.')} -> {comp}.{port}: expected message "
            f"#{expected}, got #{seq}. like-keras delivers losslessly; this input's queue overflowed. "
            f"Slow the sender or give the input keep_last=N if losing old messages is acceptable",
            component=comp, node=self.node,
        )
