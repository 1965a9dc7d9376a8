"""Flow control on Dora: ``like_keras.transports.common.credits`` carried by Dora events.

Dora's ``backpressure`` queue still drops messages past 10 x its size, and its direct
path drops when messages queue up, so a sender keeps at most a window of messages in
flight to each receiver (``NodePlan.flow``: half the queue, or one on the direct path).
An acknowledgement that is due rides on the next data message to every node it is owed
to (``ack``/``ack_from`` metadata), or goes on the ``lk_ack`` output (senders read it on
``lk_ack_<receiver>``) when the runner is about to wait, to send or after a slice of
local work: a reply carries it for free, and two nodes that wait for each other's room
have always sent theirs. Lossy (``keep_last``) inputs and external processes take no part.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from like_keras.transports.common.credits import Credits
from like_keras.transports.dora.compiler import ACK, NodePlan

HANDLED: Any = object()  # an event consumed by flow control


class FlowControl(Credits):
    def __init__(self, plan: NodePlan, node: str, send_ack: Callable[[str], None]) -> None:
        super().__init__(node, plan.flow, plan.ack_every, send_ack)
        # Outputs whose every message reaches all the nodes this one acknowledges to.
        self.carries_acks = frozenset(out for out, rs in plan.flow.items() if plan.acks_to <= rs.keys())

    def on_event(self, event: Any) -> Any:
        """Count a receipt (and apply an acknowledgement riding on it), or apply an
        acknowledgement event (then HANDLED)."""
        if event is None or event["type"] != "INPUT":
            return event
        iid = event["id"]
        if iid in self.receipts:
            self.received(iid)
            metadata = event.get("metadata")
            if metadata and "ack" in metadata:
                self.apply(metadata["ack_from"], json.loads(metadata["ack"]))
        elif iid.startswith(ACK + "_"):
            self.on_ack(event["value"][0].as_py())
            return HANDLED
        return event

    def carry(self, oid: str, metadata: dict[str, Any]) -> None:
        """Put a due acknowledgement on a data message of ``oid``, if it reaches every node owed one."""
        if oid in self.carries_acks:
            counts = self.take_due()
            if counts is not None:
                metadata["ack"], metadata["ack_from"] = counts, self.node
