"""The ROS 2 transport of like-keras (the emitter and the rclpy adapter).

Not implemented yet: this package is the place for it. Only its rclpy adapter will
import rclpy, and only at run time on a ROS 2 machine.
"""
