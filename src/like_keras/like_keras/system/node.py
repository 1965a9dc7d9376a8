"""``Node``: a process that hosts components, or an external process like-keras did not write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from like_keras.system.component import external_component


class Node:
    """A process. Components placed in the same node talk by direct calls;
    between nodes the transport carries the messages.

    An *external* node is a process like-keras did not write (a plain Dora Python
    script, a Rust or C++ binary): connect ``node.image`` like any component port. Its
    Dora input and output ids are the port names.

    Args:
        name: the node's name, valid as a Dora id and a ROS 2 name.
        machine: the machine it runs on (multi-machine transports).
        executable: an external node's program.
        args: the external program's arguments.
        inputs: an external node's typed input ports, e.g. ``{"cmd": float}``.
        outputs: an external node's typed output ports, e.g. ``{"image": Array(...)}``.
        env: environment variables of the external process.
        lifecycle: a managed node on ROS 2 (``/<node>/change_state``, ``ros2 lifecycle``):
            ``on_start`` runs on activate, ``on_stop`` on deactivate or shutdown, and
            nothing steps while it is not active. Native and Dora run it as a plain node.
        autostart: the launch configures and activates it (lifecycle nodes only); with
            False it waits for a manager, which only ROS 2 has.
    """

    def __init__(
        self,
        name: str,
        *,
        machine: str | None = None,
        executable: str | None = None,
        args: Sequence[str] = (),
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        lifecycle: bool = False,
        autostart: bool = True,
    ) -> None:
        self.name = name
        self.machine = machine
        self.executable = executable
        self.args = tuple(args)
        self.env = dict(env or {})
        self.lifecycle = bool(lifecycle)
        self.autostart = bool(autostart)
        self.external = None
        if executable is not None and lifecycle:
            raise TypeError(f"Node '{name}': lifecycle=True is for nodes like-keras runs, not external programs")
        if not autostart and not lifecycle:
            raise TypeError(f"Node '{name}': autostart=False is for lifecycle nodes; give lifecycle=True too")
        if executable is not None:
            self.external = external_component(self, dict(inputs or {}), dict(outputs or {}))
        elif inputs or outputs:
            raise TypeError(f"Node '{name}': inputs/outputs are for external nodes; give executable=... too")

    def __getattr__(self, attr: str) -> Any:
        external = self.__dict__.get("external")
        if external is not None and not attr.startswith("_"):
            return getattr(external, attr)  # a port of the external process
        raise AttributeError(f"Node '{self.__dict__.get('name')}' has no attribute '{attr}'")

    def __repr__(self) -> str:
        where = f", machine={self.machine!r}" if self.machine else ""
        what = f", executable={self.executable!r}" if self.executable else ""
        managed = ", lifecycle=True" if self.lifecycle else ""
        return f"Node({self.name!r}{where}{what}{managed})"
