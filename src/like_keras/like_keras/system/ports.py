"""``Input`` and ``Output``: typed ports declared on a Component class.

Ports are class-level declarations; reading one from a component instance gives a
``PortRef`` bound to that instance, which is what ``System.connect`` takes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from like_keras.errors import PortTypeError
from like_keras.msgs.header import has_header
from like_keras.msgs.ros_mapping import is_transform
from like_keras.system import types

if TYPE_CHECKING:
    from like_keras.system.component import Component

_NO_DEFAULT: Any = object()


class _Port:
    direction = ""

    def __init__(self, type_: Any) -> None:
        try:
            self.type = types.check_type(type_)
        except TypeError as exc:
            shown = type_.__name__ if isinstance(type_, type) else repr(type_)
            raise PortTypeError(f"{type(self).__name__}({shown[:60]}): {exc}") from None
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Component | None, owner: type) -> Any:
        if instance is None:
            return self
        return PortRef(instance, self)

    def __set__(self, instance: Component, value: Any) -> None:
        raise AttributeError(
            f"{type(instance).__name__}.{self.name} is a port; a component sends on it by returning "
            f"{{'{self.name}': value}} from step() or on_start(); to keep a value, store it under "
            f"another attribute name (e.g. self.last_{self.name})"
        )


class Input(_Port):
    """An input port: ``step`` receives its latest value as a keyword argument.

    Args:
        type_: what it carries: bool, int, float, str, bytes, ``Array(dtype, shape)``, a
            ``Msg`` subclass or a ROS 2 message of ``like_keras.msgs.ros``.
        trigger: a message on this input makes the component step (default). With
            False the input is sampled: ``step`` sees its latest value when something
            else triggers it.
        default: the value ``step`` sees before the first message (else None).
        keep_last: opt this input into lossy delivery: transports may keep only the
            newest N messages. The default is lossless.
        topic: feed the input from outside the system: on ROS 2 it subscribes to that
            topic, which ROS nodes like-keras did not write publish (an input with a
            topic takes no connection); elsewhere it stays at its default unless a run
            replays it.
        latched: not for inputs (an error that says what to do instead).
    """

    direction = "input"

    def __init__(
        self, type_: Any, *, trigger: bool = True, default: Any = _NO_DEFAULT, keep_last: int | None = None,
        topic: str | None = None, latched: bool = False,
    ) -> None:
        super().__init__(type_)
        if latched:
            raise ValueError(
                "Input(latched=True): latching is an output's promise (Output(T, latched=True)). An input "
                "connected to a latched output gets every message anyway; to read a latched topic from "
                "outside (e.g. /map), set its subscription's durability in the parameter file: "
                "qos_overrides./map.subscription.durability: transient_local"
            )
        if keep_last is not None and (not isinstance(keep_last, int) or keep_last < 1):
            raise ValueError(f"Input: keep_last must be a positive int or None, got {keep_last!r}")
        self.trigger = bool(trigger)
        self.keep_last = keep_last
        self.topic = topic
        self.has_default = default is not _NO_DEFAULT
        self.default = default if self.has_default else None


class Output(_Port):
    """An output port: the component sends on it by returning ``{name: value}``.

    Args:
        type_: what it carries (the types ``Input`` takes).
        topic: the name a topic-based transport (ROS 2) gives it, instead of
            ``/<system>/<component>/<port>``; ROS nodes like-keras did not write read it there.
        image: mark a uint8 (H, W, 3) or (H, W) Array as an image (sensor_msgs/Image on
            ROS 2, in recordings and in the live view).
        frame_id: the frame of what it sends, for a port whose message has a
            ``std_msgs/Header`` (an image, ``PoseStamped``...): every message leaves stamped
            with its step's time and framed so (``like_keras.msgs.header``; a Config field
            ``frame_id`` or ``<port>_frame_id`` overrides it).
        latched: keep the last message for subscribers that come later, as ROS latches
            maps, robot descriptions and /tf_static (on ROS 2: reliable, transient local,
            keep last 1, published even when no like-keras node reads it). Inside a
            system every message arrives anyway, so native and Dora runs are unchanged.
        tf: send a ``TransformStamped`` (or a list of them) as transforms: a
            tf2_msgs/TFMessage on /tf (/tf_static when latched) on ROS 2, in recordings
            and in the live view, where tf listeners and Foxglove's 3D panel find them.
    """

    direction = "output"

    def __init__(self, type_: Any, *, topic: str | None = None, image: bool = False,
                 frame_id: str | None = None, latched: bool = False, tf: bool = False) -> None:
        super().__init__(type_)
        if image:
            t = self.type
            ok = isinstance(t, types.Array) and t.dtype == "uint8" and (
                len(t.shape) == 2 or (len(t.shape) == 3 and t.shape[2] in (1, 3, None)))
            if not ok:
                raise TypeError(f"Output(image=True) needs Array(np.uint8, (H, W, 3)) or (H, W), got {t!r}")
        if frame_id is not None:  # its name is checked with the port's (graph.validation)
            if not has_header(self.type, image):
                raise TypeError(f"Output(frame_id={frame_id!r}): a {types.describe(self.type)} has no "
                                f"std_msgs/Header to put a frame in; frame_id is for images (image=True) "
                                f"and messages with a header (Image, PoseStamped, TransformStamped...)")
        self.topic = topic
        self.image = bool(image)
        if tf and not is_transform(self.type):
            raise TypeError(f"Output(tf=True) carries transforms: a TransformStamped or a list of them "
                            f"(from like_keras.msgs import TransformStamped), got {types.describe(self.type)}")
        self.frame_id = frame_id
        self.latched = bool(latched)
        self.tf = bool(tf)


class PortRef:
    """A port of one component instance, e.g. ``system.env.obs``."""

    __slots__ = ("component", "port")

    def __init__(self, component: Component, port: _Port) -> None:
        self.component = component
        self.port = port

    @property
    def name(self) -> str:
        return self.port.name

    @property
    def is_input(self) -> bool:
        return isinstance(self.port, Input)

    def __repr__(self) -> str:
        owner = self.component.name or type(self.component).__name__
        return f"{owner}.{self.port.name}"
