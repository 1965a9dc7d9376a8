"""Hand-written ROS 2 consumer (rclpy only): receives N numbers, times first to last."""

import json
import sys
import time

import rclpy
from rclpy.node import Node
from rclpy.task import Future
from std_msgs.msg import Int64

from common import QOS

count, out = int(sys.argv[1]), sys.argv[2]

rclpy.init()
node = Node("consumer")
got = []
times = []
done = Future()


def on_number(msg):
    now = time.perf_counter()
    if not got:
        times.append(now)
    got.append(msg.data)
    if len(got) == count:
        times.append(now)
        done.set_result(True)


node.create_subscription(Int64, "numbers", on_number, QOS)
rclpy.spin_until_future_complete(node, done)
with open(out, "w") as f:
    json.dump({"received": len(got), "in_order": got == list(range(1, count + 1)),
               "first_to_last": times[-1] - times[0]}, f)
node.destroy_node()
rclpy.shutdown()
