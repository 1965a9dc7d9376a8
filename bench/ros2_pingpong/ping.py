"""Hand-written ROS 2 ping node (rclpy only): times N round trips of one payload."""

import json
import sys
import time

import numpy as np
import rclpy
from rclpy.node import Node
from rclpy.task import Future
from std_msgs.msg import Float32MultiArray

from common import QOS, message

size, count, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

rclpy.init()
node = Node("ping")
payload = np.ones(size // 4, np.float32)
rtts = []
done = Future()
pub = node.create_publisher(Float32MultiArray, "ping", QOS)


def on_pong(msg):
    global t0
    back = np.frombuffer(msg.data, np.float32)
    assert back.size == payload.size
    rtts.append(time.perf_counter() - t0)
    if len(rtts) == count:
        done.set_result(True)
        return
    t0 = time.perf_counter()
    pub.publish(message(payload))


sub = node.create_subscription(Float32MultiArray, "pong", on_pong, QOS)
while pub.get_subscription_count() < 1 or sub.get_publisher_count() < 1:
    time.sleep(0.01)
t0 = time.perf_counter()
pub.publish(message(payload))
rclpy.spin_until_future_complete(node, done)
with open(out, "w") as f:
    json.dump(rtts, f)
node.destroy_node()
rclpy.shutdown()
