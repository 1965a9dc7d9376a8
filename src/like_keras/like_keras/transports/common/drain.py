"""Stop and drain across processes: knowing when nothing is in flight.

When the clock has stepped N times (or a duration has passed) a multi-process run
must still deliver every message in flight before ``on_stop``. The coordinator (the
clock's process) sends probe *waves*; every other process stops its timers at the
first probe and answers each probe, once its own inbox is empty, with how many
cross-process messages it has sent and received so far. When two consecutive waves
give the same totals and sent == received, nothing was sent or received between them
and nothing is in flight: the coordinator sends the exit probe and everyone stops.

A run that nothing but the system and its bags feeds, without iterations, drains once
the bags are played out: every process that plays one tells the coordinator when its
last message is out (a ``fed_out`` report), and the waves start when all have. A stop
asked of any one process (a signal, a lifecycle shutdown) reaches the coordinator as a
``stop`` report, and the whole run drains as at the end of a duration.

Transport adapters (the Dora host, the ROS 2 host) carry the small JSON payloads;
the decisions are here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from like_keras.graph.ir import SystemGraph
from like_keras.transports.common.lockstep import Schedule

WAVE_INTERVAL = 0.002  # seconds between two probe waves


def coordinator_of(graph: SystemGraph) -> str:
    """The process that runs the waves: the clock's node, else the first like-keras node
    (an external process cannot run them)."""
    if graph.clock:
        return graph.node_of(graph.clock)
    return next((n.name for n in graph.nodes if n.executable is None), graph.nodes[0].name)


def peers(graph: SystemGraph) -> list[str]:
    """The processes that answer the coordinator's probes: every other like-keras node
    (external processes take no part)."""
    coordinator = coordinator_of(graph)
    return [n.name for n in graph.nodes if n.name != coordinator and n.executable is None]


def ends_when_quiet(graph: SystemGraph, replayed: frozenset[str] = frozenset()) -> bool:
    """Nothing but the system itself and the ``replayed`` bags makes messages: no timer on
    a component that is not replayed, no input fed from outside that no bag replays, no
    external process that sends. Without iterations such a run ends when it is quiet."""
    timers = any(c.rate_hz and c.name not in replayed for c in graph.components)
    live = any(c not in replayed and f"{c}.{p}" not in replayed for c, p, _ in graph.foreign_inputs())
    external = any(graph.is_external(c.src) for c in graph.connections)
    return not (timers or live or external)


def players(graph: SystemGraph, replayed: frozenset[str]) -> frozenset[str]:
    """The processes that play bags: those of the replayed components and inputs."""
    return frozenset(graph.node_of(key.partition(".")[0]) for key in replayed)


def probe(wave: int, exit: bool = False, stop: bool = True, t_ns: int | None = None) -> str:
    """A wave's probe; ``stop``: the clock stops at it (not while lockstep looks for quiet);
    ``t_ns``: lockstep's simulated clock, which every process takes before the next tick."""
    return json.dumps({"wave": wave, "exit": exit, "stop": stop, **({"t": t_ns} if t_ns is not None else {})})


def tick(t_ns: int, component: str) -> str:
    """Lockstep: the simulated clock is at ``t_ns`` and ``component`` ticks."""
    return json.dumps({"tick": component, "t": t_ns})


def report(node: str, wave: int, sent: int, received: int) -> str:
    return json.dumps({"node": node, "wave": wave, "sent": sent, "received": received})


def fed_out(node: str) -> str:
    return json.dumps({"node": node, "fed_out": True})


def stop_request(node: str) -> str:
    """``node`` was asked to stop (a signal, a lifecycle shutdown): the run stops and drains."""
    return json.dumps({"node": node, "stop": True})


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


class Drain:
    """One process's part in stopping and draining a run, for any transport adapter.

    The adapter counts the cross-process messages it sends and receives (``sent``,
    ``received``), forwards probe and report payloads (``on_probe``, ``on_report``),
    calls ``idle`` whenever its inbox is empty, and leaves once ``leaving`` is set.
    ``send_probe`` / ``send_report`` carry payloads to the other processes.
    """

    def __init__(
        self, graph: SystemGraph, node: str, runtime: Any, *, iterations: int | None,
        send_probe: Callable[[str], None], send_report: Callable[[str], None],
        replayed: frozenset[str] = frozenset(), lockstep: bool = False, duration: float | None = None,
        on_time: Callable[[int], None] | None = None, epoch_ns: int | None = None,
    ) -> None:
        """``replayed``: every replay key of the run (``runtime.fed_out`` says when this
        process's bags are played out). ``lockstep``: the coordinator ticks every timer in
        simulated time (``lockstep.Schedule``) from ``epoch_ns`` (default: now) until
        ``duration`` simulated seconds, calling ``on_time`` with each new time; ``sim_ns`` is
        the simulated clock (None outside lockstep)."""
        coordinator = coordinator_of(graph)
        self.node = node
        self.runtime = runtime
        self.clock = graph.clock
        self.peers = peers(graph)
        self.coordinator = Coordinator(self.peers) if node == coordinator else None
        # A run that ends when quiet drains from the start, or once its bags are played out.
        quiet = self.coordinator is not None and iterations is None and ends_when_quiet(graph, replayed)
        self.players = players(graph, replayed)
        self._awaited = set(self.players) if quiet else set()  # players not yet fed out
        self._told = node not in self.players  # this process's own bags: played out, and said so
        self.draining = quiet and not self.players
        self._epoch_ns = epoch_ns or time.time_ns()  # simulated time 0, as the native loop's
        self.sim_ns: int | None = self._epoch_ns if lockstep else None
        self.schedule = Schedule(graph) if lockstep and self.coordinator is not None else None
        if self.schedule is not None:
            self.draining = True  # from the start: each tick waits for the system to be quiet
            self._end_ns = round(duration * 1e9) if duration else None
        self._on_time = on_time
        self._due: str | None = None  # lockstep: the component whose tick waits for the new time's wave
        self.sent = 0
        self.received = 0
        self.stopping = False  # timers off
        self.leaving = False
        self._pending: int | None = None
        self._send_probe = send_probe
        self._send_report = send_report

    def clock_done(self) -> None:
        """The clock stepped its iterations (it lives in the coordinator's process)."""
        self.stopping = True
        self.draining = True

    def stop_clock(self) -> None:
        """End of a duration or a stop request: the clock never steps again, timers stop."""
        if self.clock in self.runtime.components:
            self.runtime.halt(self.clock)
        self.stopping = True
        self.draining = self.coordinator is not None

    def request_stop(self) -> None:
        """A stop asked of this process (a signal, a lifecycle shutdown): stop the clock,
        and ask the coordinator, once, to stop and drain the whole run."""
        asked = self.stopping
        self.stop_clock()
        if self.coordinator is None and not asked:
            self._send_report(stop_request(self.node))

    def on_probe(self, payload: str) -> None:
        msg = parse(payload)
        if "t" in msg:
            self.sim_ns = msg["t"]
        if "tick" in msg:
            self._tick(msg["tick"])
            return
        if msg["stop"]:
            self.stop_clock()
        if msg["exit"]:
            self.leaving = True
        else:
            self._pending = msg["wave"]  # answered once the inbox is empty

    def on_report(self, payload: str) -> None:
        if self.coordinator is not None:
            msg = parse(payload)
            if msg.get("fed_out"):
                self._fed_out(msg["node"])
            elif msg.get("stop"):
                self.stop_clock()
            else:
                self.coordinator.on_report(msg)

    def idle(self, now: float) -> None:
        """With an empty inbox: say when this process's bags are played out, answer a probe;
        the coordinator runs its waves."""
        if not self._told and self.runtime.fed_out:
            self._told = True
            if self.coordinator is None:
                self._send_report(fed_out(self.node))
            else:
                self._fed_out(self.node)
        if self._pending is not None:
            self._send_report(report(self.node, self._pending, self.sent, self.received))
            self._pending = None
        c = self.coordinator
        if not self.draining or c is None or self.leaving:
            return
        if c.complete:
            self._close(now)
        wave = c.start_wave(now)
        if wave is not None:
            if self.peers:
                self._send_probe(probe(wave, stop=self.schedule is None or self.stopping,
                                       t_ns=self.sim_ns if self.schedule is not None else None))
            else:
                self._close(now)

    def wait(self, now: float) -> float | None:
        """How long the coordinator may block waiting for events while draining (else None)."""
        c = self.coordinator
        if not self.draining or c is None:
            return None
        return 0.05 if c.open else max(0.0005, c.next_at - now)

    def _fed_out(self, node: str) -> None:
        """``node``'s bags are played out; once every player's are, the drain starts."""
        if node in self._awaited:
            self._awaited.discard(node)
            if not self._awaited:
                self.draining = True

    def _tick(self, component: str) -> None:
        if component in self.runtime.components:
            self.runtime.tick(component)

    def _advance(self) -> None:
        """Lockstep, the system quiet: move the clock to the next tick (the next wave takes
        it to every process, then the tick is made: nothing it causes can reach a process
        before its time does), or end."""
        assert self.schedule is not None and self.coordinator is not None
        event = self.schedule.pop()
        if event is None or (self._end_ns is not None and event[0] > self._end_ns):
            self.stop_clock()  # nothing more to tick: the waves now stop and drain
            return
        self.sim_ns = self._epoch_ns + event[0]
        if self._on_time is not None:
            self._on_time(self.sim_ns)
        self._due = event[1]

    def _close(self, now: float) -> None:
        c = self.coordinator
        if c is None:
            return
        if self._due is not None:  # every process has the new time: the tick
            c.close(self.sent, self.received, now)
            c.last = None  # quiet again only after two waves past this tick
            component, self._due = self._due, None
            if self.peers:
                self._send_probe(tick(self.sim_ns, component))  # type: ignore[arg-type]
            self._tick(component)
            return
        if c.close(self.sent, self.received, now):
            if self.schedule is not None and not self.stopping:
                self._advance()
                return
            if self.peers:
                self._send_probe(probe(c.wave, exit=True))
            self.leaving = True
