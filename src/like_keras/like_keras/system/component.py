"""``Component``: the unit of behaviour, with typed ports and a ``step``."""

from __future__ import annotations

import dataclasses
import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from like_keras.errors import ComponentDefinitionError, ConfigError, InvalidNameError, UnknownPortError
from like_keras.system.ports import Input, Output, _Port

if TYPE_CHECKING:  # a node holds components; a component only names its node
    from like_keras.system.node import Node

# Attributes of Component itself: a port may not shadow them.
_RESERVED = {"name", "node", "config", "step", "on_start", "on_stop", "from_node", "rate_hz", "Config"}


class Component:
    """Subclass me, declare ports as class attributes and implement ``step``.

    - ``step(**inputs)`` gets the latest value of every input as a keyword argument
      and returns a dict of outputs, a single value when there is one output, or None.
    - ``on_start()`` may return outputs (that is how a loop is kicked off);
      ``on_stop()`` runs once at the end.
    - ``rate_hz`` (class attribute or a ``Config`` field) makes the component step on
      a timer as well.
    - An optional nested ``Config`` dataclass holds its parameters (``self.config``).
    """

    rate_hz: ClassVar[float | None] = None
    Config: ClassVar[type | None] = None
    inputs: ClassVar[dict[str, Input]] = {}
    outputs: ClassVar[dict[str, Output]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ins: dict[str, Input] = {}
        outs: dict[str, Output] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, _Port):
                    if attr in _RESERVED:
                        raise InvalidNameError(
                            f"{cls.__qualname__}.{attr}: '{attr}' is reserved by Component; rename the port"
                        )
                    ins.pop(attr, None)
                    outs.pop(attr, None)
                    (ins if isinstance(value, Input) else outs)[attr] = value
        cls.inputs = ins
        cls.outputs = outs
        if cls.Config is not None and not dataclasses.is_dataclass(cls.Config):
            raise ComponentDefinitionError(f"{cls.__qualname__}.Config must be a @dataclass")
        _check_step_signature(cls)

    def __init__(self, name: str | None = None, node: Node | None = None, config: Any = None) -> None:
        self.name = name
        self.node = node
        self.config = self._make_config(config)

    @classmethod
    def from_node(cls, node: Node | None, config: Any = None, name: str | None = None) -> Component:
        """Create the component placed in ``node`` (Keras-style functional helper)."""
        return cls(name=name, node=node, config=config)

    # --- behaviour, overridden by subclasses --------------------------------------

    def on_start(self) -> Any:
        """Called once before the first step; may return outputs."""
        return None

    def step(self, **inputs: Any) -> Any:
        """Called on every trigger; returns outputs (dict, single value, or None)."""
        return None

    def on_stop(self) -> None:
        """Called once when the run ends."""

    # --- helpers -------------------------------------------------------------------

    @property
    def effective_rate_hz(self) -> float | None:
        """The timer rate: a ``rate_hz`` config field wins over the class attribute."""
        rate = getattr(self.config, "rate_hz", None) if self.config is not None else None
        if rate is None:
            rate = type(self).rate_hz
        if rate is None:
            return None
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise ConfigError(
                f"component '{self.name}': rate_hz must be a positive number, got {rate!r}"
            )
        return float(rate)

    @property
    def starts(self) -> bool:
        """True when the class overrides ``on_start`` (it may emit to start a loop)."""
        return type(self).on_start is not Component.on_start

    def _make_config(self, config: Any) -> Any:
        cfg_cls = type(self).Config
        if cfg_cls is None:
            if config is not None and not dataclasses.is_dataclass(config):
                raise ConfigError(
                    f"{type(self).__qualname__} got config={config!r} but declares no Config dataclass"
                )
            return config
        if config is None:
            try:
                return cfg_cls()
            except TypeError as exc:
                raise ConfigError(
                    f"{type(self).__qualname__}.Config has required fields; pass config=... ({exc})"
                ) from None
        if isinstance(config, dict):
            try:
                return cfg_cls(**config)
            except TypeError as exc:
                raise ConfigError(f"{type(self).__qualname__}.Config: {exc}") from None
        if not isinstance(config, cfg_cls):
            raise ConfigError(
                f"{type(self).__qualname__} expects config of type {cfg_cls.__qualname__}, "
                f"got {type(config).__qualname__}"
            )
        return config

    def __getattr__(self, attr: str) -> Any:
        # Only called when normal lookup fails: explain unknown ports clearly.
        if attr.startswith("_"):
            raise AttributeError(attr)
        cls = type(self)
        raise UnknownPortError(
            f"component '{self.__dict__.get('name') or cls.__qualname__}' ({cls.__qualname__}) has no port "
            f"or attribute '{attr}'. Its inputs: {', '.join(cls.inputs) or 'none'}; "
            f"its outputs: {', '.join(cls.outputs) or 'none'}"
        )

    def __repr__(self) -> str:
        where = f" in node '{self.node.name}'" if self.node is not None else ""
        return f"<{type(self).__qualname__} '{self.name}'{where}>"


def _check_step_signature(cls: type[Component]) -> None:
    """``step`` must accept every input as a keyword argument: fail at class creation."""
    if cls.step is Component.step:
        return
    params = inspect.signature(cls.step).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    missing = [n for n in cls.inputs if n not in params]
    if missing:
        raise ComponentDefinitionError(
            f"{cls.__qualname__}.step() does not accept input(s) {', '.join(missing)}: "
            f"add them as parameters (or **inputs)"
        )
    unknown = [
        n for n, p in params.items()
        if n != "self" and p.default is inspect.Parameter.empty and n not in cls.inputs
    ]
    if unknown:
        raise ComponentDefinitionError(
            f"{cls.__qualname__}.step() takes {', '.join(unknown)} but the class declares no such input; "
            f"declare it with Input(T) or give it a default"
        )


class ExternalProcess(Component):
    """Stands for the ports of an external node; it never runs in a like-keras runtime."""


def external_component(node: Node, inputs: dict[str, Any], outputs: dict[str, Any]) -> Component:
    """A component whose ports are those of external node ``node``, placed in it."""
    attrs: dict[str, Any] = {name: Input(t) for name, t in inputs.items()}
    attrs.update({name: Output(t) for name, t in outputs.items()})
    attrs["step"] = lambda self, **inputs: None
    cls = type(f"External_{node.name}", (ExternalProcess,), attrs)
    return cls(name=node.name, node=node)
