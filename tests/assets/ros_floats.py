"""A ROS 2 node like-keras did not write: once something subscribes to /floats, publishes
N std_msgs/Float64 there (0.5, 1.0, 1.5, ...) at 50 Hz, reliable, then exits."""

import sys
import time

import rclpy
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Float64


def main():
    count = int(sys.argv[1])
    rclpy.init()
    node = rclpy.create_node("floats")
    pub = node.create_publisher(Float64, "/floats", QoSProfile(reliability=ReliabilityPolicy.RELIABLE,
                                                               history=HistoryPolicy.KEEP_ALL, depth=1000))
    deadline = time.monotonic() + 30
    while pub.get_subscription_count() < 1:
        assert time.monotonic() < deadline, "nothing subscribed to /floats"
        time.sleep(0.05)
    time.sleep(0.5)  # discovery both ways
    for n in range(1, count + 1):
        pub.publish(Float64(data=n / 2))
        time.sleep(0.02)
    time.sleep(0.5)  # let the recorder take the last ones
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
