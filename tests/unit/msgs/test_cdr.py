"""The CDR bytes the ROS 2 transport publishes raw (``like_keras.msgs.cdr``), read by the
real rclpy: every mapped kind of port type deserialises as its standard message class,
serialises back to the same bytes, and decodes to the value sent."""

import subprocess

from conftest import VENV_BIN, ros2_env

# Runs under a sourced ROS 2, in this venv's interpreter (rclpy's C extension is built for it).
CHECK = r"""
import importlib
import numpy as np
from rclpy.serialization import deserialize_message, serialize_message
from like_keras import Array, Msg, msgs
from like_keras.msgs.cdr import Codec, typestore
from like_keras.msgs.ros_mapping import mapping
from like_keras.system import types

frame = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
imu = msgs.Imu(orientation=msgs.Quaternion(x=0.0, y=0.0, z=0.6, w=0.8),
               orientation_covariance=np.arange(9, dtype=np.float64))
cases = [
    (True, bool, {}), (-7, int, {}), (2.5, float, {}), ("héllo", str, {}), (b"\x00\xff", bytes, {}),
    (np.float32(1.5), np.float32, {}), (np.uint8(200), np.uint8, {}),
    (np.arange(6, dtype=np.float32).reshape(2, 3), Array(np.float32, (2, 3)), {}),
    (np.arange(3) % 2 == 0, Array(np.bool_, (3,)), {}),
    ([1.0, 2.0], list[float], {}),
    (frame, Array(np.uint8, (4, 5, 3)), {"image": True}),
    (imu, msgs.Imu, {}),
    (msgs.TransformStamped(child_frame_id="base_link"), msgs.TransformStamped, {"tf": True}),
    ([msgs.TransformStamped(child_frame_id="a"), msgs.TransformStamped(child_frame_id="b")],
     list[msgs.TransformStamped], {"tf": True}),
]
store = typestore()
for value, t, options in cases:
    codec = Codec(mapping(t, **options), store)
    data = bytes(codec.encode(value))
    package, _, name = codec.ros_type.partition("/msg/")
    cls = getattr(importlib.import_module(f"{package}.msg"), name)
    message = deserialize_message(data, cls)
    assert bytes(serialize_message(message)) == data, (codec.ros_type, t)
    back = codec.decode(data)
    same = np.array_equal(back, value) if isinstance(value, np.ndarray) else back == value
    assert same and (type(back) is type(value) or isinstance(value, np.generic)), (t, back, value)
    print(codec.ros_type)
"""


def test_rclpy_reads_and_writes_the_bytes_like_keras_publishes():
    proc = subprocess.run([str(VENV_BIN / "python"), "-c", CHECK], env=ros2_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "std_msgs/msg/Bool", "std_msgs/msg/Int64", "std_msgs/msg/Float64", "std_msgs/msg/String",
        "std_msgs/msg/UInt8MultiArray", "std_msgs/msg/Float32", "std_msgs/msg/UInt8",
        "std_msgs/msg/Float32MultiArray", "std_msgs/msg/UInt8MultiArray", "std_msgs/msg/Float64MultiArray",
        "sensor_msgs/msg/Image", "sensor_msgs/msg/Imu", "tf2_msgs/msg/TFMessage", "tf2_msgs/msg/TFMessage"]
