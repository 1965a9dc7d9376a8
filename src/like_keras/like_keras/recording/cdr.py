"""How a recorded port is written: its bag topic, what reading it back needs, and its CDR
bytes (``like_keras.msgs.cdr``). A port's message is what it is on the ROS 2 transport
(``msgs.ros_mapping``): same topic, same type, so a recording is what ``ros2 bag record``
would have written of a ROS 2 run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rosbags.typesys.store import Typestore

from like_keras.graph.ir import SystemGraph
from like_keras.msgs.cdr import Codec
from like_keras.msgs.ros_mapping import interfaces_name, mapping, port_mapping, topic_of
from like_keras.system import types


@dataclass(frozen=True)
class PortCodec(Codec):
    """How one recorded output port is written: its topic, ROS type and CDR bytes."""

    topic: str = ""  # absolute, as in a bag
    info: dict[str, Any] = field(default_factory=dict)  # port, type (JSON), image, interfaces: to read it back

    @classmethod
    def of(cls, graph: SystemGraph, component: str, port: str, store: Typestore) -> PortCodec:
        topic = topic_of(graph, component, port)
        spec = graph.component(component).output(port)
        info = {"port": f"{component}.{port}", "type": spec.type, "image": spec.image, "tf": spec.tf,
                "interfaces": interfaces_name(graph)}
        return cls(port_mapping(graph, component, port), store, topic if topic.startswith("/") else f"/{topic}", info)

    @classmethod
    def reader(cls, info: dict[str, Any], store: Typestore) -> PortCodec:
        """The codec that reads back a port described by ``info``."""
        spec = types.from_json(info["type"])
        return cls(mapping(spec, image=info["image"], tf=info.get("tf", False), interfaces=info["interfaces"]),
                   store, "", info)

    def msgdef(self) -> str:
        """The ``ros2msg`` schema text of the port's type (with its dependencies)."""
        return self.store.generate_msgdef(self.ros_type, ros_version=2)[0]

    def rihs01(self) -> str:
        """The type hash rosbag2 keeps with a topic."""
        return self.store.hash_rihs01(self.ros_type)
