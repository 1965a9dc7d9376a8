"""Port types <-> ROS 2 messages: one table, with converters both ways.

- ``bool, int, float, str`` -> std_msgs Bool, Int64, Float64, String; fixed-width
  numbers -> std_msgs Float32, UInt8...; ``bytes`` -> std_msgs UInt8MultiArray.
- ``Array`` -> the std_msgs ``*MultiArray`` of its dtype, layout dims filled (label
  ``dim<i>``, size, stride); bool arrays travel as UInt8MultiArray. A ``list`` of
  numbers is a one-dimensional ``*MultiArray`` too. With
  ``image=True`` a uint8 (H, W, 3) or (H, W) array is a sensor_msgs/Image
  (``rgb8`` / ``mono8``), its header stamped and framed as ``msgs.header`` says.
- the ROS catalog (``like_keras.msgs.ros``) -> the ROS type each class is. With
  ``tf=True`` a TransformStamped (or a list of them) is a tf2_msgs/TFMessage on /tf.
- user ``Msg`` types -> ``<package>/msg/<Name>`` of the generated interfaces package
  (``msg_definition`` writes its ``.msg``); an ``Array`` field becomes ``<name>``
  (``dtype[]``) and ``<name>_shape`` (``uint32[]``).

Used by the ROS 2 transport and by recordings (rosbag2 bags hold these messages).
Converters build messages through a factory, ``make(typename, **fields)``, and read
them by attribute, so the same table serves rclpy's generated classes on a ROS 2
machine and rosbags' classes (CDR, byte-exact) everywhere.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from like_keras.graph.ir import PortSpec, SystemGraph
from like_keras.msgs.header import time_fields
from like_keras.system import types
from like_keras.system.types import Array, Msg

Factory = Callable[..., Any]  # make(typename, **fields) -> a ROS message

_SCALARS = {bool: "std_msgs/msg/Bool", int: "std_msgs/msg/Int64", float: "std_msgs/msg/Float64",
            str: "std_msgs/msg/String",
            **{t: f"std_msgs/msg/{name.capitalize().replace('Ui', 'UI')}" for t, name in types.NUMBERS.items()}}
_MULTIARRAY = {
    "float32": "Float32MultiArray", "float64": "Float64MultiArray",
    "int8": "Int8MultiArray", "int16": "Int16MultiArray", "int32": "Int32MultiArray", "int64": "Int64MultiArray",
    "uint8": "UInt8MultiArray", "uint16": "UInt16MultiArray", "uint32": "UInt32MultiArray",
    "uint64": "UInt64MultiArray", "bool": "UInt8MultiArray",
}
# .msg primitive names of port types and of Array dtypes.
_MSG_PRIMITIVE = {bool: "bool", int: "int64", float: "float64", str: "string", **types.NUMBERS}
_MSG_DTYPE = {"float32": "float32", "float64": "float64", "int8": "int8", "int16": "int16", "int32": "int32",
              "int64": "int64", "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
              "bool": "bool"}
_ENCODINGS = {3: "rgb8", 1: "mono8"}
TRANSFORM = "geometry_msgs/msg/TransformStamped"
TF, TF_STATIC = "/tf", "/tf_static"
# numpy dtypes of list[T] fields that travel as numeric sequences.
_NUMPY_ITEM = {bool: np.bool_, int: np.int64, float: np.float64, **{t: t for t in types.NUMBERS}}


@dataclass(frozen=True)
class RosMapping:
    """How one port type travels on ROS 2."""

    ros_type: str
    to_ros: Callable[..., Any]  # (value, make[, header]): an image's takes its header
    from_ros: Callable[[Any], Any]


def mapping(t: Any, *, image: bool = False, tf: bool = False, interfaces: str | None = None) -> RosMapping:
    """The ROS 2 mapping of port type ``t``.

    ``image``: a uint8 ``Array`` port sent as sensor_msgs/Image. ``tf``: a
    TransformStamped (or a list of them) sent as the tf2_msgs/TFMessage of /tf.
    ``interfaces``: the generated interfaces package that holds user ``Msg`` types.
    """
    if tf:
        return _tf_mapping(t)
    if t in _SCALARS:
        return RosMapping(_SCALARS[t], lambda v, make, name=_SCALARS[t]: make(name, data=v),
                          lambda m, t=t: _field_from_ros(m.data, t))
    if t is bytes:
        name = "std_msgs/msg/UInt8MultiArray"
        return RosMapping(
            name,
            lambda v, make: _multiarray(np.frombuffer(v, np.uint8), name, make),
            lambda m: bytes(np.asarray(m.data, np.uint8)),
        )
    if isinstance(t, Array):
        if image:
            _check_image_type(t)
            return RosMapping("sensor_msgs/msg/Image", lambda v, make, header=(0, ""): _image(v, make, header),
                              lambda m, t=t: _pixels(m)[:, :, 0] if len(t.shape) == 2 else _pixels(m))
        name = f"std_msgs/msg/{_MULTIARRAY[t.dtype.name]}"
        return RosMapping(name, lambda v, make: _multiarray(v, name, make),
                          lambda m, t=t: _from_multiarray(m, t))
    if typing.get_origin(t) is list and typing.get_args(t)[0] in _NUMPY_ITEM:
        item = typing.get_args(t)[0]
        dtype = np.dtype(_NUMPY_ITEM[item])
        name = f"std_msgs/msg/{_MULTIARRAY[dtype.name]}"
        return RosMapping(name, lambda v, make: _multiarray(np.asarray(v, dtype), name, make),
                          lambda m, t=Array(dtype, (None,)): _from_multiarray(m, t).tolist())
    if isinstance(t, type) and issubclass(t, Msg):
        name = ros_type_of(t, interfaces)
        return RosMapping(name, lambda v, make: _msg_to_ros(v, t, make, interfaces),
                          lambda m: _msg_from_ros(m, t))
    raise TypeError(f"no ROS 2 mapping for port type {types.describe(t)}; wrap it in a Msg")


# --- a system's ports as ROS 2 sees them (topics and bags alike) ------------------------


def interfaces_name(graph: SystemGraph) -> str:
    """The package that holds the system's user Msg types as ROS interfaces."""
    return f"{graph.name}_interfaces"


def topic_of(graph: SystemGraph, component: str, port: str) -> str:
    """The ROS 2 topic of an output port (relative: a launch namespace prefixes it); a
    transform's is /tf, or /tf_static when latched, as tf2 and Foxglove look for them."""
    return named_topic(graph.component(component).output(port)) or f"{graph.name}/{component}/{port}"


def named_topic(spec: PortSpec) -> str | None:
    """The topic an output names itself (``topic=...``), or a transform's (/tf, or
    /tf_static when latched); None for one on its system's default topic."""
    if spec.topic:
        return spec.topic
    if spec.tf:
        return TF_STATIC if spec.latched else TF
    return None


def port_mapping(graph: SystemGraph, component: str, port: str) -> RosMapping:
    """The ROS mapping of an output port (its topic's type)."""
    spec = graph.component(component).output(port)
    return mapping(types.from_json(spec.type), image=spec.image, tf=spec.tf, interfaces=interfaces_name(graph))


def input_mapping(graph: SystemGraph, component: str, port: str) -> RosMapping:
    """The ROS mapping of an input port fed from outside by a topic."""
    return mapping(types.from_json(graph.component(component).input(port).type), interfaces=interfaces_name(graph))


def catalog_type(cls: type) -> str | None:
    """The ROS type of a class of the catalog (``like_keras.msgs.ros``), else None."""
    return cls.__dict__.get("__ros_type__")


def ros_type_of(cls: type, interfaces: str | None) -> str:
    """The ROS type name of a Msg class: the catalog's, or the generated interface."""
    if catalog_type(cls):
        return cls.__ros_type__
    if interfaces is None:
        raise TypeError(f"Msg {cls.__qualname__} needs a generated interfaces package (interfaces=...)")
    return f"{interfaces}/msg/{cls.__name__}"


def msg_classes(t: Any) -> list[type]:
    """Every Msg class reachable from port type ``t``, each once, dependencies first."""
    out: list[type] = []

    def visit(x: Any) -> None:
        if typing.get_origin(x) is list:
            visit(typing.get_args(x)[0])
        elif isinstance(x, type) and issubclass(x, Msg):
            for ft in x.__lk_fields__.values():
                visit(ft)
            if x not in out:
                out.append(x)

    visit(t)
    return out


def user_msg_types(t: Any) -> list[type]:
    """The user (non-catalog) Msg classes reachable from ``t``, dependencies first."""
    return [cls for cls in msg_classes(t) if not catalog_type(cls)]


def graph_user_msgs(graph: SystemGraph) -> list[type]:
    """The user Msg classes a system's ports carry, each once, dependencies first."""
    out: list[type] = []
    for comp in graph.components:
        for port in (*comp.inputs, *comp.outputs):
            for cls in user_msg_types(types.from_json(port.type)):
                if cls not in out:
                    out.append(cls)
    return out


def msg_definition(cls: type, interfaces: str) -> str:
    """The ``.msg`` text of a user Msg class (fields in declaration order)."""
    lines = [f"# {cls.__qualname__}: generated by like-keras from {cls.__module__}. Do not edit."]
    for name, ft in cls.__lk_fields__.items():
        if isinstance(ft, Array):
            lines.append(f"{_MSG_DTYPE[ft.dtype.name]}[] {name}")
            lines.append(f"uint32[] {name}_shape")
        else:
            lines.append(f"{_field_type(ft, interfaces)} {name}")
    return "\n".join(lines) + "\n"


def _field_type(t: Any, interfaces: str) -> str:
    if t in _MSG_PRIMITIVE:
        return _MSG_PRIMITIVE[t]
    if t is bytes:
        return "uint8[]"
    if typing.get_origin(t) is list:
        item = typing.get_args(t)[0]
        if isinstance(item, Array) or typing.get_origin(item) is list or item is bytes:
            raise TypeError(f"{types.describe(t)} has no ROS 2 field type; wrap the items in a Msg")
        return f"{_field_type(item, interfaces)}[]"
    if isinstance(t, type) and issubclass(t, Msg):
        pkg, _, name = ros_type_of(t, interfaces).partition("/msg/")
        return f"{pkg}/{name}"
    raise TypeError(f"{types.describe(t)} has no ROS 2 field type")


# --- converters ---------------------------------------------------------------------


def _multiarray(value: np.ndarray, name: str, make: Factory) -> Any:
    flat = np.ascontiguousarray(value).reshape(-1)
    if flat.dtype == np.bool_:
        flat = flat.view(np.uint8)
    # A dimension's stride is the product of its size and every later one (MultiArrayLayout).
    dims = [make("std_msgs/msg/MultiArrayDimension", label=f"dim{i}", size=int(size),
                 stride=math.prod(value.shape[i:]))
            for i, size in enumerate(value.shape)]
    layout = make("std_msgs/msg/MultiArrayLayout", dim=dims, data_offset=0)
    return make(name, layout=layout, data=flat)


def _from_multiarray(m: Any, t: Array) -> np.ndarray:
    shape = [d.size for d in m.layout.dim]
    data = np.asarray(m.data)[m.layout.data_offset:]
    if t.dtype == np.bool_:
        data = data.astype(np.uint8).view(np.bool_)
    return data.astype(t.dtype, copy=False).reshape(shape)


def is_transform(t: Any) -> bool:
    """A geometry_msgs/TransformStamped, or a list of them: what a tf output carries."""
    item = typing.get_args(t)[0] if typing.get_origin(t) is list else t
    return catalog_type(item) == TRANSFORM if isinstance(item, type) else False


def _tf_mapping(t: Any) -> RosMapping:
    if not is_transform(t):
        raise TypeError(f"a transform (tf=True) is a TransformStamped or a list of them, not {types.describe(t)}")
    many = typing.get_origin(t) is list
    item = typing.get_args(t)[0] if many else t
    return RosMapping(
        "tf2_msgs/msg/TFMessage",
        lambda v, make: make("tf2_msgs/msg/TFMessage", transforms=[_msg_to_ros(x, item, make, None)
                                                                   for x in (v if many else [v])]),
        lambda m: [_msg_from_ros(x, item) for x in m.transforms] if many else _msg_from_ros(m.transforms[0], item),
    )


def _check_image_type(t: Array) -> None:
    ok = t.dtype == np.uint8 and (len(t.shape) == 2 or (len(t.shape) == 3 and t.shape[2] in (1, 3, None)))
    if not ok:
        raise TypeError(f"{t!r} cannot be a sensor_msgs/Image: use Array(np.uint8, (H, W, 3)) or (H, W)")


def _image(pixels: np.ndarray, make: Factory, header: tuple[int, str]) -> Any:
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width, channels = pixels.shape
    if channels not in _ENCODINGS:
        raise TypeError(f"an image has 1 or 3 channels, got {channels}")
    ns, frame = header
    stamp = make("builtin_interfaces/msg/Time", **time_fields(ns))
    return make(
        "sensor_msgs/msg/Image", header=make("std_msgs/msg/Header", stamp=stamp, frame_id=frame), height=height,
        width=width, encoding=_ENCODINGS[channels], is_bigendian=0, step=width * channels,
        data=np.ascontiguousarray(pixels, np.uint8).reshape(-1),
    )


def _pixels(m: Any) -> np.ndarray:
    channels = {v: k for k, v in _ENCODINGS.items()}.get(m.encoding)
    if channels is None:
        raise TypeError(f"sensor_msgs/Image encoding {m.encoding!r} is not supported (rgb8, mono8)")
    rows = np.asarray(m.data, np.uint8).reshape(m.height, m.step)
    return np.ascontiguousarray(rows[:, : m.width * channels]).reshape(m.height, m.width, channels)


def _msg_to_ros(value: Any, t: type, make: Factory, interfaces: str | None) -> Any:
    catalog = catalog_type(t)
    fields: dict[str, Any] = {}
    for name, ft in t.__lk_fields__.items():
        v = getattr(value, name)
        if isinstance(ft, Array):
            fields[name] = np.ascontiguousarray(v, ft.dtype).reshape(-1)
            if not catalog:  # a user Msg's Array keeps its shape in a field of its own
                fields[f"{name}_shape"] = np.asarray(v.shape, np.uint32)
        else:
            fields[name] = _field_to_ros(v, ft, make, interfaces)
    return make(ros_type_of(t, interfaces), **fields)


def _field_to_ros(v: Any, t: Any, make: Factory, interfaces: str | None) -> Any:
    if t in _MSG_PRIMITIVE:
        return v
    if t is bytes:
        return np.frombuffer(v, np.uint8)
    if typing.get_origin(t) is list:
        item = typing.get_args(t)[0]
        if item in _NUMPY_ITEM:
            return np.asarray(v, _NUMPY_ITEM[item])
        return [_field_to_ros(x, item, make, interfaces) for x in v]
    return _msg_to_ros(v, t, make, interfaces)


def _msg_from_ros(m: Any, t: type) -> Any:
    catalog = catalog_type(t)
    fields: dict[str, Any] = {}
    for name, ft in t.__lk_fields__.items():
        v = getattr(m, name)
        if isinstance(ft, Array):
            shape = -1 if catalog else [int(s) for s in getattr(m, f"{name}_shape")]
            fields[name] = _array_from_ros(v, ft.dtype).reshape(shape)
        else:
            fields[name] = _field_from_ros(v, ft)
    return t(**fields)


def _array_from_ros(v: Any, dtype: np.dtype) -> np.ndarray:
    if isinstance(v, list) and v and isinstance(v[0], bytes):  # rclpy's byte[]: a list of 1-byte bytes
        v = b"".join(v)
    if isinstance(v, (bytes, bytearray)):
        return np.frombuffer(v, np.uint8).astype(dtype, copy=False)
    return np.asarray(v, dtype)


def _field_from_ros(v: Any, t: Any) -> Any:
    if t in _MSG_PRIMITIVE:
        if isinstance(v, bytes):  # rclpy's byte: one byte
            return v[0]
        return t(v) if t in (bool, int, float, str) else types.coercer(t)(v)
    if t is bytes:
        return bytes(np.asarray(v, np.uint8))
    if typing.get_origin(t) is list:
        item = typing.get_args(t)[0]
        return [_field_from_ros(x, item) for x in v]
    return _msg_from_ros(v, t)
