"""Simulated time across processes: the native loop's trace on a multi-process transport.

The native transport is a discrete-event loop: one timer tick, then every message it
caused, then the next tick, the clock jumping from tick to tick. A multi-process run
in lockstep does the same: the drain's coordinator holds every timer of the system
(``Schedule``), has one tick made, waits until the system is quiet (two equal probe
waves, as the drain does, without stopping anything) and only then moves the simulated
clock to the next tick. The next wave takes the new time to every process before the
tick is made, so all stamp with the same simulated clock.
"""

from __future__ import annotations

import heapq

from like_keras.graph.ir import SystemGraph


def period_ns(rate_hz: float) -> int:
    """A timer's period in integer nanoseconds (tick k is due at k periods: no drift)."""
    return max(1, round(1e9 / rate_hz))


class Schedule:
    """Every timer of ``graph``, as the native loop orders them: by due time, then by the
    components' declaration order."""

    def __init__(self, graph: SystemGraph) -> None:
        timed = [(order, c.name, period_ns(c.rate_hz)) for order, c in enumerate(graph.components) if c.rate_hz]
        self._due = [(period, order, name, period) for order, name, period in timed]
        heapq.heapify(self._due)
        self._halted: set[str] = set()

    def halt(self, component: str) -> None:
        """``component`` never ticks again (the clock, after its last step)."""
        self._halted.add(component)

    def pop(self) -> tuple[int, str] | None:
        """The next tick: (simulated ns since the start, component), or None without one."""
        while self._due:
            when, order, name, period = self._due[0]
            if name in self._halted:
                heapq.heappop(self._due)
                continue
            heapq.heapreplace(self._due, (when + period, order, name, period))
            return when, name
        return None


def applies(graph: SystemGraph, realtime: bool, replayed: frozenset[str] | set[str]) -> bool:
    """Whether a run goes in lockstep: when it has timers to step, unless it is real time
    or something outside keeps the wall clock (bags replayed by it, topics fed from
    outside, external processes). A system without timers has no simulated time to keep
    (natively its clock never moves): its ``duration`` stays wall-clock seconds."""
    outside = replayed or graph.foreign_inputs() or any(n.executable for n in graph.nodes)
    return not realtime and not outside and any(c.rate_hz for c in graph.components)
