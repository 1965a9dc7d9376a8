"""Bags as a robot's ``ros2 bag record`` leaves them (written by rosbags, not by
like-keras), for the replay tests on every transport."""

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore


def robot_bag(path, topic="/camera/image_raw", msgtype="sensor_msgs/msg/Image"):
    """Five camera frames at irregular times; returns their offsets from the first, in ns."""
    store = get_typestore(Stores.ROS2_JAZZY)
    T = store.types
    times = [1_700_000_000_000_000_000 + ms * 1_000_000 for ms in (0, 40, 95, 130, 210)]
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection(topic, msgtype, typestore=store)
        for k, t in enumerate(times):
            header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=k, nanosec=0),
                                              frame_id="robot_cam")
            if msgtype == "sensor_msgs/msg/Image":
                msg = T[msgtype](header=header, height=1, width=2, encoding="mono8", is_bigendian=0, step=2,
                                 data=np.array([10 * k, 10 * k + 2], np.uint8))
            else:
                msg = T[msgtype](header=header, format="jpeg", data=np.zeros(3, np.uint8))
            writer.write(conn, t, store.serialize_cdr(msg, msgtype))
    return [t - times[0] for t in times]


def numbers_bag(path, count=10):
    """/numbers (std_msgs/Int64) 1..count."""
    store = get_typestore(Stores.ROS2_JAZZY)
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/numbers", "std_msgs/msg/Int64", typestore=store)
        for n in range(1, count + 1):
            writer.write(conn, 5_000_000_000 + n * 30_000_000 + (n % 3) * 7_000_000,
                         store.serialize_cdr(store.types["std_msgs/msg/Int64"](data=n), "std_msgs/msg/Int64"))
    return path


def seconds_bag(path, seconds):
    """/numbers (std_msgs/Int64) at 10 Hz for ``seconds``, from 2023-11-14: a recording of
    that long, for ``ros2 bag play --clock``."""
    store = get_typestore(Stores.ROS2_JAZZY)
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/numbers", "std_msgs/msg/Int64", typestore=store)
        for n in range(round(seconds * 10) + 1):
            writer.write(conn, 1_700_000_000_000_000_000 + n * 100_000_000,
                         store.serialize_cdr(store.types["std_msgs/msg/Int64"](data=n), "std_msgs/msg/Int64"))
    return path

