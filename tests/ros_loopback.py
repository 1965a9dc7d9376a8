"""A stand-in for rclpy in the tests: topics inside one process, carrying the CDR bytes
the hosts publish, as DDS would carry them.

Only the rclpy layer is replaced; the bridges, mappings and drain protocol are the real
ones. Timers are not simulated: systems under test here are message-driven. Nodes start
one after the other, and what one publishes while it starts is delivered at once, also
to nodes that have not started yet: as on ROS 2, where a subscription receives as soon
as it exists.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque

from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from like_keras.msgs.ros_mapping import interfaces_name, msg_definition
from like_keras.transports.common.target import load_system
from like_keras_ros.host import Host
from like_keras_ros.interfaces import user_msgs

_ROUND_S = 1e-3  # the hosts' time a round of spins takes at least


class Loopback:
    def __init__(self, system, iterations=None, parameters=None):
        graph = system.build()
        self.ts = get_typestore(Stores.ROS2_JAZZY)
        pkg = interfaces_name(graph)
        for cls in user_msgs(graph):
            self.ts.register(get_types_from_msg(msg_definition(cls, pkg), f"{pkg}/msg/{cls.__name__}"))
        self.queue = deque()
        self.subscribers = defaultdict(list)
        self.types = {}
        self.bytes_sent = 0
        self.published = defaultdict(list)  # topic -> the messages published on it, in order
        self.events = 0
        self.bridges = {}
        for node in graph.nodes:
            # Each node rebuilds the system, as separate processes would.
            rebuilt = load_system(graph.target, graph.target_kwargs)
            comps = {c.name: c for c in rebuilt._components()}
            bridge = Host(graph, node.name, comps, _IO(self, node.name), iterations=iterations)
            if parameters and node.name in parameters:
                bridge.apply_parameters(parameters[node.name])
            for topic, (ros_type, _) in bridge.topics.subscriptions.items():
                self.subscribers[topic].append(bridge)
            for topic, (ros_type, _) in bridge.topics.publishers.items():
                self.types[topic] = ros_type
            self.bridges[node.name] = bridge

    def publish(self, topic, raw):
        assert isinstance(raw, bytes), f"{topic}: rclpy publishes bytes raw, not {type(raw).__name__}"
        self.bytes_sent += len(raw)
        self.published[topic].append(self.ts.deserialize_cdr(raw, self.types[topic]))
        for bridge in self.subscribers[topic]:
            self.queue.append((bridge, topic, raw))

    def run(self, order=None, max_events=200_000, max_rounds=200_000):
        """Start the nodes in ``order`` (default: declaration order; those a test started are
        not started again), then run to the end (an AssertionError if it does not end within
        ``max_events`` or ``max_rounds``). Each round is a millisecond at least of the
        hosts' clock, so that the drain's waves (2 ms apart) move on however fast the
        machine runs the rounds."""
        self.events = 0
        for name in order or list(self.bridges):
            if not self.bridges[name].runtime.started:
                self.bridges[name].start()
            self.deliver(max_events)
        rounds = 0
        start = time.monotonic()
        while not all(b.leaving for b in self.bridges.values()):
            self.deliver(max_events)
            for bridge in self.bridges.values():
                if not bridge.leaving:
                    bridge.spin(max(time.monotonic(), start + rounds * _ROUND_S))
            rounds += 1
            assert rounds < max_rounds, "the run does not end: the nodes never agree to leave"
        for bridge in self.bridges.values():
            bridge.finish()
        return {name: n for b in self.bridges.values() for name, n in b.runtime.steps.items()}

    def deliver(self, max_events=200_000, to=None):
        """Every queued message to its subscribers (started or not); ``to``: only to the
        node of that name, the others' stay queued."""
        kept = deque()
        while self.queue:
            bridge, topic, raw = self.queue.popleft()
            if to is not None and bridge.node != to:
                kept.append((bridge, topic, raw))
                continue
            if not bridge.leaving:
                bridge.on_message(topic, raw)
            self.events += 1
            assert self.events < max_events, "the run does not end"
        self.queue = kept


class _IO:
    def __init__(self, bus, node):
        self.bus = bus
        self.node = node

    def publish(self, topic, raw):
        self.bus.publish(topic, raw)
