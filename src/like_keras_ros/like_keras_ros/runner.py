"""The rclpy runner: one like-keras Node as one ROS 2 node. With ``waitset.py``, the only
module that imports rclpy.

    ros2 run <system>_bringup <node> [--ros-args ...]
    python -m like_keras_ros.runner --target T --node N [--kwargs JSON] [--lifecycle] [--ros-args ...]

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
A lifecycle node (``Node(lifecycle=True)``) is an rclpy LifecycleNode: ``_Lifecycle``
maps its transitions onto the host.
"""

from __future__ import annotations

import importlib
import signal
import sys
import time
from collections.abc import Callable
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
        digest: str | None = None, lifecycle: bool = False) -> int:
    """Host ``node`` of the system ``target`` builds, as a managed node if ``lifecycle``
    (as the system declares it); returns the exit code."""
    import rclpy
    from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node as RosNode
    from rclpy.parameter import Parameter
    from rclpy.signals import SignalHandlerOptions

    rclpy.init(args=argv if argv is not None else sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    stop = _StopRequest()
    managed = _Lifecycle(stop) if lifecycle else None
    ros = managed.node(node) if managed is not None else RosNode(node)
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
        _check_lifecycle(graph, node, lifecycle)
        io = _RclpyIO(ros)
        lockstep = bool(bounds["lockstep"])
        # On a /clock from outside (use_sim_time), steps are stamped with ROS time.
        ros_time = not lockstep and ros.get_parameter("use_sim_time").value
        host = Host(graph, node, parts.components, io, feeds=feeds, iterations=bounds["iterations"] or None,
                    recorder=parts.recorder, record=parts.record, live=files.live_feed(graph),
                    replayed=parts.replayed, lockstep=lockstep, duration=bounds["duration"] or None,
                    epoch_ns=bounds["epoch_ns"] or None,
                    clock=(lambda: ros.get_clock().now().nanoseconds) if ros_time else time.time_ns)
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

        def peers_ready(pause: Callable[[float], None]) -> bool:
            ready = _wait_for_readers(ros, io, host.topics.readers, stop, pause)
            if ready:
                files.mark("peers subscribed")
            return ready

        if managed is not None:  # configure waits for the readers (inside the transition), activate starts
            managed.attach(host, lambda: peers_ready(time.sleep))
        elif peers_ready(loop.spin_once):
            host.start()
        if managed is not None or host.runtime.started:
            for name in [*graph.node(node).components, *feeds]:
                rate = replay.PACE_HZ if name in parts.replayed else graph.component(name).rate_hz
                if rate and not lockstep:  # in lockstep the coordinator's ticks step them
                    loop.timer(1.0 / rate, lambda c=name: host.on_timer(c))
            wall = bounds["duration"] if host.drain.coordinator and not lockstep else 0.0
            _spin(loop, host, stop, wall, parts.recorder, managed)
        host.finish()
        if host.closed and host.runtime.inbox:
            ros.get_logger().warning(f"{len(host.runtime.inbox)} messages that reached node '{node}' were never "
                                     f"stepped: it was shut down before it took them")
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


def _spin(loop: WaitSetLoop, host: Host, stop: _StopRequest, duration: float, recorder: Any,
          managed: _Lifecycle | None = None) -> None:
    """Until the drain says leave. The end of ``duration`` (counted from the start) or a
    stop request stops the run's clock and drains; after a signal the node leaves within
    ``_STOP_GRACE`` even if its peers are gone. While draining, the coordinator's probe
    waves need a look every few milliseconds, and components that keep each other busy get
    a slice of local work each turn; otherwise only callbacks (and a lifecycle node's
    transitions) wake the node."""
    end = None
    stopped = False  # the duration ended
    leave_by = None
    while not host.leaving:
        now = time.monotonic()
        if managed is not None and managed.failure is not None:
            raise managed.failure
        if duration and end is None and host.runtime.started:
            end = now + duration
        if end is not None and now >= end and not stopped:
            host.stop_clock()
            stopped = True
        if stop.asked and not host.closed:
            host.shutdown()
        if stop.requested and leave_by is None:
            host.request_stop()
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
    """SIGINT and SIGTERM ask the node to stop (rclpy's own handlers are off); ``asked``:
    a lifecycle node's shutdown transition did."""

    def __init__(self) -> None:
        self.requested = False
        self.asked = False
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class _Lifecycle:
    """A managed node's transitions (``/<node>/change_state``), done by its host: configure
    waits until the node's readers have subscribed, activate starts it (``on_start``; what
    waited steps then), deactivate stops it (``on_stop``; nothing steps until the next
    activate), cleanup leaves it unconfigured, and shutdown stops the run as a signal would.
    A transition that fails (``on_start`` raised) fails the run after answering FAILURE."""

    def __init__(self, stop: _StopRequest) -> None:
        self._stop = stop
        self._host: Host | None = None
        self._ready: Callable[[], bool] = lambda: False
        self.failure: BaseException | None = None

    def node(self, name: str) -> Any:
        """The rclpy LifecycleNode, its transitions handed to this object."""
        from rclpy.lifecycle import LifecycleNode

        managed = self

        class _Managed(LifecycleNode):  # type: ignore[misc]
            def on_configure(self, state: Any) -> Any:
                return managed._do(managed._configure)

            def on_activate(self, state: Any) -> Any:
                return managed._do(lambda: managed._host.start())  # type: ignore[union-attr]

            def on_deactivate(self, state: Any) -> Any:
                return managed._do(lambda: managed._host.deactivate())  # type: ignore[union-attr]

            def on_cleanup(self, state: Any) -> Any:
                return managed._do(lambda: None)

            def on_shutdown(self, state: Any) -> Any:
                return managed._do(managed._shutdown)

        return _Managed(name)

    def attach(self, host: Host, ready: Callable[[], bool]) -> None:
        """From now on transitions act on ``host``; ``ready`` waits for the readers."""
        self._host, self._ready = host, ready

    def _configure(self) -> None:
        if not self._ready():
            raise _Refused()

    def _shutdown(self) -> None:
        if self._host is not None and self._host.runtime.started:
            self._host.deactivate()  # on_stop now: the node is finalized when this returns
        self._stop.asked = True

    def _do(self, work: Callable[[], None]) -> Any:
        from rclpy.lifecycle import TransitionCallbackReturn

        if self._host is None or self.failure is not None:
            return TransitionCallbackReturn.FAILURE
        try:
            work()
        except _Refused:
            return TransitionCallbackReturn.FAILURE
        except BaseException as exc:  # noqa: B036 - the run fails with it, after the service answers
            self.failure = exc
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS


class _Refused(Exception):
    """A transition that cannot happen now (a stop came first): FAILURE, and the run goes on."""


def _check_lifecycle(graph: Any, node: str, lifecycle: bool) -> None:
    declared = graph.node(node).lifecycle
    if declared != lifecycle:
        how = "a lifecycle node" if declared else "a plain node"
        raise RunError(f"node '{node}' is declared {how} but was started as the other kind: start it through its "
                       f"generated entry point (ros2 run / ros2 launch), after compiling the system again", node=node)


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


def _wait_for_readers(ros: Any, io: _RclpyIO, readers: dict[str, frozenset[str]], stop: _StopRequest,
                      pause: Callable[[float], None]) -> bool:
    """Until every publisher is matched with the system's nodes that read it, calling
    ``pause`` in between (the loop's ``spin_once``, or a sleep inside a lifecycle
    transition); False when a stop request came first. Foreign subscribers (``ros2 topic
    echo``) are not counted as peers, but must be matched too, so the count cannot hide a
    missing peer."""
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
        pause(0.02)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = node_arguments("like_keras_ros.runner")
    parser.add_argument("--lifecycle", action="store_true", help="the node is a lifecycle node")
    args, ros_args = parser.parse_known_args(argv)
    return run(args.target, args.node, args.kwargs, [sys.argv[0], *ros_args], args.digest, args.lifecycle)

if __name__ == "__main__":
    sys.exit(main())
