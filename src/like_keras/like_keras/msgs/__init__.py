"""like-keras' standard messages: the everyday robotics types, by their short names.

Each *is* its ROS 2 message from the catalog (``like_keras.msgs.ros``), one
definition: ``Header`` is ``std_msgs/msg/Header``, ``Image`` ``sensor_msgs/msg/Image``
and so on. They travel on every transport; on ROS 2 as the real ROS type. The catalog
is built on first use (``from like_keras.msgs import Header``), so importing
``like_keras.msgs.ros_mapping`` alone stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "Duration": "builtin_interfaces", "Time": "builtin_interfaces",
    "Point": "geometry_msgs", "Pose": "geometry_msgs", "PoseStamped": "geometry_msgs",
    "Quaternion": "geometry_msgs", "Transform": "geometry_msgs", "TransformStamped": "geometry_msgs",
    "Twist": "geometry_msgs", "Vector3": "geometry_msgs",
    "Odometry": "nav_msgs",
    "Image": "sensor_msgs", "Imu": "sensor_msgs", "JointState": "sensor_msgs", "LaserScan": "sensor_msgs",
    "PointCloud2": "sensor_msgs",
    "Header": "std_msgs",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.ros.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
