"""Systems built from a JSON spec, for the fuzz tests (node processes rebuild them from it).

spec = {"name": str, "nodes": [str], "loop": bool, "components": [
    {"name": str, "node": int, "out": KIND, "src": int | None}, ...]}

Component 0 is a timer source (the clock); every other one relays the value of an
earlier component's output, turned deterministically into its own output kind, so the
trace of every port depends only on the order of messages on its edge. With ``loop``, a
ping-pong pair started by ``on_start`` (its own two components, after the others) runs
five rounds.
"""

from dataclasses import dataclass

import numpy as np

from like_keras import Array, Component, Input, Msg, Node, Output, System

KINDS = ["int", "float", "str", "array", "msg", "list"]


class Sample(Msg):
    n: int
    label: str


TYPES = {"int": int, "float": float, "str": str, "array": Array(np.int32, (3,)), "msg": Sample,
         "list": list[int]}


def value(kind: str, n: int):
    return {"int": lambda: n, "float": lambda: n + 0.5, "str": lambda: f"s{n}é",
            "array": lambda: np.array([n, n + 1, n + 2], np.int32), "msg": lambda: Sample(n=n, label=f"l{n}"),
            "list": lambda: [n, n % 7]}[kind]()


def number(kind: str, x) -> int:
    return {"int": lambda: x, "float": lambda: int(x), "str": lambda: int(x[1:-1]), "array": lambda: int(x[0]),
            "msg": lambda: x.n, "list": lambda: x[0]}[kind]()


def _source(kind: str, rate: float) -> type:
    class Source(Component):
        out = Output(TYPES[kind])
        rate_hz = rate

        def on_start(self):
            self.n = 0

        def step(self):
            self.n += 1
            return value(kind, self.n)

    return Source


def _relay(kind_in: str, kind_out: str, salt: int) -> type:
    class Relay(Component):
        x = Input(TYPES[kind_in])
        out = Output(TYPES[kind_out])

        def step(self, x):
            return value(kind_out, (number(kind_in, x) * 7 + salt) % 1000)

    return Relay


class Ping(Component):
    back = Input(int)
    there = Output(int)

    def on_start(self):
        return 0

    def step(self, back):
        return back + 1 if back < 5 else None


class Pong(Component):
    there = Input(int)
    back = Output(int)

    def step(self, there):
        return there


def Random(spec: dict) -> System:  # noqa: N802 - a factory named like the systems it makes
    nodes = [Node(name) for name in spec["nodes"]]
    comps, kinds, connections = [], [], []
    for i, c in enumerate(spec["components"]):
        node = nodes[c["node"] % len(nodes)]
        if c["src"] is None:
            cls = _source(c["out"], 50.0)
        else:
            cls = _relay(kinds[c["src"]], c["out"], i)
        comp = cls(name=c["name"], node=node)
        if c["src"] is not None:
            connections.append((comps[c["src"]].out, comp.x))
        comps.append(comp)
        kinds.append(c["out"])
    if spec.get("loop"):
        ping = Ping(name="ping", node=nodes[0])
        pong = Pong(name="pong", node=nodes[-1])
        comps += [ping, pong]
        connections += [(ping.there, pong.there), (pong.back, ping.back)]
    return System(name=spec["name"], nodes=nodes, components=comps, connections=connections,
                  clock=spec["components"][0]["name"])



class Settings(Component):
    """Says, from ``on_start``, the Config it was given (as JSON: every value, exactly)."""

    said = Output(str)

    @dataclass
    class Config:
        text: str = ""
        number: int = 0
        ratio: float = 0.0

    def on_start(self):
        import json

        return json.dumps([self.config.text, self.config.number, self.config.ratio])


class Listener(Component):
    said = Input(str)

    def step(self, said):
        pass


def Configured(text: str, number: int, ratio: float) -> System:  # noqa: N802 - a factory, named like a system
    """A Settings component in each of two nodes, each given the same Config."""
    config = {"text": text, "number": number, "ratio": ratio}
    a, b = Node("first"), Node("second")
    one, two = Settings(name="one", node=a, config=config), Settings(name="two", node=b, config=config)
    ear_a, ear_b = Listener(name="ear_a", node=a), Listener(name="ear_b", node=b)
    return System(name="configured", nodes=[a, b], components=[one, two, ear_a, ear_b],
                  connections=[(one.said, ear_b.said), (two.said, ear_a.said)])
