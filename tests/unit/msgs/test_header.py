"""Stamps and frames of messages with a std_msgs/Header (like_keras.msgs.header)."""

from dataclasses import dataclass

import numpy as np

from like_keras import Array
from like_keras.msgs import Header, Image, PoseStamped, Time, TransformStamped, Twist
from like_keras.msgs.header import frame_of, has_header, stamped


def test_which_ports_have_a_header():
    assert has_header(PoseStamped) and has_header(Image) and has_header(TransformStamped)
    assert has_header(Array(np.uint8, (4, 4)), image=True)  # sent as a sensor_msgs/Image
    assert not has_header(Twist) and not has_header(Header) and not has_header(float)
    assert not has_header(Array(np.uint8, (4, 4)))
    assert has_header(list[TransformStamped]) and not has_header(list[Twist])  # transforms: a list of them


def test_the_frame_is_the_ports_config_field_then_the_components_then_the_ports():
    @dataclass
    class Both:
        image_frame_id: str = "optical"
        frame_id: str = "body"

    @dataclass
    class Shared:
        frame_id: str = "body"

    @dataclass
    class Unset:
        frame_id: str = ""

    assert frame_of(Both(), "image", "camera") == "optical"
    assert frame_of(Both(), "pose", "camera") == "body"
    assert frame_of(Shared(), "image", "camera") == "body"
    assert frame_of(Unset(), "image", "camera") == "camera"  # empty means unset
    assert frame_of(None, "image", None) == ""


def test_stamping_fills_what_is_unset_and_keeps_what_the_component_filled():
    t = 1_700_000_000_123_456_789
    blank = PoseStamped()
    out = stamped(blank, t, "map")
    assert (out.header.stamp.sec, out.header.stamp.nanosec, out.header.frame_id) == (1_700_000_000, 123_456_789, "map")
    assert blank.header.stamp.sec == 0 and blank.header.frame_id == ""  # the component's own is left alone
    own = PoseStamped(header=Header(stamp=Time(sec=7, nanosec=8), frame_id="odom"))
    assert stamped(own, t, "map") is own
    framed = stamped(PoseStamped(header=Header(frame_id="odom")), t, "map")
    assert (framed.header.stamp.sec, framed.header.frame_id) == (1_700_000_000, "odom")
    timed = stamped(PoseStamped(header=Header(stamp=Time(sec=7, nanosec=0))), t, "map")
    assert (timed.header.stamp.sec, timed.header.stamp.nanosec, timed.header.frame_id) == (7, 0, "map")
    unframed = PoseStamped(header=Header(stamp=Time(sec=7)))
    assert stamped(unframed, t, "") is unframed  # stamped, and no frame to give
