"""Stamps and frames: a message with a ``std_msgs/Header`` leaves its step stamped.

A port carries a header when it is an image (``Output(Array, image=True)``: a
sensor_msgs/Image) or a message of the catalog with a ``header`` field (``Image``,
``PoseStamped``, ``TransformStamped``...). What it sends is stamped with the time of the
step that produced it (the node's time: simulated or wall clock) and framed with the
port's frame; a stamp or a frame the component filled itself is kept as it is.

A port's frame is, first found: the component's Config field ``<port>_frame_id``, its
Config field ``frame_id`` (both parameters on ROS 2, so ``ros2 param`` sets them), the
port's ``Output(..., frame_id=...)``, else ``""``.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from typing import Any

# tf2's frame names: ROS name segments, no leading slash (REP 105).
_FRAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*")
HEADER_TYPE = "std_msgs/msg/Header"


def time_fields(t_ns: int) -> dict[str, int]:
    """A ``builtin_interfaces/Time``'s fields (sec, nanosec) for ``t_ns`` nanoseconds."""
    return {"sec": t_ns // 1_000_000_000, "nanosec": t_ns % 1_000_000_000}


def valid_frame_id(frame: Any) -> bool:
    """A frame name tf2 and rviz2 take: ROS name segments, no leading slash."""
    return isinstance(frame, str) and _FRAME.fullmatch(frame) is not None


def has_header(t: Any, image: bool = False) -> bool:
    """Whether a port of type ``t`` sends a message with a header: an image, a Msg whose
    ``header`` field is a ``std_msgs/Header``, or a list of those (transforms)."""
    if image:
        return True
    if typing.get_origin(t) is list:
        return has_header(typing.get_args(t)[0])
    fields = getattr(t, "__lk_fields__", None) or {}
    return getattr(fields.get("header"), "__ros_type__", None) == HEADER_TYPE


def frame_of(config: Any, port: str, default: str | None) -> str:
    """``port``'s frame: its Config field, the component's ``frame_id`` field, else ``default``."""
    for name in (f"{port}_frame_id", "frame_id"):
        frame = getattr(config, name, None)
        if frame:
            return frame
    return default or ""


def stamped(value: Any, time_ns: int, frame: str) -> Any:
    """``value`` with its header's unset stamp (zero) and frame (empty) filled in (each
    item's, for a list); the same object when both are set (a new one otherwise: the
    component's own is left alone)."""
    if isinstance(value, list):
        return [stamped(item, time_ns, frame) for item in value]
    header = value.header
    stamp = header.stamp
    unstamped = not (stamp.sec or stamp.nanosec)
    if not unstamped and (header.frame_id or not frame):
        return value
    if unstamped:
        stamp = dataclasses.replace(stamp, **time_fields(time_ns))
    return dataclasses.replace(value, header=dataclasses.replace(header, stamp=stamp,
                                                                 frame_id=header.frame_id or frame))
