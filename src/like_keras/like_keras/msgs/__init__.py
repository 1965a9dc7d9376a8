"""like-keras' standard messages: the everyday robotics types, by their short names.

Each *is* its ROS 2 message from the catalog (``like_keras.msgs.ros``), one
definition: ``Header`` is ``std_msgs/msg/Header``, ``Image`` ``sensor_msgs/msg/Image``
and so on. They travel on every transport; on ROS 2 as the real ROS type.
"""

from __future__ import annotations

from .ros.builtin_interfaces import Duration, Time
from .ros.geometry_msgs import Point, Pose, PoseStamped, Quaternion, Transform, TransformStamped, Twist, Vector3
from .ros.nav_msgs import Odometry
from .ros.sensor_msgs import Image, Imu, JointState, LaserScan, PointCloud2
from .ros.std_msgs import Header

__all__ = ["Duration", "Header", "Image", "Imu", "JointState", "LaserScan", "Odometry", "Point", "PointCloud2",
           "Pose", "PoseStamped", "Quaternion", "Time", "Transform", "TransformStamped", "Twist", "Vector3"]
