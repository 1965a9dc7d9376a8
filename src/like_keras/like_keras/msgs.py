"""like-keras' standard messages: the common robotics types, usable on every transport.

On ROS 2 each maps to its twin (std_msgs/Header, geometry_msgs/Twist and Pose,
sensor_msgs/JointState and Image); elsewhere they are ordinary ``Msg`` types.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .types import Array, Msg


class Time(Msg):
    sec: int = 0
    nanosec: int = 0


class Header(Msg):
    stamp: Time = dataclasses.field(default_factory=Time)
    frame_id: str = ""


class Vector3(Msg):
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0


class Twist(Msg):
    linear: Vector3 = dataclasses.field(default_factory=Vector3)
    angular: Vector3 = dataclasses.field(default_factory=Vector3)


class Point(Msg):
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0


class Quaternion(Msg):
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    w: float = 1.0


class Pose(Msg):
    position: Point = dataclasses.field(default_factory=Point)
    orientation: Quaternion = dataclasses.field(default_factory=Quaternion)


class JointState(Msg):
    header: Header = dataclasses.field(default_factory=Header)
    name: list[str] = dataclasses.field(default_factory=list)
    position: list[float] = dataclasses.field(default_factory=list)
    velocity: list[float] = dataclasses.field(default_factory=list)
    effort: list[float] = dataclasses.field(default_factory=list)


class Image(Msg):
    """An 8-bit image, (height, width, channels): 3 channels are ``rgb8``, 1 is ``mono8``."""

    header: Header = dataclasses.field(default_factory=Header)
    pixels: Array(np.uint8, (None, None, None)) = dataclasses.field(
        default_factory=lambda: np.zeros((0, 0, 3), np.uint8)
    )
