"""The generated interfaces package: .msg files rosidl accepts, a valid package.xml."""

import subprocess

import pytest
from catkin_pkg.package import parse_package_string

from like_keras import Component, Msg, Output, System
from like_keras.errors import InvalidNameError
from like_keras_examples.cartpole import CartPole
from like_keras_examples.sensor_pipeline import SensorPipeline
from like_keras_ros.interfaces import write_interfaces

from conftest import tool


def test_a_system_with_user_msgs_gets_an_interfaces_package_rosidl_accepts(tmp_path):
    rosidl = tool("rosidl")
    pkg = write_interfaces(SensorPipeline().build(), tmp_path / "src")
    assert pkg == tmp_path / "src" / "sensor_pipeline_interfaces"
    assert sorted(p.name for p in (pkg / "msg").iterdir()) == ["Detection.msg", "Track.msg"]
    assert "float64 x\nfloat64 y\nint64 pixels" in (pkg / "msg/Detection.msg").read_text()
    for msg in ("Detection", "Track"):
        proc = subprocess.run([rosidl, "translate", "--to", "idl", "-o", str(tmp_path / "idl"),
                               "sensor_pipeline_interfaces", f"{pkg}:msg/{msg}.msg"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / "idl/msg" / f"{msg}.idl").is_file()
    package = parse_package_string((pkg / "package.xml").read_text())
    package.validate()
    assert package.get_build_type() == "ament_cmake"
    assert [d.name for d in package.buildtool_depends] == ["ament_cmake", "rosidl_default_generators"]
    assert [g.name for g in package.member_of_groups] == ["rosidl_interface_packages"]
    cmake = (pkg / "CMakeLists.txt").read_text()
    assert 'rosidl_generate_interfaces(${PROJECT_NAME}\n  "msg/Detection.msg"\n  "msg/Track.msg"\n)' in cmake
    xmllint = tool("ament_xmllint")
    proc = subprocess.run([xmllint, str(pkg / "package.xml")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compiling_again_replaces_the_package_cleanly(tmp_path):
    graph = SensorPipeline().build()
    pkg = write_interfaces(graph, tmp_path)
    (pkg / "msg/Stale.msg").write_text("int64 x\n")
    write_interfaces(graph, tmp_path)
    assert not (pkg / "msg/Stale.msg").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sensor_pipeline_interfaces"]  # no temporary left


def test_no_user_msgs_no_package(tmp_path):
    assert write_interfaces(CartPole().build(), tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_msg_field_names_must_be_valid_on_ros2(tmp_path):
    class Reading(Msg):
        rawValue: float

    class Sensor(Component):
        out = Output(Reading)

    system = System(name="s", components=[Sensor(name="sensor")])
    with pytest.raises(InvalidNameError, match=r"Reading.rawValue: a ROS 2 field name is lower_snake_case"):
        write_interfaces(system.build(), tmp_path)
