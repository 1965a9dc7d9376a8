"""Port values <-> the CDR bytes of their ROS 2 messages, through rosbags (no ROS needed).

The bytes are what DDS carries and what a rosbag2 bag stores (encapsulation header
included), so the same codec serves the ROS 2 transport's raw publishers and
subscriptions, recordings and the live view. A system's own Msg types join a typestore
of its own, as the ``<system>_interfaces`` package they are on ROS 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from like_keras.graph.ir import SystemGraph
from like_keras.msgs.ros_mapping import RosMapping, graph_user_msgs, interfaces_name, msg_definition


def typestore(graph: SystemGraph | None = None) -> Typestore:
    """Jazzy's typestore, plus the Msg types of ``graph``'s ports."""
    store = get_typestore(Stores.ROS2_JAZZY)
    if graph is not None:
        package = interfaces_name(graph)
        for cls in graph_user_msgs(graph):
            store.register(get_types_from_msg(msg_definition(cls, package), f"{package}/msg/{cls.__name__}"))
    return store


@dataclass(frozen=True)
class Codec:
    """One port type's values <-> CDR bytes of its ROS 2 message."""

    mapping: RosMapping
    store: Typestore

    @property
    def ros_type(self) -> str:
        return self.mapping.ros_type

    def encode(self, value: Any, header: tuple[int, str] | None = None) -> memoryview:
        """CDR bytes of ``value``; ``header`` (time in ns, frame): an image's message's header."""
        ros = self.mapping.to_ros(value, self._make) if header is None else self.mapping.to_ros(value, self._make,
                                                                                                header)
        return self.store.serialize_cdr(ros, self.ros_type)

    def decode(self, data: bytes | memoryview) -> Any:
        return self.mapping.from_ros(self.store.deserialize_cdr(data, self.ros_type))

    def _make(self, typename: str, /, **fields: Any) -> Any:
        return self.store.types[typename](**fields)
