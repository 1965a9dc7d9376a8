"""Credit-based flow control, the same on every multi-process transport.

Neither Dora's backpressure queues nor ROS 2's keep-all history are flow control: the
first drops past 10 x its size, the second grows without bound. So a sender keeps at
most a window of messages in flight to each receiving node, and waits for room. A
receiver counts what it takes in and acknowledges in batches (every ``ack_every``
receipts of an input), with running totals, so a later acknowledgement makes up for
any earlier one. The transports carry the acknowledgements (``transports/dora/flow.py``,
``like_keras_ros.host``) and decide what a sender does while it waits.
"""

from __future__ import annotations

import json
from collections.abc import Callable


def ack_every(window: int) -> int:
    """Receipts per acknowledgement for a ``window``: every quarter window, so the sender
    never waits long and acknowledgements stay rare."""
    return max(1, window // 4)


class Credits:
    """``windows``: output -> {receiving node: max in flight}; ``ack_every``: input ->
    receipts per acknowledgement; ``send_ack(payload)`` sends the JSON payload
    ``{"from": node, "counts": {input: total received}}``."""

    def __init__(self, node: str, windows: dict[str, dict[str, int]], ack_every: dict[str, int],
                 send_ack: Callable[[str], None]) -> None:
        self.node = node
        self.windows = windows
        self.in_flight = {(out, r): 0 for out, rs in windows.items() for r in rs}
        self._limits = {out: [((out, r), w) for r, w in rs.items()] for out, rs in windows.items()}
        self.acked = dict(self.in_flight)
        self.ack_every = ack_every
        self.receipts = dict.fromkeys(ack_every, 0)
        self.unacked = dict.fromkeys(ack_every, 0)
        self.ack_due = False
        self._send_ack = send_ack

    # --- the sender's side --------------------------------------------------------------

    def sent(self, out: str) -> None:
        """One message left on output ``out``."""
        for receiver in self.windows.get(out, ()):
            self.in_flight[(out, receiver)] += 1

    def blocked(self, out: str) -> bool:
        """True while one more message on ``out`` would overfill some receiver's window."""
        for key, window in self._limits.get(out, ()):
            if self.in_flight[key] - self.acked[key] >= window:
                return True
        return False

    def apply(self, receiver: str, counts: dict[str, int]) -> None:
        """An acknowledgement from ``receiver``: its running totals per input."""
        for out, count in counts.items():
            if (out, receiver) in self.acked:
                self.acked[(out, receiver)] = count

    def on_ack(self, payload: str) -> None:
        msg = json.loads(payload)
        self.apply(msg["from"], msg["counts"])

    # --- the receiver's side ------------------------------------------------------------

    def received(self, key: str) -> None:
        """One message taken in on input ``key`` (not under flow control: ignored)."""
        if key in self.receipts:
            self.receipts[key] += 1
            self.unacked[key] += 1
            if self.unacked[key] >= self.ack_every[key]:
                self.ack_due = True

    def take_due(self) -> str | None:
        """The running totals, if an acknowledgement is due (then it is no longer due)."""
        if not self.ack_due:
            return None
        self.ack_due = False
        self.unacked = dict.fromkeys(self.unacked, 0)
        return json.dumps(self.receipts)

    def send_due(self) -> None:
        """Send the acknowledgement that is due, if any."""
        counts = self.take_due()
        if counts is not None:
            self._send_ack(f'{{"from": {json.dumps(self.node)}, "counts": {counts}}}')
