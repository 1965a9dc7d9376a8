"""Every message of ROS 2 Jazzy's common interfaces as a like-keras ``Msg`` type.

    from like_keras.msgs.ros import sensor_msgs, geometry_msgs, nav_msgs
    scan = sensor_msgs.LaserScan(range_max=10.0)
    odom = nav_msgs.Odometry()
    odom.pose.pose.position.x = 1.0

The classes are built when this package is imported, from the message definitions
rosbags ships for Jazzy (``Stores.ROS2_JAZZY``, 162 messages): one module per ROS
package (``like_keras.msgs.ros.sensor_msgs``), field names and order as in the
``.msg`` files, constants as class attributes (``visualization_msgs.Marker.CUBE``).

ROS types become port types: ``float64`` and ``int64`` are ``float`` and ``int``,
``float32``, ``uint8``... their numpy scalar types, ``byte`` and ``char`` ``np.uint8``,
``string`` ``str``; numeric arrays (``float64[9]``, ``float32[]``, ``uint8[]``) are
numpy ``Array`` fields (fixed sizes checked when sent), arrays of strings or
messages ``list``s. Every message is default-constructible with ROS's defaults.
Each class names its ROS type in ``__ros_type__``; on ROS 2 it travels as that type.
"""

from __future__ import annotations

import dataclasses
import sys
import types as pytypes
from typing import Any

import numpy as np
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.base import Nodetype

from like_keras.system.types import Array, Msg

STORE = get_typestore(Stores.ROS2_JAZZY)

_NUMBERS: dict[str, Any] = {
    "bool": bool, "byte": np.uint8, "char": np.uint8, "float32": np.float32, "float64": float,
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": int,
    "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
}
_DTYPES = {"bool": np.bool_, "byte": np.uint8, "char": np.uint8, "float64": np.float64, "int64": np.int64}
# Defaults other than zero in Jazzy's .msg files; rosbags keeps names and types, not defaults.
_DEFAULTS = {"geometry_msgs/msg/Quaternion": {"w": 1.0}}

# ROS type name -> class, for every message of the catalog.
BY_ROS_TYPE: dict[str, type[Msg]] = {}


def _primitive(name: str) -> Any:
    return str if name in ("string", "wstring") else _NUMBERS[name]


def _zero(t: Any) -> Any:
    """The default of a field of type ``t``: 0, 0.0, False, "" (Python values) or a message."""
    value = t()
    return value.item() if isinstance(value, np.generic) else value


def _dtype(name: str) -> np.dtype:
    return np.dtype(_DTYPES.get(name, name))


def _field(desc: tuple[Any, Any]) -> tuple[Any, dataclasses.Field]:
    """The port type and the dataclass field (with its ROS default) of one ROS field."""
    kind, rest = desc
    if kind == Nodetype.BASE:
        t = _primitive(rest[0])
        return t, dataclasses.field(default=_zero(t))
    if kind == Nodetype.NAME:
        cls = _build(rest)
        return cls, dataclasses.field(default_factory=cls)
    (item_kind, item), size = rest
    if item_kind == Nodetype.BASE and item[0] not in ("string", "wstring"):
        dtype = _dtype(item[0])
        if kind == Nodetype.ARRAY:
            return Array(dtype, (size,)), dataclasses.field(default_factory=lambda: np.zeros(size, dtype))
        return Array(dtype, (None,)), dataclasses.field(default_factory=lambda: np.zeros(0, dtype))
    t = _primitive(item[0]) if item_kind == Nodetype.BASE else _build(item)
    count = size if kind == Nodetype.ARRAY else 0
    return list[t], dataclasses.field(default_factory=lambda: [_zero(t) for _ in range(count)])  # type: ignore[valid-type]


def _build(ros_type: str) -> type[Msg]:
    if ros_type in BY_ROS_TYPE:
        return BY_ROS_TYPE[ros_type]
    package, _, name = ros_type.split("/")
    consts, fields = STORE.fielddefs[ros_type]
    namespace: dict[str, Any] = {"__module__": f"{__name__}.{package}", "__qualname__": name,
                                 "__ros_type__": ros_type, "__annotations__": {}}
    for field_name, desc in fields:
        t, spec = _field(desc)
        if field_name in _DEFAULTS.get(ros_type, {}):
            spec = dataclasses.field(default=_DEFAULTS[ros_type][field_name])
        namespace["__annotations__"][field_name] = t
        namespace[field_name] = spec
    for const_name, _, value in consts:
        namespace[const_name] = value
    namespace["__doc__"] = f"ROS 2 ``{ros_type}``."
    cls = pytypes.new_class(name, (Msg,), exec_body=lambda ns: ns.update(namespace))
    BY_ROS_TYPE[ros_type] = cls
    return cls


def _modules() -> list[str]:
    packages: dict[str, pytypes.ModuleType] = {}
    for ros_type in sorted(STORE.fielddefs):
        cls = _build(ros_type)
        package = ros_type.split("/")[0]
        if package not in packages:
            module = packages[package] = pytypes.ModuleType(f"{__name__}.{package}", f"ROS 2 {package} messages.")
            module.__all__ = []
            sys.modules[module.__name__] = module
            globals()[package] = module
        setattr(packages[package], cls.__name__, cls)
        packages[package].__all__.append(cls.__name__)
    return sorted(packages)


__all__ = _modules()
