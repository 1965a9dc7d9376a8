"""The rclpy runner: one like-keras Node as one ROS 2 node. The only module that imports rclpy.

    ros2 run <system>_bringup <node> [--ros-args ...]
    python -m like_keras_ros.runner --target T --node N [--kwargs JSON] [--ros-args ...]

It creates exactly what ``Bridge`` lists (publishers, subscriptions, timers, parameters)
and forwards callbacks to it. Before starting it waits until every publisher has its
subscribers, so nothing sent at start is lost. Parameter ``like_keras.iterations``
(0: until shutdown) and ``like_keras.duration`` (seconds, 0: none) bound the run; when
it ends or fails the process exits and the launch file shuts the launch down.

Needs a ROS 2 machine (rclpy is not on PyPI): nothing here runs in this repository's CI.
"""

from __future__ import annotations

import argparse
import array
import importlib
import json
import sys
import time
import traceback
from typing import Any

import numpy as np

from like_keras.errors import RunError
from like_keras.target import load_system

from .bridge import Bridge, Qos, parameters

_READY_TIMEOUT = 30.0
_TYPECODES = {"float64": "d", "float32": "f", "int8": "b", "uint8": "B", "int16": "h", "uint16": "H",
              "int32": "i", "uint32": "I", "int64": "q", "uint64": "Q"}


def run(target: str, node: str, kwargs: dict[str, Any] | None = None, argv: list[str] | None = None) -> int:
    """Host ``node`` of the system ``target`` builds; returns the exit code."""
    import rclpy
    from rclpy.node import Node as RosNode

    rclpy.init(args=argv if argv is not None else sys.argv)
    ros = RosNode(node)
    bridge = None
    try:
        system = load_system(target, kwargs or {})
        graph = system.build()
        ros.declare_parameter("like_keras.iterations", 0)
        ros.declare_parameter("like_keras.duration", 0.0)
        iterations = ros.get_parameter("like_keras.iterations").value or None
        duration = ros.get_parameter("like_keras.duration").value or None
        io = _RclpyIO(ros)
        bridge = Bridge(graph, node, {c.name: c for c in system._components()}, io, iterations=iterations)
        params = parameters(graph, node)
        for name, value in params.items():
            ros.declare_parameter(name, value)
        bridge.apply_parameters({name: ros.get_parameter(name).value for name in params})
        for topic, (ros_type, qos) in bridge.topics.publishers.items():
            local = bridge.topics.local[topic]
            io.publishers[topic] = ros.create_publisher(_message_class(ros_type), local, _qos(qos))
        for topic, (ros_type, qos) in bridge.topics.subscriptions.items():
            ros.create_subscription(_message_class(ros_type), bridge.topics.local[topic],
                                    lambda m, t=topic: bridge.on_message(t, m), _qos(qos))
        _wait_for_subscribers(rclpy, ros, io, bridge.topics.readers)
        for name in graph.node(node).components:
            rate = graph.component(name).rate_hz
            if rate:
                ros.create_timer(1.0 / rate, lambda c=name: bridge.on_timer(c))
        ros.create_timer(0.002, bridge.spin)  # the coordinator's probe waves while draining
        if duration:
            ros.create_timer(duration, bridge.stop_clock)
        bridge.start()
        while not bridge.leaving:
            rclpy.spin_once(ros, timeout_sec=0.1)
    except KeyboardInterrupt:
        pass  # the launch is shutting down: run on_stop below
    except Exception as exc:
        ros.get_logger().error("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        if bridge is not None:
            bridge.runtime.halt()
            _stop_quietly(bridge)
        return 1
    finally:
        ros.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    _stop_quietly(bridge)
    return 0


def _stop_quietly(bridge: Bridge | None) -> None:
    if bridge is not None:
        try:
            bridge.finish()
        except RunError as exc:
            print(f"like_keras: {exc}", file=sys.stderr)


class _RclpyIO:
    def __init__(self, ros: Any) -> None:
        self.ros = ros
        self.publishers: dict[str, Any] = {}

    def publish(self, topic: str, message: Any) -> None:
        self.publishers[topic].publish(message)

    def make(self, typename: str, **fields: Any) -> Any:
        # rclpy's sequence fields take array.array; numpy arrays are converted here.
        for key, value in fields.items():
            if isinstance(value, np.ndarray):
                code = _TYPECODES.get(value.dtype.name)
                fields[key] = array.array(code, value.tobytes()) if code else value.tolist()
        return _message_class(typename)(**fields)


def _message_class(typename: str) -> Any:
    package, _, name = typename.partition("/msg/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def _qos(qos: Qos) -> Any:
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(
        reliability=ReliabilityPolicy.RELIABLE if qos.reliable else ReliabilityPolicy.BEST_EFFORT,
        history=HistoryPolicy.KEEP_ALL if qos.keep_all else HistoryPolicy.KEEP_LAST,
        depth=qos.depth,
    )


def _wait_for_subscribers(rclpy: Any, ros: Any, io: _RclpyIO, expected: dict[str, int]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    while True:
        missing = {t: n for t, n in expected.items() if io.publishers[t].get_subscription_count() < n}
        if not missing:
            return
        if time.monotonic() > deadline:
            raise RunError(f"node '{ros.get_name()}': no subscribers after {_READY_TIMEOUT:g} s on "
                           f"{', '.join(sorted(missing))}; are all nodes of the system launched?")
        rclpy.spin_once(ros, timeout_sec=0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="like_keras_ros.runner")
    parser.add_argument("--target", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--kwargs")
    args, ros_args = parser.parse_known_args(argv)
    return run(args.target, args.node, json.loads(args.kwargs) if args.kwargs else {},
               [sys.argv[0], *ros_args])


if __name__ == "__main__":
    sys.exit(main())
