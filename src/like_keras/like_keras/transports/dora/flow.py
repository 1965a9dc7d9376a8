"""Credit-based flow control between like-keras runners on Dora.

Dora's ``backpressure`` queue still drops messages past 10 x its size, and its direct
path drops when messages queue up, so a sender keeps at most a window of messages in
flight to each receiver (``NodePlan.flow``: half the queue, or one on the direct path).
Receivers count what leaves Dora's queue and acknowledge in batches (``NodePlan.ack_every``),
with running totals: an acknowledgement that is due rides on the next data message to
every node it is owed to (``ack``/``ack_from`` metadata), or goes on the ``lk_ack``
output (senders read it on ``lk_ack_<receiver>``) when the runner is about to wait, to
send or after a slice of local work: a reply carries it for free, and two nodes that wait
for each other's room have always sent theirs. Lossy (``keep_last``) inputs and external
processes take no part.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .dataflow import ACK, NodePlan

HANDLED: Any = object()  # an event consumed by flow control


class FlowControl:
    def __init__(self, plan: NodePlan, node: str, send_ack: Callable[[dict[str, Any]], None]) -> None:
        self.node = node
        self.windows = plan.flow
        self.in_flight = {(out, r): 0 for out, rs in plan.flow.items() for r in rs}
        self.acked = dict(self.in_flight)
        self.ack_every = plan.ack_every  # inputs under flow control -> receipts per acknowledgement
        self.receipts = dict.fromkeys(self.ack_every, 0)
        self.unacked = dict.fromkeys(self.ack_every, 0)
        self.ack_due = False
        # Outputs whose every message reaches all the nodes this one acknowledges to.
        self.carries_acks = frozenset(out for out, rs in plan.flow.items() if plan.acks_to <= rs.keys())
        self._send_ack = send_ack

    def sent(self, oid: str) -> None:
        """One message left on output ``oid``."""
        for receiver in self.windows.get(oid, ()):
            self.in_flight[(oid, receiver)] += 1

    def blocked(self, oid: str) -> bool:
        """True while one more message on ``oid`` would overfill some receiver's window."""
        windows = self.windows.get(oid)
        return bool(windows) and any(
            self.in_flight[(oid, r)] - self.acked[(oid, r)] >= w for r, w in windows.items()
        )

    def on_event(self, event: Any) -> Any:
        """Count a receipt (acknowledging in batches) or apply an acknowledgement (HANDLED)."""
        if event is None or event["type"] != "INPUT":
            return event
        iid = event["id"]
        if iid in self.receipts:
            self.receipts[iid] += 1
            self.unacked[iid] += 1
            if self.unacked[iid] >= self.ack_every[iid]:
                self.ack_due = True
            metadata = event.get("metadata")
            if metadata and "ack" in metadata:
                self._apply(metadata["ack_from"], json.loads(metadata["ack"]))
        elif iid.startswith(ACK + "_"):
            msg = json.loads(event["value"][0].as_py())
            self._apply(msg["from"], msg["counts"])
            return HANDLED
        return event

    def _apply(self, receiver: str, counts: dict[str, int]) -> None:
        for oid, count in counts.items():
            if (oid, receiver) in self.acked:
                self.acked[(oid, receiver)] = count

    def carry(self, oid: str, metadata: dict[str, Any]) -> None:
        """Put a due acknowledgement on a data message of ``oid``, if it reaches every node owed one."""
        if self.ack_due and oid in self.carries_acks:
            metadata["ack"], metadata["ack_from"] = json.dumps(self.receipts), self.node
            self._acked()

    def send_due(self) -> None:
        """Send the acknowledgement that is due, if any."""
        if self.ack_due:
            self._acked()
            self._send_ack({"from": self.node, "counts": self.receipts})

    def _acked(self) -> None:
        self.ack_due = False
        self.unacked = dict.fromkeys(self.unacked, 0)
