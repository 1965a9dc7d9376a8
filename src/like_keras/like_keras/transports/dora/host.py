"""One like-keras node on Dora, in plain Python (no ``dora`` import here).

``Host`` turns Dora events into runtime calls: data inputs are decoded, checked for
loss and delivered; small messages leave in batches (``batch.py``); the node's own
timers tick (``timers.py``); ``lk_probe``/``lk_report`` carry the stop-and-drain
protocol (``common.drain``, started when the clock has stepped ``iterations`` times or
``duration`` seconds have passed); acknowledgements carry flow control (``flow.py``).
The Dora adapter (``runner.py``) only creates the ``dora.Node`` and hands it over, so
everything here is tested without a Dora daemon.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from like_keras.errors import RunError
from like_keras.graph.ir import ConnectionSpec, SystemGraph
from like_keras.recording.part import FLUSH_S
from like_keras.runtime.taps import Feed
from like_keras.system import types
from like_keras.system.component import Component
from like_keras.transports.common.host import NodeHost
from like_keras.transports.dora import codec
from like_keras.transports.dora.batch import Batch
from like_keras.transports.dora.compiler import ACK, PROBE, REPORT, data_id, plan_node
from like_keras.transports.dora.flow import HANDLED, FlowControl
from like_keras.transports.dora.sequence import Numbering, SequenceCheck
from like_keras.transports.dora.timers import Timers

_SLICE = 256  # local events processed between two looks at Dora's queue


class Host(NodeHost):
    """Hosts the components of ``node`` on Dora through ``dora`` (a ``dora.Node``, or
    anything with its ``send_output``, ``next`` and ``try_recv``)."""

    def __init__(self, graph: SystemGraph, node: str, components: dict[str, Component], dora: Any, *,
                 replayed: frozenset[str] = frozenset(), iterations: int | None = None,
                 duration: float | None = None, recorder: Any = None,
                 record: frozenset[tuple[str, str]] = frozenset(), live: Any = None,
                 feeds: dict[str, Feed] | None = None, mark: Callable[[str], None] = lambda what: None) -> None:
        """``replayed``: every replay key of the run; ``duration``: seconds before this node,
        if it coordinates the drain, stops the clock; ``mark``: notes when start-up steps end."""
        self.plan = plan_node(graph, node, replayed)
        self.dora = dora
        self.recorder = recorder
        super().__init__(graph, node, components, iterations=iterations, recorder=recorder, record=record,
                         live=live, feeds=feeds, replayed=replayed)
        self.out_types = {
            oid: types.from_json(graph.component(c).output(p).type) for oid, (c, p) in self.plan.outputs.items()
        }
        self.in_types = {
            iid: types.from_json(graph.component(dests[0][0]).input(dests[0][1]).type)
            for iid, dests in self.plan.routes.items()
        }
        self.checks = {iid: types.coercer(t) for iid, t in self.in_types.items()}
        self.numbering = Numbering(list(self.plan.outputs))
        self.sequence = SequenceCheck(self.node, self.plan.routes, self.plan.lossy)
        self.flow = FlowControl(self.plan, self.node, lambda payload: self._control(ACK, payload))
        self.batch = Batch(self._send_batch)
        self.timers = Timers(self.plan.timers)
        self.deferred: collections.deque[dict[str, Any]] = collections.deque()
        self.deadline: float | None = duration if self.plan.coordinator else None
        self._mark = mark

    def _send_probe(self, payload: str) -> None:
        self._control(PROBE, payload)

    def _send_report(self, payload: str) -> None:
        self._control(REPORT, payload)

    # --- sending ----------------------------------------------------------------------

    def _send(self, component: str, port: str, value: Any, connections: list[ConnectionSpec],
              header: tuple[int, str] | None = None) -> None:
        oid = data_id(component, port)
        if oid in self.plan.batched:
            self.batch.add(oid, value)
            return
        self.batch.flush()
        self._wait_for_room(oid)
        array, metadata = codec.encode(value, self.out_types[oid])
        self._send_data(oid, array, metadata, 1)

    def _send_batch(self, oid: str, values: list[Any]) -> None:
        self._wait_for_room(oid)
        self._send_data(oid, codec.encode_many(values, self.out_types[oid]), {}, len(values))

    def _send_data(self, oid: str, array: pa.Array, metadata: dict[str, Any], n: int) -> None:
        self.numbering.stamp(oid, metadata, n)
        self.flow.carry(oid, metadata)
        self.dora.send_output(oid, array, metadata)
        self.drain.sent += n * self.plan.fanout[oid]  # one delivery per like-keras node it reaches
        self.flow.sent(oid)

    def _wait_for_room(self, oid: str) -> None:
        """Wait for room before sending (not after): a reply often brings the ack first."""
        while self.flow.blocked(oid):
            self.flow.send_due()  # the receiver may be waiting for room on this node too
            event = self._receive(timeout=1.0)
            if event is None:
                break  # the stream ended: nobody is left to acknowledge
            if event is not HANDLED and event["type"] != "ERROR":
                self.deferred.append(event)  # handled after this step, in order

    def _receive(self, timeout: float | None = None, wait: bool = True) -> Any:
        """The next Dora event, after flow control (acknowledgements come back HANDLED)."""
        if not wait:
            event = self.dora.try_recv()
        else:
            event = self.dora.next(timeout=timeout) if timeout is not None else self.dora.next()
        return self.flow.on_event(event)

    def _flush(self) -> None:
        """Before waiting: the held messages, then any acknowledgement still due."""
        self.batch.flush()
        self.flow.send_due()

    def _control(self, output: str, payload: str) -> None:
        self.batch.flush()
        self.dora.send_output(output, pa.array([payload]))

    # --- the event loop ---------------------------------------------------------------

    def run(self) -> None:
        rt = self.runtime
        rt.start()
        self._mark("on_start done")
        self.timers.start(time.monotonic_ns())
        if self.deadline is not None:
            self.deadline += time.monotonic()
        while not self.drain.leaving:
            if rt.inbox:
                # Local work first, in slices, so Dora events and timers are never starved.
                for _ in range(_SLICE):
                    if not rt.inbox:
                        break
                    rt.deliver(*rt.inbox.popleft())
                if not rt.inbox:
                    continue  # all done: wait for Dora below
                self._flush()
                self._end_duration()  # a node that is never idle still ends its duration
                self._tick(time.monotonic_ns())
                event = self.deferred.popleft() if self.deferred else self._receive(wait=False)
                if event is None or event is HANDLED:
                    continue
            else:
                self._flush()
                self._idle()
                if self.drain.leaving:
                    break
                if self._tick(time.monotonic_ns()):
                    continue  # a tick's work first
                event = self.deferred.popleft() if self.deferred else self._receive(self._timeout())
                if event is None:
                    break
                if event is HANDLED:
                    continue
            kind = event["type"]
            if kind == "INPUT":
                self._input(event["id"], event["value"], event.get("metadata") or {})
            elif kind == "STOP" and event.get("id") != "ALL_INPUTS_CLOSED":
                self.drain.stop_clock()  # a manual stop: like the end of a duration, but best effort
            # Every input closed (plain Dora nodes that fed this one ended): Dora may say so
            # before the messages still queued, so go on until the stream ends.
            elif kind == "NODE_FAILED":
                rt.halt()  # the failed node reports itself; just leave
                break
        rt.stop()
        self._flush()  # what on_stop sent

    def _tick(self, now: int) -> bool:
        """Tick every timer that is due (none once the clock is stopping); True if one did."""
        due = self.timers.due(now)
        if self.drain.stopping:
            return False
        for key in due:
            self.runtime.tick(key)
        return bool(due)

    def _timeout(self) -> float | None:
        """How long to wait for an event: short while draining, until the deadline if one is
        set, and no longer than the recording's flush interval or the next timer tick."""
        now = time.monotonic()
        wait = self.drain.wait(now)
        if wait is None and self.deadline is not None:
            wait = max(0.0005, self.deadline - now)
        if self.recorder is not None:
            wait = FLUSH_S if wait is None else min(wait, FLUSH_S)
        tick = self.timers.wait(time.monotonic_ns())
        return wait if tick is None else tick if wait is None else min(wait, tick)

    def _idle(self) -> None:
        """With an empty inbox: end a duration, flush the recording, then the drain's turn."""
        if self.recorder is not None:
            self.recorder.flush_due()
        self._end_duration()
        self.drain.idle(time.monotonic())

    def _end_duration(self) -> None:
        """Past the deadline of ``--duration``: stop the clock (the drain follows)."""
        if self.deadline is not None and not self.drain.stopping and time.monotonic() >= self.deadline:
            self.drain.stop_clock()

    def _input(self, iid: str, value: pa.Array, metadata: dict[str, Any]) -> None:
        rt = self.runtime
        dests = self.plan.routes.get(iid)
        if dests is not None:
            external = iid in self.plan.external_sources
            n = 1 if external else metadata.get("n", 1)  # a batch holds n messages
            if not external:
                self.sequence.check(iid, metadata, n)
                self.drain.received += n
            try:
                t, check = self.in_types[iid], self.checks[iid]
                raw = [codec.decode(value, metadata, t)] if n == 1 else codec.decode_many(value, n, t)
                values = [check(v) for v in raw]
            except TypeError as exc:
                comp, port = dests[0]
                raise RunError(
                    f"node '{self.node}' received a value for {comp}.{port} that does not fit the port: {exc}",
                    component=comp, node=self.node,
                ) from None
            for decoded in values:
                for comp, port in dests:
                    rt.inbox.append((comp, port, decoded))
        elif iid == PROBE:
            self.drain.on_probe(value[0].as_py())
        elif iid.startswith(REPORT):
            self.drain.on_report(value[0].as_py())
