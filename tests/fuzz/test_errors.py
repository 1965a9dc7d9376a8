"""Fuzzing bad input (hypothesis): whatever a user gets wrong while describing a system,
like-keras answers with one of its own errors (``like_keras.errors``) naming what is at
fault, never a bare KeyError, AttributeError or TypeError from inside it."""

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from like_keras import Array, Component, Input, Msg, Node, Output, System
from like_keras.errors import LikeKerasError


class Point(Msg):
    x: float
    label: str


TYPES = [int, float, str, bool, bytes, np.float32, Array(np.float32, (3,)), Array(np.uint8, (2, 2)), Point,
         list[int], list[Point]]
BAD_TYPES = [dict, set, object, None, "int", 3, list, list[dict], Array, np.ndarray, tuple[int, int]]
VALID = st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,3})?", fullmatch=True)
# Mostly valid names and types, so that most examples get as far as build(); the rest
# are every kind of wrong.
BAD_NAMES = st.one_of(
    st.sampled_from(["", "a__b", "1abc", "dora", "_x", "x-y", "né", "A B", "name", "step", "ü" * 3, "a" * 300]),
    st.text(max_size=12),
)
NAMES = st.integers(0, 9).flatmap(lambda i: VALID if i < 8 else BAD_NAMES)
PORT_TYPES = st.sampled_from(TYPES * 8 + BAD_TYPES)


def _component_class(ports: list[tuple[str, bool, object]]) -> type:
    """A Component subclass with these (name, is_input, type) ports, or the error it raised."""
    attrs = {"__module__": __name__}
    for name, is_input, t in ports:
        attrs[name] = Input(t) if is_input else Output(t)
    return type("Fuzzed", (Component,), attrs)


def _names_it(err: Exception, names: set[str]) -> bool:
    text = str(err)
    return any((n or "''") in text for n in names)  # an empty name is shown as ''


def _attempt(fn, names: set[str]) -> object:
    """Run ``fn``: it succeeds, or raises a like-keras error that names one of ``names``."""
    try:
        return fn()
    except LikeKerasError as err:
        assert str(err).strip(), f"{type(err).__name__} with no message"
        assert _names_it(err, names), f"{type(err).__name__} names none of {sorted(names)}: {err}"
        return err
    # anything else propagates: the test fails with its traceback


port_specs = st.lists(
    st.tuples(NAMES, st.booleans(), PORT_TYPES),
    min_size=1, max_size=4,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(port_specs, min_size=1, max_size=4), st.lists(NAMES, min_size=1, max_size=4),
       st.lists(NAMES, min_size=1, max_size=3), st.data())
def test_any_construction_succeeds_or_raises_a_like_keras_error_naming_the_culprit(specs, comp_names, node_names,
                                                                                  data):
    every_name = {n for spec in specs for n, _, _ in spec} | set(comp_names) | set(node_names) | {"Fuzzed"}
    every_name |= {(t.__name__ if isinstance(t, type) else repr(t))[:60] for spec in specs for _, _, t in spec}
    classes = [c for spec in specs if isinstance(c := _attempt(lambda s=spec: _component_class(s), every_name), type)]
    if not classes:
        event("no component class")
        return
    nodes = [n for name in node_names if isinstance(n := _attempt(lambda name=name: Node(name), every_name), Node)]
    comps = []
    for i, name in enumerate(comp_names):
        cls = classes[i % len(classes)]
        node = data.draw(st.sampled_from([None, *nodes])) if nodes else None
        comp = _attempt(lambda: cls(name=name, node=node), every_name)
        if isinstance(comp, Component):
            comps.append(comp)
    if not comps:
        return
    system = _attempt(lambda: System(name=data.draw(NAMES), components=comps), every_name | {"system"})
    if not isinstance(system, System):
        return
    every_name.add(system.__dict__.get("config").name if hasattr(system, "config") else "")
    ports = [(c, p) for c in comps for p in [*type(c).inputs, *type(c).outputs]]
    for _ in range(data.draw(st.integers(0, 6))):
        if not ports:
            break
        (a, pa), (b, pb) = data.draw(st.sampled_from(ports)), data.draw(st.sampled_from(ports))
        how = data.draw(st.sampled_from(["ref", "str", "bad"]))
        if how == "ref":
            src, dst = getattr(a, pa), getattr(b, pb)
        elif how == "str":
            src, dst = f"{a.name}.{pa}", f"{b.name}.{pb}"
        else:
            src, dst = data.draw(st.sampled_from([f"{a.name}.nope", "nodot", f"nobody.{pa}", 3, None])), getattr(b, pb)
        _attempt(lambda: system.connect(src, dst), every_name | {str(src), str(dst)})
    built = _attempt(system.build, every_name)
    event(f"build: {type(built).__name__}")
