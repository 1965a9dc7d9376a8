"""Native transport overhead: microseconds per message hop, against direct calls.

Two workloads, each run through like-keras and as plain Python calls of the same
component methods, in one run:
- a 3-component chain (timer source -> relay -> sink), 2 hops per message;
- the cart-pole loop (env <-> agent), 2 hops per env step.

    .venv/bin/python bench/native_overhead.py [--messages N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from like_keras import Component, Input, Output, System
from like_keras_examples.cartpole import BalanceAgent, CartPole, CartPoleEnv

from figures import report


class Source(Component):
    out = Output(float)
    rate_hz = 1000.0

    def on_start(self):
        self.n = 0.0

    def step(self):
        self.n += 1.0
        return self.n


class Relay(Component):
    x = Input(float)
    y = Output(float)

    def step(self, x):
        return x


class Sink(Component):
    x = Input(float)

    def on_start(self):
        self.total = 0.0

    def step(self, x):
        self.total += x


def chain_like_keras(n: int) -> float:
    src, relay, sink = Source(name="source"), Relay(name="relay"), Sink(name="sink")
    system = System(name="chain", components=[src, relay, sink], connections=[(src.out, relay.x), (relay.y, sink.x)])
    t0 = time.perf_counter()
    system.launch(iterations=n)
    elapsed = time.perf_counter() - t0
    assert sink.total == n * (n + 1) / 2
    return elapsed


def chain_direct(n: int) -> float:
    src, relay, sink = Source(), Relay(), Sink()
    t0 = time.perf_counter()
    src.on_start()
    sink.on_start()
    for _ in range(n):
        sink.step(x=relay.step(x=src.step()))
    elapsed = time.perf_counter() - t0
    assert sink.total == n * (n + 1) / 2
    return elapsed


def cartpole_like_keras(n: int) -> float:
    t0 = time.perf_counter()
    CartPole(seed=0).launch(iterations=n)
    return time.perf_counter() - t0


def cartpole_direct(n: int) -> float:
    env, agent = CartPoleEnv(), BalanceAgent()
    t0 = time.perf_counter()
    obs = env.on_start()["obs"]
    for _ in range(n):
        out = env.step(action=agent.step(obs=np.asarray(obs, np.float64)))
        obs = out["obs"]
    return time.perf_counter() - t0


def best_of(fn, n: int, repeats: int) -> float:
    return min(fn(n) for _ in range(repeats))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, r = args.messages, args.repeats

    rows = []
    lk, direct = best_of(chain_like_keras, n, r), best_of(chain_direct, n, r)
    rows.append(("3-component chain", n * 2, lk, direct))
    steps = max(1, n // 10)
    lk, direct = best_of(cartpole_like_keras, steps, r), best_of(cartpole_direct, steps, r)
    rows.append(("cart-pole loop", steps * 2, lk, direct))

    print(f"native transport overhead (best of {r}; python {sys.version.split()[0]})")
    print(f"{'workload':<20} {'hops':>9} {'like-keras us/hop':>18} {'direct us/hop':>14} {'overhead us/hop':>16} {'ratio':>7}")
    for name, hops, lk, direct in rows:
        per, base = lk / hops * 1e6, direct / hops * 1e6
        print(f"{name:<20} {hops:>9} {per:>18.2f} {base:>14.2f} {per - base:>16.2f} {per / base:>7.2f}")
    overhead = statistics.median((lk - d) / h * 1e6 for _, h, lk, d in rows)
    print(f"median overhead per hop: {overhead:.2f} us")
    _, hops, lk, direct = rows[0]
    report("native: overhead per hop, 3-component chain (us)", (lk - direct) / hops * 1e6)
    return 0


if __name__ == "__main__":
    sys.exit(main())
