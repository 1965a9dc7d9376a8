"""Hand-written ROS 2 pong node (rclpy only): sends every payload straight back."""

import time

import numpy as np
import rclpy
from rclpy.node import Node
from rclpy.task import Future
from std_msgs.msg import Float32MultiArray

from common import QOS, message


rclpy.init()
node = Node("pong")
pub = node.create_publisher(Float32MultiArray, "pong", QOS)


def on_ping(msg):
    back = np.frombuffer(msg.data, np.float32)
    pub.publish(message(back))


sub = node.create_subscription(Float32MultiArray, "ping", on_ping, QOS)
while pub.get_subscription_count() < 1:  # nothing sent back before ping listens
    time.sleep(0.01)
done = Future()
node.create_timer(0.05, lambda: sub.get_publisher_count() == 0 and not done.done() and done.set_result(True))
rclpy.spin_until_future_complete(node, done)  # ends when ping's publisher is gone
node.destroy_node()
rclpy.shutdown()
