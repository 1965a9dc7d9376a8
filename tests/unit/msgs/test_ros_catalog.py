"""The ROS 2 catalog (``like_keras.msgs.ros``): every Jazzy common-interfaces message
as a Msg type, checked against the definitions rosbags ships and through CDR."""

import sys

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.base import Nodetype

import like_keras.msgs.ros as catalog
from like_keras import Array, msgs
from like_keras.system import types
from like_keras.msgs.ros import diagnostic_msgs, geometry_msgs, nav_msgs, sensor_msgs, visualization_msgs
from like_keras.msgs.ros_mapping import mapping
from like_keras.transports.common.target import load_system

from conftest import ASSETS

STORE = get_typestore(Stores.ROS2_JAZZY)
ALL = sorted(STORE.fielddefs)


def make(typename, /, **fields):
    return STORE.types[typename](**fields)


def round_trip(value, t):
    m = mapping(t)
    raw = STORE.serialize_cdr(m.to_ros(value, make), m.ros_type)
    return m.from_ros(STORE.deserialize_cdr(raw, m.ros_type))


def test_every_jazzy_message_is_in_the_catalog_once():
    assert len(ALL) == 162 and sorted(catalog.BY_ROS_TYPE) == ALL
    for ros_type, cls in catalog.BY_ROS_TYPE.items():
        package, _, name = ros_type.split("/")
        assert getattr(getattr(catalog, package), name) is cls and cls.__ros_type__ == ros_type


@pytest.mark.parametrize("ros_type", ALL)
def test_fields_are_rosbags_fields_and_defaults_survive_cdr(ros_type):
    cls = catalog.BY_ROS_TYPE[ros_type]
    _, fields = STORE.fielddefs[ros_type]
    assert list(cls.__lk_fields__) == [name for name, _ in fields]  # names, in order
    for name, (kind, rest) in fields:
        t = cls.__lk_fields__[name]
        if kind == Nodetype.ARRAY and isinstance(t, Array):
            assert t.shape == (rest[1],), name  # fixed sizes are fixed
        elif kind == Nodetype.SEQUENCE and isinstance(t, Array):
            assert t.shape == (None,), name
    value = cls()
    types.coercer(cls)(value)  # a default message is a valid value of its own type
    assert round_trip(value, cls) == value


def test_nested_messages_are_mutable_and_not_shared():
    a, b = nav_msgs.Odometry(), nav_msgs.Odometry()
    a.pose.pose.position.x = 1.0
    assert b.pose.pose.position.x == 0.0 and a.pose.pose.orientation.w == 1.0  # ROS's default quaternion
    a.pose.covariance[0] = 2.0
    assert b.pose.covariance[0] == 0.0 and a.pose.covariance.shape == (36,)


def test_field_types_are_the_ros_ones():
    scan = sensor_msgs.LaserScan.__lk_fields__
    assert scan["angle_min"] is np.float32 and scan["ranges"] == Array(np.float32, (None,))
    assert sensor_msgs.Image.__lk_fields__["data"] == Array(np.uint8, (None,))
    assert sensor_msgs.Image.__lk_fields__["height"] is np.uint32
    assert sensor_msgs.Imu.__lk_fields__["orientation_covariance"] == Array(np.float64, (9,))
    assert msgs.Header.__lk_fields__["stamp"] is msgs.Time and msgs.Time.__lk_fields__["sec"] is np.int32
    assert visualization_msgs.MarkerArray.__lk_fields__["markers"] == list[visualization_msgs.Marker]
    assert sensor_msgs.JointState.__lk_fields__["name"] == list[str]


def test_constants_are_class_attributes():
    assert (visualization_msgs.Marker.CUBE, visualization_msgs.Marker.ADD) == (1, 0)
    assert diagnostic_msgs.DiagnosticStatus.ERROR == 2 and sensor_msgs.PointField.FLOAT32 == 7


def test_the_standard_messages_are_the_catalogs():
    assert msgs.Image is sensor_msgs.Image and msgs.Pose is geometry_msgs.Pose
    assert msgs.Header.__ros_type__ == "std_msgs/msg/Header"


def test_values_that_do_not_fit_are_refused_when_sent():
    check = types.coercer(sensor_msgs.Imu)
    with pytest.raises(TypeError, match=r"orientation_covariance: expected Array\(float64, \(9,\)\), got an array "
                                        r"of shape \(8,\)"):
        check(sensor_msgs.Imu(orientation_covariance=np.zeros(8)))
    with pytest.raises(TypeError, match="256 does not fit uint8"):
        types.coercer(sensor_msgs.Image)(sensor_msgs.Image(is_bigendian=256))
    # float32 fields hold what float32 holds, on every transport
    sent = types.coercer(sensor_msgs.LaserScan)(sensor_msgs.LaserScan(range_max=0.1))
    assert sent.range_max == float(np.float32(0.1)) and round_trip(sent, sensor_msgs.LaserScan) == sent


def filled():
    """One populated message of each type the issue names."""
    header = msgs.Header(msgs.Time(12, 34), "base_link")
    cloud = sensor_msgs.PointCloud2(
        header, 1, 2, [sensor_msgs.PointField("x", 0, sensor_msgs.PointField.FLOAT32, 1),
                       sensor_msgs.PointField("y", 4, sensor_msgs.PointField.FLOAT32, 1)],
        False, 8, 16, np.arange(16, dtype=np.uint8), True)
    odom = nav_msgs.Odometry(header, "base_footprint")
    odom.pose.pose.position.x = 1.5
    odom.twist.covariance[:] = np.arange(36.0)
    marker = visualization_msgs.Marker(header, "ns", 7, visualization_msgs.Marker.CUBE)
    marker.points = [geometry_msgs.Point(1.0, 2.0, 3.0)]
    tf = geometry_msgs.TransformStamped(header, "camera")
    tf.transform.rotation.z = 0.5
    return [
        sensor_msgs.LaserScan(header, -1.0, 1.0, 0.5, 0.0, 0.125, 0.25, 8.0, np.array([1, 2, 3, 4, 5], np.float32)),
        odom,
        sensor_msgs.Image(header, 2, 2, "rgb8", 0, 6, np.arange(12, dtype=np.uint8)),
        cloud,
        sensor_msgs.Imu(header, geometry_msgs.Quaternion(0.0, 0.0, 0.0, 1.0), np.eye(3).ravel()),
        catalog.tf2_msgs.TFMessage([tf]),
        visualization_msgs.MarkerArray([marker]),
    ]


@pytest.mark.parametrize("value", filled(), ids=lambda v: type(v).__name__)
def test_populated_messages_cross_cdr_exactly(value):
    t = type(value)
    sent = types.coercer(t)(value)
    assert sent == value and round_trip(sent, t) == value


TRIP = f"{ASSETS / 'catalog_trip.py'}:CatalogTrip"


def test_catalog_messages_keep_every_field_through_a_native_run():
    system = load_system(TRIP)
    trip = sys.modules[type(system).__module__]
    result = system.launch(iterations=12, record=trip.RECORD)
    for name, t in trip.PORTS.items():
        sent = [types.coercer(t)(trip.messages(k)[name]) for k in range(1, 13)]
        assert result.messages(f"{name}.y") == sent, name


def test_messages_compare_field_by_field_arrays_and_nan_included():
    a = sensor_msgs.LaserScan(range_max=float("nan"), ranges=np.array([1.0, np.nan], np.float32))
    b = sensor_msgs.LaserScan(range_max=float("nan"), ranges=np.array([1.0, np.nan], np.float32))
    assert a == b  # a lidar's "no return" is NaN: a trace compares equal to itself
    b.ranges = np.array([1.0, 2.0], np.float32)
    assert a != b
    assert sensor_msgs.LaserScan(ranges=np.zeros(1, np.float32)) != sensor_msgs.LaserScan(ranges=np.zeros(1))
    assert a != geometry_msgs.Point() and (a == "scan") is False


def test_numbers_come_back_as_python_numbers():
    scan = round_trip(sensor_msgs.LaserScan(angle_min=0.5, range_max=8.0), sensor_msgs.LaserScan)
    assert type(scan.angle_min) is float and type(scan.header.stamp.sec) is int  # not np.float32 / np.int32
    image = round_trip(sensor_msgs.Image(height=2, is_bigendian=1), sensor_msgs.Image)
    assert type(image.height) is int and type(image.is_bigendian) is int


def test_rclpys_byte_fields_read_back():
    # rclpy gives a ROS byte as one bytes object and a byte[] as a list of them (rosbags
    # gives ints and arrays): an object shaped like rclpy's message stands in for it here;
    # the live ROS 2 tests run the real one.
    from types import SimpleNamespace

    from like_keras.msgs.ros import diagnostic_msgs, std_msgs

    status = SimpleNamespace(level=b"\x02", name="motor", message="hot", hardware_id="m1", values=[])
    back = mapping(diagnostic_msgs.DiagnosticStatus).from_ros(status)
    assert back.level == diagnostic_msgs.DiagnosticStatus.ERROR and type(back.level) is int
    layout = SimpleNamespace(dim=[], data_offset=0)
    for data, expected in (([b"\x07"], [7]), ([b"\x01", b"\xff"], [1, 255]), ([], [])):
        got = mapping(std_msgs.ByteMultiArray).from_ros(SimpleNamespace(layout=layout, data=data)).data
        assert got.dtype == np.uint8 and got.tolist() == expected


def test_a_default_message_has_rosidls_defaults():
    """Sequences start empty, bounded ones too; fixed-size arrays start full of zeros."""
    from like_keras.msgs.ros import BY_ROS_TYPE

    scan = BY_ROS_TYPE["sensor_msgs/msg/LaserScan"]()
    assert scan.ranges.shape == (0,) and scan.ranges.dtype == np.float32
    assert BY_ROS_TYPE["sensor_msgs/msg/JointState"]().name == []
    assert BY_ROS_TYPE["rcl_interfaces/msg/ParameterDescriptor"]().floating_point_range == []  # at most 1
    covariance = BY_ROS_TYPE["geometry_msgs/msg/PoseWithCovariance"]().covariance
    assert covariance.shape == (36,) and not covariance.any()
