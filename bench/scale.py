"""How like-keras scales with the size of a system: build, compile to Dora and to ROS 2,
and a short native run, for a chain of 100, 1,000 and 10,000 components (20 components
per node), with each step's growth from one size to the next (10x the components:
linear is about 10x).

    .venv/bin/python bench/scale.py [--sizes 100 1000 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from like_keras import Component, Input, Node, Output, System

PER_NODE = 20


class Source(Component):
    out = Output(float)
    rate_hz = 100.0

    def step(self):
        return 1.0


class Relay(Component):
    x = Input(float)
    y = Output(float)

    def step(self, x):
        return x + 1.0


class Sink(Component):
    x = Input(float)

    def step(self, x):
        pass


class Chain(System):
    """``size`` components in a line, ``PER_NODE`` to a node."""

    def __init__(self, size: int = 1000):
        nodes = [Node(f"n{i}") for i in range((size + PER_NODE - 1) // PER_NODE)]
        for i, node in enumerate(nodes):
            setattr(self, f"n{i}", node)
        comps = [Source.from_node(nodes[0], name="c0")]
        comps += [Relay.from_node(nodes[i // PER_NODE], name=f"c{i}") for i in range(1, size - 1)]
        comps.append(Sink.from_node(nodes[(size - 1) // PER_NODE], name=f"c{size - 1}"))
        for comp in comps:
            setattr(self, comp.name, comp)
        for a, b in zip(comps, comps[1:]):
            self.connect(a.out if a is comps[0] else a.y, b.x)
        super().__init__(config=System.Config(name="chain"))


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(size: int) -> dict[str, float]:
    from like_keras.transports.dora.compiler import dataflow
    from like_keras_ros.compiler import compile as ros2_compile

    system = Chain(size)
    system.__dict__["_target_ref"] = (f"{Path(__file__).resolve()}:Chain", {"size": size})
    out: dict[str, float] = {}
    graph = None

    def build():
        nonlocal graph
        graph = system.build()

    out["build"] = timed(build)
    out["compile to Dora"] = timed(lambda: dataflow(graph))
    with tempfile.TemporaryDirectory() as tmp:
        out["compile to ROS 2"] = timed(lambda: ros2_compile(graph, Path(tmp)))
    out["native run, 3 ticks"] = timed(lambda: system.launch(iterations=3))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 10000])
    args = parser.parse_args()
    sys.setrecursionlimit(10000)
    rows = {size: measure(size) for size in args.sizes}
    steps = list(next(iter(rows.values())))
    print(f"{'components':>10} " + " ".join(f"{s:>20}" for s in steps))
    previous = None
    for size, row in rows.items():
        cells = []
        for s in steps:
            growth = f" (x{row[s] / previous[s]:.1f})" if previous and previous[s] > 0 else ""
            cells.append(f"{row[s] * 1e3:9.1f} ms{growth:>8}")
        print(f"{size:>10} " + " ".join(f"{c:>20}" for c in cells))
        previous = row


if __name__ == "__main__":
    main()
