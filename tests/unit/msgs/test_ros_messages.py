"""Every port type <-> ROS 2 message mapping, proven byte-exact with rosbags' CDR."""

import struct

import numpy as np
import pytest
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from like_keras import Array, Msg, msgs
from like_keras.msgs.ros_mapping import mapping, msg_definition, user_msg_types

TS = get_typestore(Stores.ROS2_JAZZY)


def make(typename, /, **fields):
    return TS.types[typename](**fields)


def cdr_round_trip(value, t, **options):
    """like-keras value -> ROS message -> CDR bytes -> ROS message -> like-keras value."""
    m = mapping(t, **options)
    raw = bytes(TS.serialize_cdr(m.to_ros(value, make), m.ros_type))
    back = TS.deserialize_cdr(raw, m.ros_type)
    assert bytes(TS.serialize_cdr(back, m.ros_type)) == raw  # the bytes are stable
    return m, raw, m.from_ros(back)


def _little_endian_cdr(payload: bytes) -> bytes:
    return b"\x00\x01\x00\x00" + payload


@pytest.mark.parametrize(
    "t, value, ros_type, payload",
    [
        (bool, True, "std_msgs/msg/Bool", b"\x01"),
        (int, -(2**40), "std_msgs/msg/Int64", struct.pack("<q", -(2**40))),
        (float, 2.5, "std_msgs/msg/Float64", struct.pack("<d", 2.5)),
        (str, "hi", "std_msgs/msg/String", struct.pack("<I", 3) + b"hi\x00"),
    ],
)
def test_scalars_are_std_msgs_with_the_exact_cdr_bytes(t, value, ros_type, payload):
    m, raw, back = cdr_round_trip(value, t)
    assert m.ros_type == ros_type
    assert raw == _little_endian_cdr(payload)  # written from the CDR spec, not from our code
    assert back == value and type(back) is t


def test_bytes_are_a_uint8_multiarray():
    m, _, back = cdr_round_trip(b"\x00\x01\xff", bytes)
    assert m.ros_type == "std_msgs/msg/UInt8MultiArray" and back == b"\x00\x01\xff"


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int16", "int32", "int64",
                                   "uint8", "uint16", "uint32", "uint64", "bool"])
def test_arrays_are_multiarrays_with_their_layout(dtype):
    value = (np.arange(24) % 7).astype(dtype).reshape(2, 3, 4)
    t = Array(np.dtype(dtype), (2, 3, None))
    m, _, back = cdr_round_trip(value, t)
    ros = m.to_ros(value, make)
    assert [(d.label, d.size, d.stride) for d in ros.layout.dim] == [("dim0", 2, 24), ("dim1", 3, 12), ("dim2", 4, 4)]
    assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)


@pytest.mark.parametrize("shape", [(4, 5, 3), (4, 5)])
def test_uint8_images_become_sensor_msgs_image_when_asked(shape):
    value = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
    m, _, back = cdr_round_trip(value, Array(np.uint8, shape), image=True)
    ros = m.to_ros(value, make)
    assert m.ros_type == "sensor_msgs/msg/Image"
    assert (ros.height, ros.width, ros.step) == (4, 5, 5 * (3 if len(shape) == 3 else 1))
    assert ros.encoding == ("rgb8" if len(shape) == 3 else "mono8")
    assert np.array_equal(back, value)
    with pytest.raises(TypeError, match="cannot be a sensor_msgs/Image"):
        mapping(Array(np.float32, (4, 5)), image=True)


STANDARD = [
    (msgs.Header(msgs.Time(12, 345), "base_link"), "std_msgs/msg/Header"),
    (msgs.Twist(msgs.Vector3(1.0, 2.0, 3.0), msgs.Vector3(0.0, 0.0, 0.5)), "geometry_msgs/msg/Twist"),
    (msgs.Pose(msgs.Point(1.0, 2.0, 3.0), msgs.Quaternion(0.0, 0.0, 0.7071, 0.7071)), "geometry_msgs/msg/Pose"),
    (msgs.JointState(msgs.Header(msgs.Time(1, 2), "arm"), ["shoulder", "elbow"], np.array([0.1, 0.2]),
                     np.array([1.0, 2.0]), np.array([0.0, -1.0])), "sensor_msgs/msg/JointState"),
]


@pytest.mark.parametrize("value, ros_type", STANDARD, ids=[r for _, r in STANDARD])
def test_standard_messages_map_to_their_ros_twins(value, ros_type):
    m, _, back = cdr_round_trip(value, type(value))
    assert m.ros_type == ros_type
    assert back == value


def test_standard_image_message():
    data = np.arange(2 * 3 * 3, dtype=np.uint8)
    value = msgs.Image(msgs.Header(msgs.Time(5, 6), "camera"), 2, 3, "rgb8", 0, 9, data)
    m, _, back = cdr_round_trip(value, msgs.Image)
    assert m.ros_type == "sensor_msgs/msg/Image"
    assert back == value


class Detection(Msg):
    label: str
    score: float
    box: Array(np.float32, (4,))
    pose: msgs.Pose
    hits: list[int]


class Detections(Msg):
    header: msgs.Header
    items: list[Detection]
    raw: bytes


def test_user_msg_types_go_through_a_generated_interface():
    pkg = "demo_interfaces"
    for cls in user_msg_types(Detections):  # dependencies first
        TS.register(get_types_from_msg(msg_definition(cls, pkg), f"{pkg}/msg/{cls.__name__}"))
    assert [c.__name__ for c in user_msg_types(Detections)] == ["Detection", "Detections"]
    assert "float32[] box\nuint32[] box_shape\ngeometry_msgs/Pose pose\nint64[] hits" in msg_definition(Detection, pkg)
    value = Detections(
        msgs.Header(msgs.Time(1, 0), "map"),
        [Detection("cup", 0.9, np.array([1, 2, 3, 4], np.float32), msgs.Pose(), [1, 2])],
        b"\x01\x02",
    )
    m, _, back = cdr_round_trip(value, Detections, interfaces=pkg)
    assert m.ros_type == "demo_interfaces/msg/Detections"
    assert back.header == value.header and back.raw == value.raw
    (item,) = back.items
    assert (item.label, item.score, item.hits, item.pose) == ("cup", 0.9, [1, 2], msgs.Pose())
    assert item.box.dtype == np.float32 and np.array_equal(item.box, [1, 2, 3, 4])
