"""The live view: a Foxglove WebSocket server that streams a running system's ports.

``launch(..., live=True)`` (``lk run --live``) serves, for the length of the run, the
ports being recorded (every output when ``record`` is not given) on the topics, with
the ROS 2 types and the CDR bytes of the recordings (``recording.cdr``), so Foxglove
shows images as images and numbers as plots. ``Live(host, port)`` says where to
listen: localhost by default, another host only when asked.

The server lives in the launching process (``server.py``). Natively the run hands it
each value; a Dora or ROS 2 node process sends the values of the ports a client
watches to it over a local socket (``feed.py``). Nothing is encoded for a port no
client watches, and a slow client or a lagging launcher loses messages for the
viewer only: the run never waits for the view.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from like_keras.graph.ir import SystemGraph

DEFAULT_PORT = 8765  # Foxglove's default for a WebSocket connection


@dataclass(frozen=True)
class Live:
    """Where the live view of ``launch(live=Live(...))`` listens.

    Args:
        host: the address to listen on; anything other than localhost opens the view to
            the network.
        port: the WebSocket port (Foxglove's default); 0 takes any free port.
        wait: seconds to wait, before the run starts, for a client to subscribe to a
            channel (for a simulated-time run that would otherwise end too soon).
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    wait: float = 0.0


def live_ports(graph: SystemGraph, record: Sequence[str]) -> frozenset[tuple[str, str]]:
    """The ports a live view streams: ``record``'s, else every output of the system's own
    components that has a ROS 2 message (``Any`` ports have none: they are not shown)."""
    from like_keras.msgs.ros_mapping import port_mapping
    from like_keras.recording import parse_record

    if record:
        return parse_record(graph, list(record))
    out = set()
    for comp in graph.components:
        if graph.is_external(comp.name):
            continue  # an external process: its values never pass through like-keras
        for port in comp.outputs:
            try:
                port_mapping(graph, comp.name, port.name)
            except TypeError:
                continue
            out.add((comp.name, port.name))
    return frozenset(out)


@contextmanager
def serve(graph: SystemGraph, live: bool | Live, record: Sequence[str]) -> Iterator[object | None]:
    """A LiveServer for the length of the ``with`` (None when ``live`` is false)."""
    if live is False or live is None:
        yield None
        return
    if live is True:
        live = Live()
    if not isinstance(live, Live):
        from like_keras.errors import ConfigError

        raise ConfigError(f"live takes True, False or like_keras.Live(host, port), got {live!r}")
    from like_keras.live.server import LiveServer

    server = LiveServer(graph, live_ports(graph, record), live)
    try:
        server.wait_for_client(live.wait)
        yield server
    finally:
        server.close()
