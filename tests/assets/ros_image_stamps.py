"""A ROS 2 node like-keras did not write: prints the header (sec nanosec frame_id) of each
sensor_msgs/Image it gets on a topic, until N have come, then exits."""

import sys
import time

import rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image


def main():
    topic, count = sys.argv[1], int(sys.argv[2])
    rclpy.init()
    node = rclpy.create_node("stamps")
    got = []
    node.create_subscription(Image, topic, lambda m: got.append(m.header), qos_profile_sensor_data)
    deadline = time.monotonic() + 90
    while len(got) < count and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    for header in got:
        print(header.stamp.sec, header.stamp.nanosec, header.frame_id, flush=True)


if __name__ == "__main__":
    main()
