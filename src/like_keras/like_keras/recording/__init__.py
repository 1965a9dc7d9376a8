"""Recordings: rosbag2 bags of the values a run's output ports sent, on every transport.

``launch(record=["camera.image", ...])`` gives ``result.recording``: a rosbag2 bag (a
directory holding ``metadata.yaml`` and one MCAP file) of CDR-encoded ROS 2 messages
with ``ros2msg`` schemas; a port's topic and type are its ROS 2 topic and type
(``/<system>/<component>/<port>`` or its own ``topic``). rosbags, ``ros2 bag info``
and Foxglove read it as any bag. ``read_messages`` and ``result.messages(port)`` give
back the exact values sent.

Each process records its own ports into a part as it runs (``part.py``: crash-safe);
whoever launched the run merges the parts into the bag (``bag.py``) at its end, a
failed, killed, timed-out or interrupted end included. ``cdr.py`` turns values into
messages and bytes.
"""

from __future__ import annotations

from typing import Any

from like_keras.errors import RecordError
from like_keras.graph.ir import SystemGraph
from like_keras.msgs.ros_mapping import port_mapping

__all__ = ["PartWriter", "parse_record", "read_messages", "write_bag"]
_LAZY = {"read_messages": "bag", "write_bag": "bag", "PartWriter": "part"}


def __getattr__(name: str) -> Any:
    """The bag and part modules (rosbags, mcap) load on first use, so that a light
    submodule (``replay``, which ``import like_keras`` needs) does not pay for them."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)


def parse_record(graph: SystemGraph, record: list[str]) -> frozenset[tuple[str, str]]:
    """Check ``record`` entries (``"component.port"``) against the graph."""
    out = set()
    for key in record:
        comp_name, _, port = key.partition(".")
        try:
            comp = graph.component(comp_name)
        except KeyError:
            raise RecordError(
                f"record: '{key}' names no component; components are "
                f"{', '.join(c.name for c in graph.components)}"
            ) from None
        if port not in {p.name for p in comp.outputs}:
            feeding = [f"{c.src}.{c.src_port}" for c in graph.connections if (c.dst, c.dst_port) == (comp_name, port)]
            hint = f": it is an input fed by '{feeding[0]}', record that" if feeding else ""
            raise RecordError(
                f"record: '{key}' is not an output port of '{comp_name}'{hint}. "
                f"Its outputs: {', '.join(p.name for p in comp.outputs) or 'none'}"
            )
        try:
            port_mapping(graph, comp_name, port)
        except TypeError as exc:
            raise RecordError(f"record: '{key}' cannot go in a rosbag2 bag: {exc}") from None
        out.add((comp_name, port))
    return frozenset(out)
