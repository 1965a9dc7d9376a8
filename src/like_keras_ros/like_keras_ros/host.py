"""One like-keras node on ROS 2 topics, in plain Python (no rclpy here).

``plan_node`` says which topics a node publishes and subscribes, with their ROS types
and QoS; ``Host`` hosts the node's components in a NodeRuntime and turns ROS
messages, timer ticks and the stop-and-drain probes into runtime calls. The rclpy
adapter (``runner.py``) only creates the publishers, subscriptions and timers the plan
lists and forwards their callbacks; anything else is here, where it is tested.

Messages cross the adapter as CDR bytes (``like_keras.msgs.cdr``): raw publishers and
subscriptions carry the standard message of each port, byte for byte what rclpy would
have sent, so a foreign node or ``ros2 topic echo`` reads it as usual, and no rclpy
message object is made on either side.

- Topics: one per cross-node source port, ``<system>/<component>/<port>`` unless the
  port overrides it (``Output(T, topic=...)``). The names are relative, so a launch
  namespace (``namespace:=robot_a``) moves the whole system, and the node itself uses
  them: ``ros2 run`` and the launch file give the same topics, with no remapping.
- QoS: reliable + keep_all (nothing lost) by default; best_effort + keep_last N when
  every subscriber of a topic in this node declared ``keep_last=N`` (sensor-data QoS:
  a reliable publisher reaches it too).
- Inputs with a ``topic`` subscribe to it: ROS nodes like-keras did not write feed them.
- Control: ``<system>/_lk/probe`` and ``<system>/_lk/report`` (std_msgs/String, JSON)
  carry ``like_keras.transports.common.drain``, ``<system>/_lk/ack`` the acknowledgements of
  ``like_keras.transports.common.credits`` (hidden topics: ``_lk``). Keep-all is no flow control: its
  history grows without bound behind a slow subscriber, so a sender keeps at most a
  window of messages in flight to each like-keras node reading a lossless topic, and a
  node waiting for room holds what it sent and steps no component until there is some.
- Parameters: each component's ``Config`` fields, ``<component>.<field>``, that a ROS 2
  parameter can hold (an integer past int64 is not one: it reaches the node unchanged
  with the constructor arguments, and cannot be tuned from ROS).
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from rosbags.typesys.store import Typestore

from like_keras.errors import RunError
from like_keras.graph.ir import ConnectionSpec, SystemGraph
from like_keras.msgs.cdr import Codec, typestore
from like_keras.msgs.header import time_fields
from like_keras.msgs.ros_mapping import input_mapping, mapping, port_mapping, topic_of
from like_keras.recording.replay import Feed
from like_keras.runtime.taps import Recorder
from like_keras.system import types
from like_keras.system.component import Component
from like_keras.transports.common import drain
from like_keras.transports.common.credits import Credits, ack_every
from like_keras.transports.common.host import NodeHost

_SLICE = 256  # local events processed between two looks at the clock, ROS and the drain
_SMALL_WINDOW = 500  # messages in flight to one node, for messages without big arrays
_WINDOW_BYTES = 32 << 20  # for messages with arrays: about this many bytes in flight

CONTROL_TYPE = "std_msgs/msg/String"
# What a launch tells every node (ROS parameters like_keras.<name>), with their defaults.
RUN_PARAMETERS: dict[str, Any] = {"iterations": 0, "duration": 0.0, "run_dir": "", "record": "", "replay": "",
                                  "lockstep": False, "epoch_ns": 0}
CLOCK_TOPIC, CLOCK_TYPE = "/clock", "rosgraph_msgs/msg/Clock"
_PARAM_TYPES = (bool, int, float, str)
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Qos:
    """A QoS profile as data: the adapter turns it into rclpy's QoSProfile."""

    reliable: bool = True
    keep_all: bool = True
    depth: int = 1000  # keep_all ignores it; keep_last keeps this many
    latched: bool = False  # transient local: a later subscriber gets what is kept
    # Facing outside (no like-keras node reads what it publishes, or it reads a topic from
    # outside): an integrator may override it, qos_overrides.<topic>.publisher.depth...
    overridable: bool = False


LOSSLESS = Qos()
LATCHED = Qos(keep_all=False, depth=1, latched=True)  # what ROS calls latched


@dataclass
class NodePlan:
    """What one node publishes and subscribes."""

    publishers: dict[str, tuple[str, Qos]] = field(default_factory=dict)  # topic -> (ros type, qos)
    sources: dict[tuple[str, str], str] = field(default_factory=dict)  # (component, port) -> topic
    origins: dict[str, tuple[str, str]] = field(default_factory=dict)  # data topic -> (component, port)
    subscriptions: dict[str, tuple[str, Qos]] = field(default_factory=dict)
    routes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # topic -> [(component, port)]
    readers: dict[str, frozenset[str]] = field(default_factory=dict)  # published topic -> nodes reading it
    foreign: dict[str, tuple[str, str]] = field(default_factory=dict)  # topic from outside -> first (comp, port)
    flow: dict[str, dict[str, int]] = field(default_factory=dict)  # published topic -> {node: max in flight}
    ack_every: dict[str, int] = field(default_factory=dict)  # subscribed topic -> receipts per acknowledgement


def clock_message(store: Typestore, t_ns: int) -> bytes:
    """The CDR bytes of a rosgraph_msgs/Clock at ``t_ns``."""
    stamp = store.types["builtin_interfaces/msg/Time"](**time_fields(t_ns))
    return bytes(store.serialize_cdr(store.types[CLOCK_TYPE](clock=stamp), CLOCK_TYPE))


def plan(graph: SystemGraph, replayed: frozenset[str] = frozenset()) -> dict[str, NodePlan]:
    """The plan of every like-keras node of ``graph``, by node."""
    return {n.name: plan_node(graph, n.name, replayed) for n in graph.nodes if n.executable is None}


def control_topics(graph: SystemGraph) -> tuple[str, str]:
    return f"{graph.name}/_lk/probe", f"{graph.name}/_lk/report"


def ack_topic(graph: SystemGraph) -> str:
    return f"{graph.name}/_lk/ack"


def _window(graph: SystemGraph, component: str, port: str) -> int:
    """Messages of ``component.port`` a sender keeps in flight to one node (one when
    latched: its publisher keeps only the last)."""
    spec = graph.component(component).output(port)
    if spec.latched:
        return 1
    nbytes = types.max_nbytes(types.from_json(spec.type))
    return max(1, min(_SMALL_WINDOW, _WINDOW_BYTES // nbytes)) if nbytes else _SMALL_WINDOW


def plan_node(graph: SystemGraph, node: str, replayed: frozenset[str] = frozenset()) -> NodePlan:
    """The topics of ``node``: a publisher per source port read in another node, a
    subscription per topic this node reads from another node, and the drain's control
    topics, each publisher with the nodes that read it (the ready barrier waits for them);
    and a subscription per topic that feeds an input of this node from outside (unless
    ``replayed``: ``component.port`` fed from a bag instead)."""
    out = NodePlan()
    for conn in graph.cross_node_connections(node):
        topic = topic_of(graph, conn.src, conn.src_port)
        ros_type = port_mapping(graph, conn.src, conn.src_port).ros_type
        latched = graph.component(conn.src).output(conn.src_port).latched
        out.origins[topic] = (conn.src, conn.src_port)
        if graph.node_of(conn.src) == node:
            out.publishers[topic] = (ros_type, LATCHED if latched else LOSSLESS)
            out.sources[(conn.src, conn.src_port)] = topic
            out.readers[topic] = graph.reader_nodes(conn.src, conn.src_port)
        if graph.node_of(conn.dst) == node:
            out.routes.setdefault(topic, []).append((conn.dst, conn.dst_port))
            out.subscriptions[topic] = (ros_type, Qos(latched=latched))
    for comp in graph.node(node).components:  # outputs for the world outside
        for spec in graph.component(comp).outputs:
            if (spec.topic is not None or spec.latched or spec.tf) and (comp, spec.name) not in out.sources:
                topic = topic_of(graph, comp, spec.name)
                qos = LATCHED if spec.latched else LOSSLESS
                out.publishers[topic] = (port_mapping(graph, comp, spec.name).ros_type, replace(qos, overridable=True))
                out.sources[(comp, spec.name)] = topic
                out.origins[topic] = (comp, spec.name)
                out.readers[topic] = frozenset()
    for comp, port, topic in graph.foreign_inputs(node):  # fed by ROS nodes like-keras did not write
        if f"{comp}.{port}" in replayed:
            continue  # its bag feeds it instead
        out.foreign.setdefault(topic, (comp, port))
        out.routes.setdefault(topic, []).append((comp, port))
        out.subscriptions[topic] = (input_mapping(graph, comp, port).ros_type, Qos(overridable=True))
    for topic, dests in out.routes.items():
        keep = graph.keep_last(dests)
        if keep:
            ros_type, qos = out.subscriptions[topic]
            out.subscriptions[topic] = (ros_type, replace(qos, reliable=False, keep_all=False, depth=keep))
    for topic, (comp, port) in out.origins.items():
        if (comp, port) in out.sources:
            readers = graph.lossless_readers(comp, port)
            if readers:
                out.flow[topic] = dict.fromkeys(readers, _window(graph, comp, port))
        elif topic in out.routes and node in graph.lossless_readers(comp, port):
            out.ack_every[topic] = ack_every(_window(graph, comp, port))
    control = (CONTROL_TYPE, LOSSLESS)
    acks = ack_topic(graph)
    if out.ack_every:
        out.publishers[acks] = control
        out.readers[acks] = frozenset(graph.node_of(out.origins[t][0]) for t in out.ack_every)
    if out.flow:
        out.subscriptions[acks] = control
    probe, report = control_topics(graph)
    coordinator = drain.coordinator_of(graph)
    peers = drain.peers(graph)
    if node == coordinator and peers:
        out.publishers[probe] = out.subscriptions[report] = control
        out.readers[probe] = frozenset(peers)
    elif node != coordinator:
        out.subscriptions[probe] = out.publishers[report] = control
        out.readers[report] = frozenset([coordinator])
    return out


def parameters(graph: SystemGraph, node: str) -> dict[str, Any]:
    """The ROS parameters of ``node``: ``<component>.<field>`` for every Config field
    whose value is a bool, int, float, str or a list of one of those."""
    out = {}
    for name in graph.node(node).components:
        for key, value in graph.component(name).config.items():
            if _is_param(value):
                out[f"{name}.{key}"] = value
    return out


def _is_param(value: Any) -> bool:
    """A value a ROS 2 parameter holds: bool, int64, float64, str, or a list of one of them."""
    if isinstance(value, list):
        return bool(value) and all(type(v) is type(value[0]) and _is_param(v) for v in value)
    if type(value) is int:
        return _INT64[0] <= value <= _INT64[1]
    return isinstance(value, _PARAM_TYPES)


class RosIO(Protocol):
    """What the host needs from rclpy (or from a test's loopback)."""

    def publish(self, topic: str, data: bytes) -> None:
        """Publish ``data``, the CDR bytes of a message of the topic's type."""


class Host(NodeHost):
    """Hosts the components of ``node`` on ROS 2 through ``io``."""

    def __init__(
        self, graph: SystemGraph, node: str, components: dict[str, Component], io: RosIO, *,
        iterations: int | None = None, on_exit: Callable[[], None] | None = None,
        recorder: Recorder | None = None, record: frozenset[tuple[str, str]] = frozenset(),
        live: Any = None, feeds: dict[str, Feed] | None = None, replayed: frozenset[str] = frozenset(),
        lockstep: bool = False, duration: float | None = None, epoch_ns: int | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        """``live``: the node's feed of the launcher's live view (``like_keras.live.feed``);
        ``replayed``: every replay key of the run; ``lockstep``: simulated time from
        ``epoch_ns``, for ``duration`` seconds of it (the coordinator publishes it on /clock);
        else ``clock`` is the node's time (the ROS time of a node on a /clock from outside)."""
        self.io = io
        self.topics = plan_node(graph, node, replayed=frozenset(feeds or ()))
        self.probe_topic, self.report_topic = control_topics(graph)
        super().__init__(graph, node, components, iterations=iterations, recorder=recorder, record=record,
                         live=live, feeds=feeds, publish=frozenset(self.topics.sources), replayed=replayed,
                         lockstep=lockstep, duration=duration, epoch_ns=epoch_ns, clock=clock)
        if self.drain.schedule is not None:  # this node runs the simulated clock
            self.topics.publishers[CLOCK_TOPIC] = (CLOCK_TYPE, Qos(keep_all=False, depth=1))
            self.topics.readers[CLOCK_TOPIC] = frozenset()
        self.ack_topic = ack_topic(graph)
        self.credits = Credits(node, self.topics.flow, self.topics.ack_every,
                               lambda payload: self._publish_control(self.ack_topic, payload))
        self.held: deque[tuple[str, bytes]] = deque()  # (topic, message) sent while waiting for room
        self.store = store = typestore(graph)
        self.codecs = {topic: Codec(port_mapping(graph, *src), store) for topic, src in self.topics.origins.items()}
        self.codecs.update({topic: Codec(input_mapping(graph, *dst), store)
                            for topic, dst in self.topics.foreign.items()})
        self._control = Codec(mapping(str), store)
        self.checks = {
            topic: types.coercer(types.from_json(graph.component(c).input(p).type))
            for topic, ((c, p), *_) in self.topics.routes.items()
        }
        self._on_exit = on_exit
        self.closed = False  # a lifecycle node shut down: it will not start again

    # --- what the adapter calls ---------------------------------------------------

    def apply_parameters(self, values: dict[str, Any]) -> None:
        """Set Config fields from ROS parameters (``<component>.<field>``) before start."""
        for key, value in values.items():
            comp_name, _, name = key.partition(".")
            comp = self.runtime.components[comp_name]
            if getattr(comp.config, name) != value:
                comp.config = dataclasses.replace(comp.config, **{name: value})

    def start(self) -> None:
        """``on_start``, then what waited: at the start of the run, and each time a
        lifecycle node is activated."""
        self.runtime.start()
        self.credits.send_due()
        self.spin()

    def deactivate(self) -> None:
        """A lifecycle node leaves the active state: ``on_stop``; until the next ``start``
        nothing steps, and what arrives waits (unacknowledged: its senders wait for room)."""
        self.runtime.stop()

    def request_stop(self) -> None:
        """A stop asked of this node (a signal): the whole run stops its clock and drains,
        as at the end of a duration."""
        self.drain.request_stop()
        self.spin()

    def shutdown(self) -> None:
        """A lifecycle node shut down: the run stops and drains; if the node is not active,
        what waits in it never steps, and it answers the drain so that the run can end."""
        self.closed = True
        self.request_stop()

    def on_message(self, topic: str, data: bytes) -> None:
        """A message arrived on a subscribed topic (data or control), as CDR bytes."""
        if topic == self.probe_topic:
            self.drain.on_probe(self._control.decode(data))
        elif topic == self.report_topic:
            self.drain.on_report(self._control.decode(data))
        elif topic == self.ack_topic:
            self.credits.on_ack(self._control.decode(data))
            self._release()
        else:
            self.credits.received(topic)
            if self.runtime.started:  # an inactive node takes no more than a window from each sender
                self.credits.send_due()
            (comp, port), *_ = self.topics.routes[topic]
            try:
                value = self.checks[topic](self.codecs[topic].decode(data))
            except TypeError as exc:
                raise RunError(f"node '{self.node}' received a value for {comp}.{port} on {topic} that does "
                               f"not fit the port: {exc}", component=comp, node=self.node) from None
            if topic not in self.topics.foreign:  # messages from outside take no part in the drain
                self.drain.received += 1
            for dst, dst_port in self.topics.routes[topic]:
                self.runtime.inbox.append((dst, dst_port, value))
        self.spin()

    def on_timer(self, component: str) -> None:
        if not self.drain.stopping and not self.held:  # waiting for room: no step, like a late tick
            self.runtime.tick(component)
        self.spin()

    def stop_clock(self) -> None:
        """End of a duration or a shutdown request: stop the clock and drain."""
        self.drain.stop_clock()
        self.spin()

    def spin(self, now: float | None = None) -> None:
        """Process local events (a slice of them), then, with none left, answer probes and
        run the coordinator's waves. The adapter calls it again while ``busy``, and every
        few milliseconds while ``draining``. Before ``start`` (and while a lifecycle node
        is inactive) it does nothing: what arrived waits for ``on_start``."""
        if self.held:
            return  # waiting for room: steps wait
        if self.runtime.started:
            self.runtime.drain(_SLICE)
            if self.runtime.inbox or self.held:
                return  # components that keep each other busy: the adapter looks at its clock first
        elif not self.closed:
            return  # before start, or inactive: what arrives waits for on_start
        self.drain.idle(time.monotonic() if now is None else now)
        if self.drain.leaving and self._on_exit is not None:
            self._on_exit()

    @property
    def leaving(self) -> bool:
        return self.drain.leaving

    @property
    def busy(self) -> bool:
        """Local events are waiting, and may be processed (started, and no message waits
        for room)."""
        return bool(self.runtime.inbox) and not self.held and self.runtime.started

    def finish(self) -> None:
        """A clean end: ``on_stop`` (once, and only after ``on_start``)."""
        self.runtime.stop()

    # --- internals ----------------------------------------------------------------

    def _send(self, component: str, port: str, value: Any, connections: list[ConnectionSpec],
              header: tuple[int, str] | None = None) -> None:
        topic = self.topics.sources[(component, port)]
        data = bytes(self.codecs[topic].encode(value, header))
        if self.held or self.credits.blocked(topic):
            self.held.append((topic, data))  # in order, once the receivers make room
        else:
            self._publish(topic, data)

    def _publish(self, topic: str, data: bytes) -> None:
        self.io.publish(topic, data)
        self.credits.sent(topic)
        self.drain.sent += len(self.topics.readers[topic])

    def _release(self) -> None:
        """Publish what was held, in order, while there is room."""
        while self.held and not self.credits.blocked(self.held[0][0]):
            self._publish(*self.held.popleft())

    def _on_time(self, t_ns: int) -> None:
        self.io.publish(CLOCK_TOPIC, clock_message(self.store, t_ns))

    def _send_probe(self, payload: str) -> None:
        self._publish_control(self.probe_topic, payload)

    def _send_report(self, payload: str) -> None:
        self._publish_control(self.report_topic, payload)

    def _publish_control(self, topic: str, payload: str) -> None:
        self.io.publish(topic, bytes(self._control.encode(payload)))
