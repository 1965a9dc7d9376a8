"""The rclpy runner: one like-keras Node as one ROS 2 node. With ``waitset.py``, the only
module that imports rclpy.

    ros2 run <system>_bringup <node> [--ros-args ...]
    python -m like_keras_ros.runner --target T --node N [--kwargs JSON] [--ros-args ...]

It creates exactly what ``Host`` lists (publishers, subscriptions, timers, parameters)
and forwards callbacks to it: messages as CDR bytes, through raw publishers and
subscriptions, waited on by ``waitset.WaitSetLoop`` rather than rclpy's executor.
Before starting it waits until every publisher is matched with the system's own nodes
that read it (a ``ros2 topic echo`` does not count), so nothing sent at start is lost.
Parameters ``like_keras.iterations`` (0: until stopped), ``like_keras.duration``
(seconds, 0: none), ``like_keras.run_dir`` and ``like_keras.record`` bound and record
the run; with a run directory the node reports its pid, results and failures there
(``like_keras.transports.common.rundir``) for a launcher.

SIGINT and SIGTERM (the launch shutting down, Ctrl-C) stop the clock and drain like the
end of a duration, then ``on_stop`` runs once and the process exits 0. A failure exits 1.
"""

from __future__ import annotations

import importlib
import signal
import sys
import time
from typing import Any

from like_keras.errors import RunError
from like_keras.recording import replay
from like_keras.transports.common import drain
from like_keras.transports.common.host import rebuild_node
from like_keras.transports.common.rundir import NodeFiles
from like_keras.transports.common.target import node_arguments
from like_keras_ros.host import RUN_PARAMETERS, Host, Qos, parameters
from like_keras_ros.waitset import WaitSetLoop

_READY_TIMEOUT = 30.0
_STOP_GRACE = 1.5  # seconds a stop request waits for the drain (ms when peers live) before leaving anyway
_RUN = "like_keras."


def run(target: str, node: str, kwargs: dict[str, Any] | None = None, argv: list[str] | None = None,
        digest: str | None = None) -> int:
    """Host ``node`` of the system ``target`` builds; returns the exit code."""
    import rclpy
    from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node as RosNode
    from rclpy.parameter import Parameter
    from rclpy.signals import SignalHandlerOptions

    rclpy.init(args=argv if argv is not None else sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    stop = _StopRequest()
    ros = RosNode(node)
    bounds = {key: ros.declare_parameter(_RUN + key, default).value for key, default in RUN_PARAMETERS.items()}
    files = NodeFiles(bounds["run_dir"], node)
    files.started()
    host: Host | None = None
    executor = SingleThreadedExecutor()
    executor.add_node(ros)
    loop = WaitSetLoop(ros, executor)
    try:
        parts = rebuild_node(files, target, kwargs or {}, node, digest, record=bounds["record"],
                             replays=bounds["replay"])
        graph, feeds = parts.graph, parts.feeds
        io = _RclpyIO(ros)
        lockstep = bool(bounds["lockstep"])
        host = Host(graph, node, parts.components, io, feeds=feeds, iterations=bounds["iterations"] or None,
                    recorder=parts.recorder, record=parts.record, live=files.live_feed(graph),
                    replayed=parts.replayed, lockstep=lockstep, duration=bounds["duration"] or None,
                    epoch_ns=bounds["epoch_ns"] or None)
        if lockstep:  # ROS time is the simulated clock the coordinator publishes on /clock
            ros.set_parameters([Parameter("use_sim_time", Parameter.Type.BOOL, True)])
        _parameters(ros, host, parameters(graph, node))
        control = {host.probe_topic, host.report_topic, host.ack_topic}
        for topic, (ros_type, qos) in host.topics.publishers.items():
            io.publishers[topic] = ros.create_publisher(
                _message_class(ros_type), topic, _qos(qos), **_quiet(topic in control, PublisherEventCallbacks),
                **_overriding(qos))
        for topic, (ros_type, qos) in host.topics.subscriptions.items():
            loop.subscribe(_message_class(ros_type), topic, _qos(qos), lambda m, t=topic: host.on_message(t, m),
                           **_quiet(topic in control, SubscriptionEventCallbacks), **_overriding(qos))
        files.mark("subscribed")
        if _wait_for_readers(loop, ros, io, host.topics.readers, stop):
            files.mark("peers subscribed")
            for name in [*graph.node(node).components, *feeds]:
                rate = replay.PACE_HZ if name in parts.replayed else graph.component(name).rate_hz
                if rate and not lockstep:  # in lockstep the coordinator's ticks step them
                    loop.timer(1.0 / rate, lambda c=name: host.on_timer(c))
            host.start()
            wall = bounds["duration"] if host.drain.coordinator and not lockstep else 0.0
            _spin(loop, host, stop, wall, parts.recorder)
        host.finish()
        files.finished(host.runtime.steps)
        return 0
    except BaseException as exc:  # noqa: B036 - every failure is reported, then the exit code says it
        if host is not None:
            host.runtime.abort()
        ros.get_logger().error(files.failed(exc))
        return 1
    finally:
        # Stop requests stay handled until the node is gone: a service stopped by systemd gets
        # SIGINT from launch and from systemd itself, and a second one must not break teardown.
        loop.close()
        executor.shutdown(timeout_sec=0)
        ros.destroy_node()
        rclpy.try_shutdown()
        stop.restore()


def _spin(loop: WaitSetLoop, host: Host, stop: _StopRequest, duration: float, recorder: Any) -> None:
    """Until the drain says leave. The end of ``duration`` or a stop request stops the
    clock and drains; after a stop request the node leaves within ``_STOP_GRACE`` even if
    its peers are gone. While draining, the coordinator's probe waves need a look every
    few milliseconds, and components that keep each other busy get a slice of local work
    each turn; otherwise only callbacks wake the node."""
    end = time.monotonic() + duration if duration else None
    leave_by = None
    while not host.leaving:
        now = time.monotonic()
        if end is not None and now >= end:
            host.stop_clock()
            end = None
        if stop.requested and leave_by is None:
            host.stop_clock()
            leave_by = now + _STOP_GRACE
        if leave_by is not None and now > leave_by:
            return
        draining, busy = host.drain.draining, host.busy
        loop.spin_once(0 if busy else drain.WAVE_INTERVAL if draining else 0.05)
        if draining or busy:
            host.spin()
        if recorder is not None:
            recorder.flush_due()  # what was sent before a silence reaches the disk too


def _quiet(control: bool, callbacks: Any) -> dict[str, Any]:
    """No QoS-event handlers on the drain's own topics: each one is polled with every message.
    Data topics keep rclpy's defaults, which warn about a peer with incompatible QoS."""
    return {"event_callbacks": callbacks(use_default_callbacks=False)} if control else {}


def _parameters(ros: Any, host: Host, values: dict[str, Any]) -> None:
    """Declare the Config fields as parameters, apply their values (parameter file, ``-p``)
    before start, and apply ``ros2 param set`` while running: the component's ``config`` is
    replaced between two steps. Run bounds and timer rates are refused with the reason."""
    from rcl_interfaces.msg import SetParametersResult

    for name, value in values.items():
        ros.declare_parameter(name, value)
    host.apply_parameters({name: ros.get_parameter(name).value for name in values})

    def on_set(changes: list[Any]) -> Any:
        for p in changes:
            if p.name.startswith(_RUN) or p.name.endswith(".rate_hz"):
                return SetParametersResult(successful=False, reason=(
                    f"{p.name} is fixed for a run (its timers and bounds are set up at start): give it "
                    f"when launching, e.g. in the parameter file or with --ros-args -p {p.name}:=VALUE"))
        host.apply_parameters({p.name: p.value for p in changes if p.name in values})
        return SetParametersResult(successful=True)

    ros.add_on_set_parameters_callback(on_set)


class _StopRequest:
    """SIGINT and SIGTERM ask the node to stop (rclpy's own handlers are off)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class _RclpyIO:
    def __init__(self, ros: Any) -> None:
        self.ros = ros
        self.publishers: dict[str, Any] = {}

    def publish(self, topic: str, data: bytes) -> None:
        self.publishers[topic].publish(data)  # bytes: rclpy publishes them as they are


def _message_class(typename: str) -> Any:
    package, _, name = typename.partition("/msg/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def _qos(qos: Qos) -> Any:
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(
        reliability=ReliabilityPolicy.RELIABLE if qos.reliable else ReliabilityPolicy.BEST_EFFORT,
        history=HistoryPolicy.KEEP_ALL if qos.keep_all else HistoryPolicy.KEEP_LAST,
        depth=qos.depth,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if qos.latched else DurabilityPolicy.VOLATILE,
    )


def _overriding(qos: Qos) -> dict[str, Any]:
    """rclpy's QoS overrides (``qos_overrides.<topic>.publisher.depth``...: read from the
    node's parameters) for what faces outside the system."""
    if not qos.overridable:
        return {}
    from rclpy.qos import QoSPolicyKind
    from rclpy.qos_overriding_options import QoSOverridingOptions

    kinds = [QoSPolicyKind.RELIABILITY, QoSPolicyKind.HISTORY, QoSPolicyKind.DEPTH, QoSPolicyKind.DURABILITY]
    return {"qos_overriding_options": QoSOverridingOptions(kinds)}


def _wait_for_readers(loop: WaitSetLoop, ros: Any, io: _RclpyIO, readers: dict[str, frozenset[str]],
                      stop: _StopRequest) -> bool:
    """Until every publisher is matched with the system's nodes that read it; False when
    a stop request came first. Foreign subscribers (``ros2 topic echo``) are not counted
    as peers, but must be matched too, so the count cannot hide a missing peer."""
    deadline = time.monotonic() + _READY_TIMEOUT
    namespace = ros.get_namespace()
    while not stop.requested:
        missing = {}
        for topic, nodes in readers.items():
            pub = io.publishers[topic]
            seen = ros.get_subscriptions_info_by_topic(pub.topic_name)
            present = {info.node_name for info in seen if info.node_namespace == namespace}
            if not nodes <= present or pub.get_subscription_count() < len(seen):
                missing[pub.topic_name] = sorted(nodes - present)
        if not missing:
            return True
        if time.monotonic() > deadline:
            waits = "; ".join(f"{t} for {', '.join(n) or 'matching'}" for t, n in sorted(missing.items()))
            raise RunError(f"node '{ros.get_name()}': its peers did not subscribe within {_READY_TIMEOUT:g} s "
                           f"({waits}); are all nodes of the system launched, in the same namespace?",
                           node=ros.get_name())
        loop.spin_once(0.02)
    return False


def main(argv: list[str] | None = None) -> int:
    args, ros_args = node_arguments("like_keras_ros.runner").parse_known_args(argv)
    return run(args.target, args.node, args.kwargs, [sys.argv[0], *ros_args], args.digest)

if __name__ == "__main__":
    sys.exit(main())
