"""What plugs into a NodeRuntime from outside, as small protocols: the runtime knows the
roles, not the things (bags, the live view) that play them.

- ``Recorder`` takes a copy of each value sent on some ports (``like_keras.recording``);
- ``LiveView`` takes copies of the ports its clients watch (``like_keras.live``);
- ``Feed`` gives an input values from outside the system at its own ticks (a replayed
  input, ``like_keras.recording.replay``);
- ``Paced``: a component that steps on a timer tick only when it says it is due (a
  replayed component).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from like_keras.system.component import Component


class Recorder(Protocol):
    """Takes a copy of each value sent on some ports; ``header`` (time in ns, frame) is the
    header of an image port's ROS message (``like_keras.msgs.header``), else None."""

    def write(self, component: str, port: str, value: Any, time_ns: int,
              header: tuple[int, str] | None = None) -> None: ...


class LiveView(Recorder, Protocol):
    """Takes copies of the values of the ports its clients watch, and calls back with the
    watched ports whenever they change."""

    def watch(self, callback: Callable[[frozenset[tuple[str, str]]], None]) -> None: ...


class Feed(Protocol):
    """Values for ``component.port`` from outside the system: at each of its ticks the
    runtime takes the next value if one is due."""

    component: str
    port: str

    def start(self) -> None: ...

    def due(self) -> bool: ...

    def take(self) -> Any: ...

    @property
    def done(self) -> bool:
        """Nothing is left to take: the run need not wait for this feed any more."""
        ...


class Paced(Component):
    """A component whose timer ticks step it only when ``due()`` says so, and that may
    run out (``done``) of what it sends."""

    def due(self) -> bool:
        raise NotImplementedError

    @property
    def done(self) -> bool:
        return False
