"""Batching: several small messages of one output in one Dora send.

A Dora send costs tens of microseconds of Python and daemon work whatever the message
size, so a runner that sends faster than that holds the messages of a batched output
(``NodePlan.batched``) and sends them together: before it sends on another output or a
control message, before it waits for Dora, after each slice of local work, and at
``MAX`` messages. The order of Dora sends is therefore that of unbatched sending, and no
message waits while its node waits. On the wire a batch is an Arrow array of its values
with ``seq`` (the first message's number) and ``n`` in the metadata; receivers hand its
values on one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX = 64  # messages in one batch


class Batch:
    """The held messages of at most one output; ``send(oid, values)`` sends them."""

    def __init__(self, send: Callable[[str, list[Any]], None]) -> None:
        self.oid: str | None = None
        self.values: list[Any] = []
        self._send = send

    def add(self, oid: str, value: Any) -> None:
        if oid != self.oid:
            self.flush()
            self.oid = oid
        self.values.append(value)
        if len(self.values) >= MAX:
            self.flush()

    def flush(self) -> None:
        if self.values:
            values, self.values = self.values, []
            self._send(self.oid, values)  # type: ignore[arg-type]
