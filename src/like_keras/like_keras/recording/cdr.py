"""Port values <-> the CDR bytes of their ROS 2 messages, through rosbags (no ROS needed).

A port's message is what it is on the ROS 2 transport (``msgs.ros_mapping``): same
topic, same type, so a recording is what ``ros2 bag record`` would have written of a
ROS 2 run. A system's own Msg types join a typestore of its own, as the
``<system>_interfaces`` package they are on ROS 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from like_keras.graph.ir import SystemGraph
from like_keras.msgs.ros_mapping import (
    RosMapping,
    interfaces_name,
    mapping,
    msg_definition,
    port_mapping,
    topic_of,
    user_msg_types,
)
from like_keras.system import types


def typestore(graph: SystemGraph | None = None) -> Typestore:
    """Jazzy's typestore, plus the Msg types of ``graph``'s ports."""
    store = get_typestore(Stores.ROS2_JAZZY)
    if graph is not None:
        package = interfaces_name(graph)
        seen: set[type] = set()
        for comp in graph.components:
            for port in (*comp.inputs, *comp.outputs):
                for cls in user_msg_types(types.from_json(port.type)):
                    if cls not in seen:
                        seen.add(cls)
                        store.register(get_types_from_msg(msg_definition(cls, package),
                                                          f"{package}/msg/{cls.__name__}"))
    return store


@dataclass(frozen=True)
class PortCodec:
    """How one recorded output port is written: its topic, ROS type and CDR bytes."""

    topic: str  # absolute, as in a bag
    info: dict[str, Any]  # port, type (JSON), image, interfaces: what reading it back needs
    mapping: RosMapping
    store: Typestore

    @classmethod
    def of(cls, graph: SystemGraph, component: str, port: str, store: Typestore) -> PortCodec:
        topic = topic_of(graph, component, port)
        spec = graph.component(component).output(port)
        info = {"port": f"{component}.{port}", "type": spec.type, "image": spec.image,
                "interfaces": interfaces_name(graph)}
        return cls(topic if topic.startswith("/") else f"/{topic}", info, port_mapping(graph, component, port), store)

    @classmethod
    def reader(cls, info: dict[str, Any], store: Typestore) -> PortCodec:
        """The codec that reads back a port described by ``info``."""
        spec = types.from_json(info["type"])
        return cls("", info, mapping(spec, image=info["image"], interfaces=info["interfaces"]), store)

    @property
    def ros_type(self) -> str:
        return self.mapping.ros_type

    def msgdef(self) -> str:
        """The ``ros2msg`` schema text of the port's type (with its dependencies)."""
        return self.store.generate_msgdef(self.ros_type, ros_version=2)[0]

    def rihs01(self) -> str:
        """The type hash rosbag2 keeps with a topic."""
        return self.store.hash_rihs01(self.ros_type)

    def encode(self, value: Any) -> memoryview:
        return self.store.serialize_cdr(self.mapping.to_ros(value, self._make), self.ros_type)

    def decode(self, data: bytes) -> Any:
        return self.mapping.from_ros(self.store.deserialize_cdr(data, self.ros_type))

    def _make(self, typename: str, /, **fields: Any) -> Any:
        return self.store.types[typename](**fields)
