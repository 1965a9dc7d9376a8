"""A simulator's clock, as ROS nodes like-keras did not write see one: publishes /clock
(rosgraph_msgs/Clock) from 0 to T simulated seconds in 5 ms steps, 5x faster than the
wall clock, then exits."""

import sys
import time

import rclpy
from builtin_interfaces.msg import Time
from rosgraph_msgs.msg import Clock


def main():
    end_ns = round(float(sys.argv[1]) * 1e9)
    rclpy.init()
    node = rclpy.create_node("sim_clock")
    pub = node.create_publisher(Clock, "/clock", 10)
    deadline = time.monotonic() + 30
    while pub.get_subscription_count() < 2:  # the system's two nodes
        assert time.monotonic() < deadline, "nobody subscribed to /clock"
        time.sleep(0.05)
    t = 0
    while t <= end_ns:
        pub.publish(Clock(clock=Time(sec=t // 10**9, nanosec=t % 10**9)))
        t += 5_000_000
        time.sleep(0.001)
    time.sleep(0.5)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main()
