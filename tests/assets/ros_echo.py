"""A ROS 2 node like-keras did not write: subscribes to TOPIC (type TYPE, e.g.
std_msgs/msg/Float64MultiArray), says "ready" once subscribed, then counts messages."""

import importlib
import sys

import rclpy
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy


def main():
    topic, typename = sys.argv[1], sys.argv[2]
    package, _, name = typename.partition("/msg/")
    cls = getattr(importlib.import_module(f"{package}.msg"), name)
    rclpy.init()
    node = rclpy.create_node("foreign_echo")
    qos = QoSProfile(reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_ALL, depth=1000)
    node.create_subscription(cls, topic, lambda msg: None, qos)
    print("ready", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass


if __name__ == "__main__":
    main()
