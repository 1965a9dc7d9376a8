"""The timers of one Dora node, kept by its runner and behaving like ROS timers.

Dora's own timer inputs (``dora/timer/hz/N``) are ticked by the daemon whether or not
the node keeps up: a timer faster than its node can step fills the daemon's event
channel until it drops events, acknowledgements included, and the run hangs
(``notes/dora.md``). So the runner keeps its timers itself: each ticks on its period's
grid from the node's start, a late tick fires once, and the ticks it missed are
skipped, never queued, as an rclpy timer does.
"""

from __future__ import annotations

import heapq

from like_keras.transports.common.lockstep import period_ns


class Timers:
    """Timers by key (a component, or a replayed ``component.port``) and rate (Hz). Times
    are integer nanoseconds (``time.monotonic_ns``), so the grid never drifts."""

    def __init__(self, rates: dict[str, float]) -> None:
        self.periods = {key: period_ns(hz) for key, hz in rates.items()}
        self._due: list[tuple[int, int, str]] = []

    def start(self, now: int) -> None:
        """Start every timer at ``now``: the first tick one period later."""
        self._due = [(now + period, order, key) for order, (key, period) in enumerate(self.periods.items())]
        heapq.heapify(self._due)

    def due(self, now: int) -> list[str]:
        """The keys whose tick is due at ``now``, each once, in the order they fell due."""
        fired = []
        while self._due and self._due[0][0] <= now:
            when, order, key = self._due[0]
            period = self.periods[key]
            missed = (now - when) // period  # ticks that fell due meanwhile: skipped
            heapq.heapreplace(self._due, (when + (missed + 1) * period, order, key))
            fired.append(key)
        return fired

    def wait(self, now: int) -> float | None:
        """Seconds until the next tick (0 if one is due), or None without timers."""
        return max(0, self._due[0][0] - now) / 1e9 if self._due else None
