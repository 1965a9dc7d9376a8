"""``NodeRuntime``: hosts the components of one node, the same on every transport.

It takes (input port, value) events and timer ticks, calls ``step``, checks what
``step`` returned, routes outputs to components of the same node through its
inbox and hands the rest to the transport's ``send_remote``. The native transport
runs one per node in a single event loop; the Dora and ROS 2 runners are thin
adapters around one each. All semantics that can be tested without a transport
live here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from like_keras.errors import RunError, UndeclaredOutputError, ValueTypeError
from like_keras.graph.ir import ConnectionSpec, SystemGraph
from like_keras.msgs.header import frame_of, has_header, stamped
from like_keras.runtime.taps import Feed, LiveView, Paced, Recorder
from like_keras.system import types
from like_keras.system.component import Component

Event = tuple[str, str, Any]  # (component, input port, value)


class NodeRuntime:
    """Runs the components of node ``node`` of ``graph``.

    ``components`` maps the names of this node's components to live instances.
    ``send_remote(component, port, value, connections, header)`` carries one value sent on
    ``component.port`` to the components of other nodes (``connections``), or to the
    world outside the system for the ports in ``publish`` (then ``connections`` may be
    empty); a transport with topics or named outputs sends it once. ``header`` (time in
    ns, frame) is the header of an image port's ROS message, else None. ``inbox`` holds
    pending local events; a transport may share one deque between runtimes (the
    native transport does, for one global FIFO).
    ``recorder`` takes a copy of what is sent on the ports in ``record``; ``live``, of what
    is sent on the ports its clients watch (none: then it costs nothing).
    When the clock component of this node has stepped ``iterations`` times it
    never steps again and ``on_clock_done`` is called. Nothing steps before ``start``:
    events that arrive earlier wait in the inbox, timer ticks are dropped.
    """

    def __init__(
        self,
        graph: SystemGraph,
        node: str,
        components: Mapping[str, Component],
        *,
        send_remote: Callable[[str, str, Any, list[ConnectionSpec], tuple[int, str] | None], None],
        inbox: deque[Event] | None = None,
        recorder: Recorder | None = None,
        record: frozenset[tuple[str, str]] = frozenset(),
        live: LiveView | None = None,
        time_ns: Callable[[], int] = lambda: 0,
        iterations: int | None = None,
        on_clock_done: Callable[[], None] | None = None,
        publish: frozenset[tuple[str, str]] = frozenset(),
        feeds: Mapping[str, Feed] | None = None,
    ) -> None:
        self.graph = graph
        self.node = node
        names = graph.node(node).components
        self.components = {name: components[name] for name in names}
        self.inbox: deque[Event] = inbox if inbox is not None else deque()
        self.steps = {name: 0 for name in names}
        self.clock = graph.clock if graph.clock in self.components and iterations else None
        self.iterations = iterations
        self.clock_done = False
        self.started = False
        self.stopped = False
        self._on_clock_done = on_clock_done
        self._send_remote = send_remote
        self._time_ns = time_ns
        self._recorder, self._record = recorder, record
        self._live = live
        self._halted: set[str] = set()
        self._latest: dict[str, dict[str, Any]] = {}
        self._triggers: dict[str, frozenset[str]] = {}
        # Per component and output: (value check, local destinations, remote connections,
        # what takes a copy (recording, live view), sent out of this node): worked out once,
        # read on every message.
        self._outputs: dict[str, dict[str, tuple[types.Coercer, list[tuple[str, str]], list[ConnectionSpec],
                                                 tuple[Callable[..., None], ...], bool]]] = {}
        for name, comp in self.components.items():
            cls = type(comp)
            self._latest[name] = {p: port.default for p, port in cls.inputs.items()}
            self._triggers[name] = frozenset(p for p, port in cls.inputs.items() if port.trigger)
            local: dict[str, list[tuple[str, str]]] = {p: [] for p in cls.outputs}
            remote: dict[str, list[ConnectionSpec]] = {p: [] for p in cls.outputs}
            for conn in graph.connections_from(name):
                if conn.dst in self.components:
                    local[conn.src_port].append((conn.dst, conn.dst_port))
                else:
                    remote[conn.src_port].append(conn)
            self._outputs[name] = {
                p: (types.coercer(port.type), local[p], remote[p], self._copies(name, p, frozenset()),
                    bool(remote[p]) or (name, p) in publish,
                    (port.image, port.frame_id) if has_header(port.type, port.image) else None)
                for p, port in cls.outputs.items()
            }
        # A component with one output may return the bare value: the port it goes to.
        self._only_output = {name: next(iter(outs)) for name, outs in self._outputs.items() if len(outs) == 1}
        self.feeds = {key: f for key, f in (feeds or {}).items() if f.component in self.components}
        self._step_of: dict[str, Callable[..., Any]] = {}
        self._plain_timers = frozenset(n for n, c in self.components.items() if not isinstance(c, Paced))
        self._feed_checks = {key: types.coercer(type(self.components[f.component]).inputs[f.port].type)
                             for key, f in self.feeds.items()}
        if live is not None:
            live.watch(self._watched)

    def _copies(self, name: str, port: str, watched: frozenset[tuple[str, str]]) -> tuple[Callable[..., None], ...]:
        """Who takes a copy of each value sent on ``name.port``."""
        recorded = self._recorder is not None and (name, port) in self._record
        return ((self._recorder.write,) if recorded else ()) + (  # type: ignore[union-attr]
            (self._live.write,) if self._live is not None and (name, port) in watched else ())

    def _watched(self, watched: frozenset[tuple[str, str]]) -> None:
        """The live view's clients now watch ``watched`` (called from the view's thread)."""
        for name, outputs in self._outputs.items():
            for port, (coerce, local, remote, _, sent, framing) in list(outputs.items()):
                outputs[port] = (coerce, local, remote, self._copies(name, port, watched), sent, framing)

    # --- events ------------------------------------------------------------------------

    def start(self) -> None:
        """Call every component's ``on_start`` and send what it returns. Each ``step`` is
        looked up here, once: the one a component has when its run starts is called.
        After ``stop`` (a lifecycle node deactivated) it starts again: ``on_start`` runs
        again, and what arrived meanwhile steps then."""
        self._step_of = {name: comp.step for name, comp in self.components.items()}
        for name, comp in self.components.items():
            out = self._call(name, comp.on_start, "on_start()")
            self._emit(name, out, where="on_start()")
        if not self.stopped:  # bags play once, from the first start
            for feed in self.feeds.values():
                feed.start()
        self.started = True

    def deliver(self, component: str, port: str, value: Any) -> None:
        """A message on ``component.port``: remember it and step if it triggers."""
        self._latest[component][port] = value
        if port in self._triggers[component]:
            self._step(component)

    def tick(self, component: str) -> None:
        """A timer tick of ``component`` (none before ``start``). A replayer steps, and a
        replayed input (``"component.port"``) gets its next value, only when its bag says."""
        if not self.started:
            return
        if component in self._plain_timers:
            self._step(component)
            return
        feed = self.feeds.get(component)
        if feed is not None:
            if feed.due():
                value = feed.take()
                self.inbox.append((feed.component, feed.port, self._feed_checks[component](value)))
            return
        comp = self.components[component]
        if isinstance(comp, Paced) and not comp.due():
            return
        self._step(component)

    def drain(self, limit: int | None = None) -> int:
        """Process local events until none are left, or ``limit`` of them (none before
        ``start``); returns how many. A transport whose components keep each other busy
        passes a limit, to look at its clock and its peers in between."""
        if not self.started:
            return 0
        n = 0
        inbox = self.inbox
        while inbox and n != limit:
            self.deliver(*inbox.popleft())
            n += 1
        return n

    def stop(self) -> None:
        """Call every component's ``on_stop`` once per ``start`` (never twice, never
        without it); nothing steps until the next ``start``. The first failure is raised
        after all ran."""
        if not self.started:
            return
        self.started = False
        self.stopped = True
        first: RunError | None = None
        for name, comp in self.components.items():
            try:
                self._call(name, comp.on_stop, "on_stop()")
            except RunError as exc:
                first = first or exc
        if first is not None:
            raise first

    def abort(self) -> None:
        """After a failure: nothing steps again; ``on_stop`` still runs, its errors secondary."""
        self.halt()
        try:
            self.stop()
        except RunError:
            pass

    @property
    def fed_out(self) -> bool:
        """Started, and every feed and paced component of this node has run out (replayed
        bags played to their end): nothing more comes from them."""
        return self.started and all(f.done for f in self.feeds.values()) and all(
            c.done for c in self.components.values() if isinstance(c, Paced))

    def halt(self, component: str | None = None) -> None:
        """Stop ``component`` (default: every component of this node) from stepping again."""
        self._halted.update([component] if component else self.components)

    # --- internals ---------------------------------------------------------------------

    def _step(self, name: str) -> None:
        if name in self._halted:
            return
        n = self.steps[name] = self.steps[name] + 1
        try:
            out = self._step_of[name](**self._latest[name])
        except (Exception, SystemExit) as exc:  # sys.exit() in a step ends the run, not the process
            raise self._failure(name, exc, f"step {n}", n) from exc
        self._emit(name, out, n)
        if name == self.clock and n >= self.iterations:  # type: ignore[operator]
            self._halted.add(name)
            self.clock_done = True
            if self._on_clock_done is not None:
                self._on_clock_done()

    def _call(self, name: str, fn: Callable[[], Any], where: str) -> Any:
        try:
            return fn()
        except (Exception, SystemExit) as exc:
            raise self._failure(name, exc, where) from exc

    def _failure(self, name: str, exc: BaseException, where: str, step: int | None = None) -> RunError:
        if isinstance(exc, SystemExit):
            what = (f"called sys.exit({exc.code!r}) in {where}: a component ends a run by raising an "
                    f"exception (or with iterations/duration), never by exiting its process")
        else:
            what = f"raised {type(exc).__name__} in {where}: {exc}"
        return RunError(f"component '{name}' (node '{self.node}') {what}", component=name, node=self.node, step=step)

    def _emit(self, name: str, out: Any, step: int | None = None, where: str | None = None) -> None:
        """Check and send what step number ``step`` (or ``where``, e.g. ``on_start()``) returned.
        Error messages are only built on an error: this runs for every message."""
        if out is None:
            return
        outputs = self._outputs[name]
        if not isinstance(out, dict):
            port = self._only_output.get(name)
            if port is None:
                declared = ", ".join(outputs) or "none"
                where = where or f"step {step}"
                raise UndeclaredOutputError(
                    f"component '{name}' returned {type(out).__name__} from {where}, but it declares "
                    f"outputs: {declared}. Return a dict {{output: value}} (or None to send nothing)",
                    component=name, node=self.node, step=step,
                )
            items: Any = ((port, out),)
        else:
            items = out.items()
        now = None  # the step's time, taken once: every message it sends has the same
        for port, value in items:
            entry = outputs.get(port)
            if entry is None:
                where = where or f"step {step}"
                raise UndeclaredOutputError(
                    f"component '{name}' returned output '{port}' from {where}, but declares only: "
                    f"{', '.join(outputs) or 'no outputs'}. Declare it as {port} = Output(T) or rename it",
                    component=name, node=self.node, step=step,
                )
            if value is None:
                continue
            coerce, local, remote, copies, sent, framing = entry
            try:
                value = coerce(value)
            except TypeError as exc:
                where = where or f"step {step}"
                raise ValueTypeError(
                    f"component '{name}' sent a wrong value on output '{port}' in {where}: {exc}",
                    component=name, node=self.node, step=step,
                ) from None
            header = None
            if framing is not None:  # stamped with this step's time, and framed
                if now is None:
                    now = self._time_ns()
                image, frame = framing
                frame = frame_of(self.components[name].config, port, frame)
                if image:
                    header = (now, frame)  # an array has none: its ROS message gets this one
                else:
                    value = stamped(value, now, frame)
            if copies:
                if now is None:
                    now = self._time_ns()
                for copy in copies:
                    copy(name, port, value, now, header)
            for dst, dst_port in local:
                self.inbox.append((dst, dst_port, value))
            if sent:
                self._send_remote(name, port, value, remote, header)


def busy(frame: Any) -> dict[str, Any] | None:
    """What the NodeRuntime on ``frame``'s stack was doing (for a timeout's error): its
    node, the component, ``where`` (``step 3``, ``on_start()``...) and the innermost line
    running then, or None outside any component's code."""
    innermost = frame
    while frame is not None:
        if frame.f_code in _COMPONENT_CALLS:
            local = frame.f_locals
            code = innermost.f_code
            return {"node": local["self"].node, "component": local["name"], "step": local.get("n"),
                    "where": local.get("where") or f"step {local.get('n')}",
                    "line": f'File "{code.co_filename}", line {innermost.f_lineno}, in {code.co_name}'}
        frame = frame.f_back
    return None


def describe_busy(info: dict[str, Any]) -> str:
    return f"node '{info['node']}' was busy in component '{info['component']}', {info['where']} ({info['line']})"


_COMPONENT_CALLS = (NodeRuntime._step.__code__, NodeRuntime._call.__code__)
