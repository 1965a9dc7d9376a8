"""Stop and drain across processes: knowing when nothing is in flight.

When the clock has stepped N times (or a duration has passed) a multi-process run
must still deliver every message in flight before ``on_stop``. The coordinator (the
clock's process) sends probe *waves*; every other process stops its timers at the
first probe and answers each probe, once its own inbox is empty, with how many
cross-process messages it has sent and received so far. When two consecutive waves
give the same totals and sent == received, nothing was sent or received between them
and nothing is in flight: the coordinator sends the exit probe and everyone stops.

Transport adapters (the Dora runner, the ROS 2 bridge) carry the small JSON payloads;
the decisions are here.
"""

from __future__ import annotations

import json
from typing import Any

from .graph import SystemGraph

WAVE_INTERVAL = 0.002  # seconds between two probe waves


def coordinator_of(graph: SystemGraph) -> str:
    """The process that runs the waves: the clock's node, else the first node."""
    return graph.node_of(graph.clock) if graph.clock else graph.nodes[0].name


def probe(wave: int, exit: bool = False) -> str:
    return json.dumps({"wave": wave, "exit": exit})


def report(node: str, wave: int, sent: int, received: int) -> str:
    return json.dumps({"node": node, "wave": wave, "sent": sent, "received": received})


def parse(payload: str) -> dict[str, Any]:
    return json.loads(payload)


class Coordinator:
    """The coordinator's side: runs waves over ``peers`` and decides when to exit."""

    def __init__(self, peers: list[str], interval: float = WAVE_INTERVAL) -> None:
        self.peers = list(peers)
        self.interval = interval
        self.wave = 0
        self.open = False
        self.next_at = 0.0
        self.reports: dict[str, tuple[int, int]] = {}
        self.last: tuple[int, int] | None = None

    def start_wave(self, now: float) -> int | None:
        """The number of a new wave to probe, or None if one is open or it is too soon."""
        if self.open or now < self.next_at:
            return None
        self.wave += 1
        self.open = True
        self.reports = {}
        return self.wave

    def on_report(self, msg: dict[str, Any]) -> None:
        if self.open and msg["wave"] == self.wave and msg["node"] in self.peers:
            self.reports[msg["node"]] = (msg["sent"], msg["received"])

    @property
    def complete(self) -> bool:
        """Every peer answered the open wave."""
        return self.open and len(self.reports) == len(self.peers)

    def close(self, sent: int, received: int, now: float) -> bool:
        """Close a complete wave with the coordinator's own counts; True when drained."""
        totals = (sent + sum(s for s, _ in self.reports.values()),
                  received + sum(r for _, r in self.reports.values()))
        drained = totals[0] == totals[1] and totals == self.last
        self.last = totals
        self.open = False
        self.next_at = now + self.interval
        return drained
