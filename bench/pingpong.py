"""The like-keras side of the round-trip benchmarks, shared by every transport's bench:
a ping-pong system of float32 arrays, timed inside its components, and the table rows."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from like_keras import Array, Component, Input, Node, Output, System

from figures import report

SIZES = [8, 64 * 1024, 1 << 20, 16 << 20]
WARMUP = 10  # first round trips of a run, dropped
HEADER = f"{'payload':>9} {'hand-written':>22} {'like-keras':>22} {'ratio (median)':>15} {'ratio (p99)':>12}"


def make_ping_pong(size: int):
    t = Array(np.float32, (size // 4,))

    class Ping(Component):
        pong = Input(t)
        ping = Output(t)

        @dataclass
        class Config:
            out: str = ""

        def on_start(self):
            self.payload = np.ones(size // 4, np.float32)
            self.rtts = []
            self.t0 = time.perf_counter()
            return self.payload

        def step(self, pong):
            self.rtts.append(time.perf_counter() - self.t0)
            self.t0 = time.perf_counter()
            return self.payload

        def on_stop(self):
            Path(self.config.out).write_text(json.dumps(self.rtts))

    class Pong(Component):
        ping = Input(t)
        pong = Output(t)

        def step(self, ping):
            return ping

    return Ping, Pong


class PingPong(System):
    def __init__(self, size: int = 8, out: str = ""):
        ping_cls, pong_cls = make_ping_pong(size)
        self.a = Node("ping")
        self.b = Node("pong")
        self.ping = ping_cls.from_node(self.a, config={"out": out})
        self.pong = pong_cls.from_node(self.b)
        self.connect(self.ping.ping, self.pong.ping)
        self.connect(self.pong.pong, self.ping.pong)
        super().__init__(config=System.Config(name="pingpong"))


def like_keras_rtts(transport: str, size: int, count: int, work: Path) -> list[float]:
    """Round-trip times (s) of ``count`` pings through like-keras on ``transport``."""
    out = work / f"lk-{size}.json"
    system = PingPong(size=size, out=str(out))
    system.launch(transport=transport, iterations=count, timeout=600, run_dir=work / f"lk-{size}")
    return json.loads(out.read_text())


def pooled(hand: Callable[[], list[float]], lk: Callable[[], list[float]], repeat: int
           ) -> tuple[list[float], list[float]]:
    """Hand-written and like-keras runs in turn, ``repeat`` times, pooled (first WARMUP of each
    dropped): one unlucky process placement on 2 cores does not decide a ratio."""
    hand_rtts: list[float] = []
    lk_rtts: list[float] = []
    for _ in range(repeat):
        hand_rtts += hand()[WARMUP:]
        lk_rtts += lk()[WARMUP:]
    return hand_rtts, lk_rtts


def stats(rtts: list[float]) -> tuple[float, float]:
    """Median and p99, in microseconds."""
    us = np.array(rtts) * 1e6
    return float(np.median(us)), float(np.percentile(us, 99))


def label(size: int) -> str:
    return f"{size} B" if size < 1024 else (f"{size >> 10} KB" if size < (1 << 20) else f"{size >> 20} MB")


def row(size: int, hand: tuple[float, float], lk: tuple[float, float]) -> str:
    return (f"{label(size):>9} {hand[0]:>10.0f} / {hand[1]:>9.0f} {lk[0]:>10.0f} / {lk[1]:>9.0f} "
            f"{lk[0] / hand[0]:>15.2f} {lk[1] / hand[1]:>12.2f}")


def report_rtt(transport: str, size: int, hand: tuple[float, float], lk: tuple[float, float]) -> None:
    """The median round trip's ratio as a headline figure."""
    report(f"{transport}: round trip {label(size)}, like-keras / hand-written", lk[0] / hand[0])
