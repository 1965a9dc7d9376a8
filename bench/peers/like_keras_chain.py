"""The peers benchmark's chain in like-keras: source -> relay -> sink, N floats.

The source is stepped by a local echo loop (no timer: as fast as the transport goes).
With ``LK_BENCH_MARKS`` set, the source writes when it began sending and the sink when
the N-th message arrived (``time.perf_counter()``), so start-up is left out.
``Chain(processes=True)`` puts the three stages in three nodes (processes on Dora).
"""

import os
import time

from like_keras import Component, Input, Node, Output, System


def mark(name: str) -> None:
    path = os.environ.get("LK_BENCH_MARKS")
    if path:
        with open(f"{path}.{name}", "w") as f:
            f.write(repr(time.perf_counter()))


class Source(Component):
    again = Input(float)
    out = Output(float)
    loop = Output(float)

    def on_start(self):
        mark("start")
        return {"loop": 0.0}

    def step(self, again):
        return {"out": again, "loop": again + 1.0}


class Echo(Component):
    x = Input(float)
    y = Output(float)

    def step(self, x):
        return x


class Relay(Component):
    x = Input(float)
    y = Output(float)

    def step(self, x):
        return x + 1.0


class Sink(Component):
    x = Input(float)

    def on_start(self):
        self.n = 0
        self.total = int(os.environ.get("LK_BENCH_N", "0"))

    def step(self, x):
        self.n += 1
        if self.n == self.total:
            mark("end")


class Chain(System):
    def __init__(self, processes: bool = False):
        nodes = [Node(n) for n in (("front", "middle", "back") if processes else ("all",))]
        for node in nodes:
            setattr(self, node.name, node)
        self.source = Source.from_node(nodes[0])
        self.echo = Echo.from_node(nodes[0])
        self.relay = Relay.from_node(nodes[1 % len(nodes)])
        self.sink = Sink.from_node(nodes[2 % len(nodes)])
        self.connect(self.source.loop, self.echo.x)
        self.connect(self.echo.y, self.source.again)
        self.connect(self.source.out, self.relay.x)
        self.connect(self.relay.y, self.sink.x)
        super().__init__(config=System.Config(name="peers", clock="source"))
