"""Hand-written ROS 2 producer (rclpy only): publishes 1..N as fast as it can."""

import sys
import time

import rclpy
from rclpy.node import Node
from std_msgs.msg import Int64

from common import QOS

count = int(sys.argv[1])

rclpy.init()
node = Node("producer")
pub = node.create_publisher(Int64, "numbers", QOS)
while pub.get_subscription_count() < 1:
    time.sleep(0.01)
for n in range(1, count + 1):
    pub.publish(Int64(data=n))
while pub.get_subscription_count() > 0:  # reliable: stay until the consumer has all and left
    time.sleep(0.01)
node.destroy_node()
rclpy.shutdown()
