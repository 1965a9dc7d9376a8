"""Every error like-keras raises on purpose.

Build-time errors (``GraphError`` and its subclasses) are raised before anything
runs; run-time errors (``RunError`` and its subclasses) end a run. Each message
names the component, port, node or file at fault and says what to do.
"""

from __future__ import annotations


class LikeKerasError(Exception):
    """Base class of every like-keras error."""


# --- build time -----------------------------------------------------------------


class GraphError(LikeKerasError):
    """The system description is wrong; raised before anything runs."""


class PortTypeMismatchError(GraphError):
    """Two connected ports carry different types."""


class UnknownPortError(GraphError, AttributeError):
    """A port name that the component does not declare."""


class InvalidConnectionError(GraphError):
    """A connection that is not output -> input, or uses a foreign component."""


class FanInError(GraphError):
    """Two sources connected to one input."""


class DuplicateNameError(GraphError):
    """Two components or two nodes share a name."""


class MissingNodeError(GraphError):
    """A component has no node in a system with several nodes."""


class InvalidNameError(GraphError):
    """A name that is not valid on every transport (Dora id and ROS 2 name)."""


class UnstartableCycleError(GraphError):
    """An input-triggered cycle that nothing starts: it would never step."""


class NoClockError(GraphError):
    """``iterations`` was given but no component can be the clock."""


class ComponentDefinitionError(GraphError):
    """A Component class that cannot work (e.g. ``step`` does not accept its inputs)."""


class PortTypeError(ComponentDefinitionError, TypeError):
    """A port declared with something that is not a port type (``Input(dict)``)."""


class ConfigError(GraphError):
    """A component or system configuration that cannot be used."""


class RecordError(GraphError):
    """A ``record=[...]`` entry that names no output port."""


class ReplayError(GraphError):
    """A ``replay={...}`` entry that does not fit: no such component, no such topic in
    the bag, or the bag's type is not the port's."""


# --- loading and transports -----------------------------------------------------


class TargetError(LikeKerasError):
    """A ``path/file.py:Name`` or ``package.module:Name`` target that cannot be loaded."""


class TransportError(LikeKerasError):
    """An unknown transport, or a transport that cannot run here."""


# --- run time -------------------------------------------------------------------


class RunError(LikeKerasError):
    """A run ended because something failed.

    ``component``, ``node``, ``step`` and ``machine`` (across machines) say where; for an exception raised inside
    ``step`` the original exception is chained as ``__cause__`` (in the same process)
    or its traceback text is in ``remote_traceback`` (from another process).
    ``recording``: what was recorded before the failure (when ``record`` was given).
    """

    recording = None  # a Path, set by the transport that ended the run

    def __init__(
        self,
        message: str,
        *,
        component: str | None = None,
        node: str | None = None,
        step: int | None = None,
        remote_traceback: str | None = None,
        machine: str | None = None,
    ) -> None:
        if remote_traceback:
            message = f"{message}\n\nOriginal traceback:\n{remote_traceback.rstrip()}"
        super().__init__(message)
        self.component = component
        self.node = node
        self.step = step
        self.remote_traceback = remote_traceback
        self.machine = machine


class UndeclaredOutputError(RunError):
    """``step`` or ``on_start`` returned a value for an output the component does not declare."""


class ValueTypeError(RunError):
    """A value sent on a port does not match the port's declared type."""


class RunTimeoutError(RunError):
    """The run did not end within ``timeout`` seconds."""
