"""Credit-based flow control between like-keras runners on Dora.

Dora's ``backpressure`` queue still drops messages past 10 x its size, so a sender
keeps at most half the receiving queue in flight (``NodePlan.flow``). Receivers count
what leaves Dora's queue and acknowledge in batches of a quarter of that window on
their ``lk_ack`` output; senders read the acknowledgements on ``lk_ack_<receiver>``.
Lossy (``keep_last``) inputs and external processes take no part.
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
        counted = [iid for iid in plan.routes if iid not in plan.lossy and iid not in plan.external_sources]
        self.receipts = {iid: 0 for iid in counted}
        self.unacked = {iid: 0 for iid in counted}
        # A quarter of the sender's window: it never waits for long, and acks stay rare.
        self.ack_every = {iid: max(1, plan.inputs[iid]["queue_size"] // 8) for iid in counted}
        self._send_ack = send_ack

    def sent(self, oid: str) -> None:
        """One message left on output ``oid``."""
        for receiver in self.windows.get(oid, ()):
            self.in_flight[(oid, receiver)] += 1

    def blocked(self, oid: str) -> bool:
        """True while some receiver of ``oid`` has a full window unacknowledged."""
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
                self._send_ack({"from": self.node, "counts": self.receipts})
                self.unacked = dict.fromkeys(self.unacked, 0)
        elif iid.startswith(ACK + "_"):
            msg = json.loads(event["value"][0].as_py())
            for oid, count in msg["counts"].items():
                if (oid, msg["from"]) in self.acked:
                    self.acked[(oid, msg["from"])] = count
            return HANDLED
        return event
