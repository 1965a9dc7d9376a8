"""A ROS 2 node like-keras did not write: waits for a subscriber on /numbers, publishes
1..N there (std_msgs/Int64, reliable), and prints what comes back on /doubled."""

import sys
import time

import rclpy
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Int64


def main():
    count = int(sys.argv[1])
    rclpy.init()
    node = rclpy.create_node("talker")
    qos = QoSProfile(reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_ALL, depth=1000)
    got = []
    node.create_subscription(Int64, "/doubled", lambda m: got.append(m.data), qos)
    pub = node.create_publisher(Int64, "/numbers", qos)
    deadline = time.monotonic() + 30
    while pub.get_subscription_count() < 1 or node.count_publishers("/doubled") < 1:
        assert time.monotonic() < deadline, "no like-keras node came"
        rclpy.spin_once(node, timeout_sec=0.05)
    time.sleep(0.5)  # discovery both ways
    for n in range(1, count + 1):
        pub.publish(Int64(data=n))
    while len(got) < count and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    print(" ".join(map(str, got)), flush=True)


if __name__ == "__main__":
    main()
