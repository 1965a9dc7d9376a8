"""The bytes on the ROS 2 wire, for every mapped type, against bytes that rosbags' CDR
serialiser makes from plain values (lists written out by hand), never from our encoder:
a round trip through our own encoder and decoder cannot see a mistake made on both sides
(column-major data, a wrong stride, a dropped field)."""

import numpy as np
import pytest
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from like_keras import Array, Msg, msgs
from like_keras.msgs.ros_mapping import mapping

TS = get_typestore(Stores.ROS2_JAZZY)
T = TS.types


def ours(value, t, **options):
    m = mapping(t, **options)
    return m.ros_type, bytes(TS.serialize_cdr(m.to_ros(value, lambda name, /, **f: T[name](**f)), m.ros_type))


def cdr(message, typename):
    return bytes(TS.serialize_cdr(message, typename))


def dims(*specs):
    return T["std_msgs/msg/MultiArrayLayout"](
        dim=[T["std_msgs/msg/MultiArrayDimension"](label=f"dim{i}", size=size, stride=stride)
             for i, (size, stride) in enumerate(specs)], data_offset=0)


# dtype: (ROS message, element dtype in that message)
DTYPES = {
    "float32": ("Float32MultiArray", "float32"), "float64": ("Float64MultiArray", "float64"),
    "int8": ("Int8MultiArray", "int8"), "int16": ("Int16MultiArray", "int16"),
    "int32": ("Int32MultiArray", "int32"), "int64": ("Int64MultiArray", "int64"),
    "uint8": ("UInt8MultiArray", "uint8"), "uint16": ("UInt16MultiArray", "uint16"),
    "uint32": ("UInt32MultiArray", "uint32"), "uint64": ("UInt64MultiArray", "uint64"),
    "bool": ("UInt8MultiArray", "uint8"),
}


@pytest.mark.parametrize("dtype", sorted(DTYPES))
def test_arrays_in_every_dtype_are_row_major_multiarrays(dtype):
    # Element [i, j, k] of a (2, 3, 4) array holds the number 12 i + 4 j + k (mod 2 for bool):
    # row-major data is that numbering in order.
    plain = [n % 2 if dtype == "bool" else n for n in range(24)]
    value = np.array(plain, dtype=dtype).reshape(2, 3, 4)
    name, element = DTYPES[dtype]
    expected = T[f"std_msgs/msg/{name}"](layout=dims((2, 24), (3, 12), (4, 4)), data=np.array(plain, element))
    assert ours(value, Array(np.dtype(dtype), (2, 3, 4))) == (f"std_msgs/msg/{name}",
                                                              cdr(expected, f"std_msgs/msg/{name}"))


def test_a_non_contiguous_array_is_sent_in_row_major_order_too():
    value = np.array([[0, 1, 2], [3, 4, 5]], np.int32).T  # a transposed view: (3, 2), Fortran order
    expected = T["std_msgs/msg/Int32MultiArray"](layout=dims((3, 6), (2, 2)), data=np.array([0, 3, 1, 4, 2, 5],
                                                                                            np.int32))
    assert ours(value, Array(np.int32, (3, 2)))[1] == cdr(expected, "std_msgs/msg/Int32MultiArray")


def test_bytes_are_a_flat_uint8_multiarray():
    expected = T["std_msgs/msg/UInt8MultiArray"](layout=dims((3, 3)), data=np.array([0, 1, 255], np.uint8))
    assert ours(b"\x00\x01\xff", bytes)[1] == cdr(expected, "std_msgs/msg/UInt8MultiArray")


@pytest.mark.parametrize("channels, encoding", [(3, "rgb8"), (1, "mono8")])
def test_images_are_sensor_msgs_image_rows_of_pixels(channels, encoding):
    plain = list(range(2 * 3 * channels))  # row by row, pixel by pixel, channel by channel
    shape = (2, 3, channels) if channels == 3 else (2, 3)
    value = np.array(plain, np.uint8).reshape(shape)
    header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=0, nanosec=0), frame_id="")
    expected = T["sensor_msgs/msg/Image"](header=header, height=2, width=3, encoding=encoding, is_bigendian=0,
                                          step=3 * channels, data=np.array(plain, np.uint8))
    assert ours(value, Array(np.uint8, shape), image=True) == ("sensor_msgs/msg/Image",
                                                               cdr(expected, "sensor_msgs/msg/Image"))


def test_the_standard_image_message_carries_its_header():
    plain = list(range(12))
    value = msgs.Image(msgs.Header(msgs.Time(7, 8), "cam"), 2, 2, "rgb8", 0, 6, np.array(plain, np.uint8))
    header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=7, nanosec=8), frame_id="cam")
    expected = T["sensor_msgs/msg/Image"](header=header, height=2, width=2, encoding="rgb8", is_bigendian=0,
                                          step=6, data=np.array(plain, np.uint8))
    assert ours(value, msgs.Image)[1] == cdr(expected, "sensor_msgs/msg/Image")


class Reading(Msg):
    label: str
    score: float
    box: Array(np.float32, (2, 2))
    pose: msgs.Pose
    hits: list[int]
    ok: bool


# The .msg the interfaces package holds for Reading, written out here, not generated.
READING_MSG = """string label
float64 score
float32[] box
uint32[] box_shape
geometry_msgs/Pose pose
int64[] hits
bool ok
"""


def test_a_user_msg_is_its_fields_in_order_arrays_with_their_shape():
    TS.register(get_types_from_msg(READING_MSG, "wire_interfaces/msg/Reading"))
    pose = msgs.Pose(msgs.Point(1.0, 2.0, 3.0), msgs.Quaternion(0.0, 0.0, 0.0, 1.0))
    value = Reading("cup", 0.5, np.array([[1, 2], [3, 4]], np.float32), pose, [7, -8], True)
    ros_pose = T["geometry_msgs/msg/Pose"](position=T["geometry_msgs/msg/Point"](x=1.0, y=2.0, z=3.0),
                                           orientation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0))
    expected = T["wire_interfaces/msg/Reading"](
        label="cup", score=0.5, box=np.array([1, 2, 3, 4], np.float32), box_shape=np.array([2, 2], np.uint32),
        pose=ros_pose, hits=np.array([7, -8], np.int64), ok=True)
    assert ours(value, Reading, interfaces="wire_interfaces") == (
        "wire_interfaces/msg/Reading", cdr(expected, "wire_interfaces/msg/Reading"))


def test_an_empty_array_keeps_its_shape_and_the_layouts_strides():
    # stride of a dimension = its size times every later one, even when one size is 0
    value = np.zeros((0, 3), np.float64)
    expected = T["std_msgs/msg/Float64MultiArray"](layout=dims((0, 0), (3, 3)), data=np.array([], np.float64))
    assert ours(value, Array(np.float64, (None, 3)))[1] == cdr(expected, "std_msgs/msg/Float64MultiArray")
    m = mapping(Array(np.float64, (None, 3)))
    assert m.from_ros(TS.deserialize_cdr(cdr(expected, m.ros_type), m.ros_type)).shape == (0, 3)


def test_images_from_drivers_that_pad_their_rows_lose_the_padding():
    # A camera driver may send rows longer than width x channels (step > 9 here).
    rows = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0], [10, 11, 12, 13, 14, 15, 16, 17, 18, 0, 0, 0]]
    header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=0, nanosec=0), frame_id="")
    for encoding, shape, width in (("rgb8", (2, 3, 3), 3), ("mono8", (2, 9), 9)):
        msg = T["sensor_msgs/msg/Image"](header=header, height=2, width=width, encoding=encoding, is_bigendian=0,
                                         step=12, data=np.array(sum(rows, []), np.uint8))
        got = mapping(Array(np.uint8, shape), image=True).from_ros(msg)
        assert got.shape == shape and got.reshape(-1).tolist() == list(range(1, 19))
    with pytest.raises(TypeError, match="encoding 'bgr8' is not supported"):
        mapping(Array(np.uint8, (2, 3, 3)), image=True).from_ros(
            T["sensor_msgs/msg/Image"](header=header, height=2, width=3, encoding="bgr8", is_bigendian=0,
                                       step=9, data=np.zeros(18, np.uint8)))


@pytest.mark.parametrize("t", [Array(np.uint8, (4, 5, 2)), Array(np.uint8, (4, 5, 4)), Array(np.uint16, (4, 5)),
                               Array(np.uint8, (20,)), Array(np.uint8, (2, 4, 5, 3)), Array(np.float32, (4, 5, 3)),
                               Array(np.bool_, (4, 5)), Array(np.int8, (4, 5)), Array(np.uint8, (2, 4, 3, 3))])
def test_only_uint8_mono_or_rgb_arrays_can_be_images(t):
    with pytest.raises(TypeError, match="cannot be a sensor_msgs/Image"):
        mapping(t, image=True)


@pytest.mark.parametrize("t", [Array(np.uint8, (4, 5)), Array(np.uint8, (4, 5, 3)), Array(np.uint8, (4, 5, 1)),
                               Array(np.uint8, (None, None, None))])
def test_uint8_mono_and_rgb_arrays_can_be_images(t):
    assert mapping(t, image=True).ros_type == "sensor_msgs/msg/Image"
    with pytest.raises(TypeError, match="an image has 1 or 3 channels, got 4"):
        mapping(Array(np.uint8, (None, None, None)), image=True).to_ros(np.zeros((2, 2, 4), np.uint8),
                                                                         lambda name, /, **f: T[name](**f))


class Nested(Msg):
    ok: bool


def test_a_list_of_numbers_is_a_one_dimensional_multiarray():
    expected = T["std_msgs/msg/Int64MultiArray"](layout=dims((3, 3)), data=np.array([7, -8, 9], np.int64))
    assert ours([7, -8, 9], list[int]) == ("std_msgs/msg/Int64MultiArray",
                                           cdr(expected, "std_msgs/msg/Int64MultiArray"))
    expected = T["std_msgs/msg/Float32MultiArray"](layout=dims((0, 0)), data=np.zeros(0, np.float32))
    assert ours([], list[np.float32]) == ("std_msgs/msg/Float32MultiArray",
                                          cdr(expected, "std_msgs/msg/Float32MultiArray"))


@pytest.mark.parametrize("t, message", [
    (list[str], "no ROS 2 mapping for port type list\\[str\\]; wrap it in a Msg"),
    (dict, "no ROS 2 mapping for port type"),
])
def test_types_without_a_mapping_say_what_to_do(t, message):
    with pytest.raises(TypeError, match=message):
        mapping(t)


@pytest.mark.parametrize("field, message", [
    (list[bytes], "has no ROS 2 field type; wrap the items in a Msg"),
    (list[list[int]], "has no ROS 2 field type; wrap the items in a Msg"),
    (list[Array(np.float32, (3,))], "has no ROS 2 field type; wrap the items in a Msg"),
])
def test_msg_fields_without_a_ros_type_say_so(field, message):
    from like_keras.msgs.ros_mapping import msg_definition

    cls = type("Holder", (Msg,), {"__annotations__": {"x": field}})
    with pytest.raises(TypeError, match=message):
        msg_definition(cls, "demo_interfaces")


def test_msg_field_types_on_the_wire_definition():
    from like_keras.msgs.ros_mapping import msg_definition

    cls = type("Holder", (Msg,), {"__annotations__": {"raw": bytes, "names": list[str], "inner": Nested,
                                                      "flags": list[Nested], "pose": msgs.Pose}})
    assert msg_definition(cls, "demo_interfaces").splitlines()[1:] == [
        "uint8[] raw", "string[] names", "demo_interfaces/Nested inner", "demo_interfaces/Nested[] flags",
        "geometry_msgs/Pose pose"]
