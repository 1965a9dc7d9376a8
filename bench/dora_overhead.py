"""Dora transport overhead: like-keras against hand-written Dora nodes, in one run.

(a) two hand-written Dora Python nodes (bench/dora_pingpong/, dora API only) with the
    queue settings and shared memory pool like-keras generates for the same edge;
(b) the same ping-pong as a like-keras system compiled to Dora.
Payloads: float32 arrays of 8 B, 64 KB, 1 MB, 16 MB. Prints median and p99 round trip
for both and the ratio (b)/(a); then the one-way throughput of 20,000 small messages
through like-keras, with the number lost (must be 0).

    .venv/bin/python bench/dora_overhead.py [--count N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from like_keras import Array, Component, Input, Node, Output, System
from like_keras_examples.throughput import Flood

HERE = Path(__file__).resolve().parent
SIZES = [8, 64 * 1024, 1 << 20, 16 << 20]
WARMUP = 10


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


def like_keras_rtts(size: int, count: int, work: Path) -> list[float]:
    out = work / f"lk-{size}.json"
    system = PingPong(size=size, out=str(out))
    system.launch(transport="dora", iterations=count, timeout=600, run_dir=work / f"lk-{size}")
    return json.loads(out.read_text())


def hand_written_rtts(size: int, count: int, work: Path) -> list[float]:
    """The same edge settings as like-keras generates, read from its compiled dataflow."""
    generated = yaml.safe_load(PingPong(size=size).compile_to_transport("dora", work / f"gen-{size}.yml").read_text())
    ping_node, pong_node = generated["nodes"]
    out = work / f"hand-{size}.json"
    nodes = []
    for gen, script, args, output, source in (
        (ping_node, "ping.py", f"{size} {count} {out}", "ping", "pong/pong"),
        (pong_node, "pong.py", "", "pong", "ping/ping"),
    ):
        data_input = next(v for k, v in gen["inputs"].items() if "__" in k)
        node = {"id": gen["id"], "path": sys.executable, "args": f"-u {HERE / 'dora_pingpong' / script} {args}".strip(),
                "inputs": {"x": {**data_input, "source": source}}, "outputs": [output]}
        if "shared_memory_pool_size" in gen:
            node["shared_memory_pool_size"] = gen["shared_memory_pool_size"]
        nodes.append(node)
    flow = work / f"hand-{size}" / "dataflow.yml"
    flow.parent.mkdir(parents=True, exist_ok=True)
    flow.write_text(yaml.safe_dump({"nodes": nodes}, sort_keys=False))
    dora = str(Path(sys.executable).parent / "dora")
    subprocess.run([dora, "run", str(flow)], check=True, capture_output=True, timeout=600,
                   env={**os.environ, "RUST_BACKTRACE": "0"})
    return json.loads(out.read_text())


def stats(rtts: list[float]) -> tuple[float, float]:
    us = np.array(rtts[WARMUP:]) * 1e6
    return float(np.median(us)), float(np.percentile(us, 99))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="round trips per payload size")
    parser.add_argument("--messages", type=int, default=20_000, help="one-way messages")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="like_keras-bench-"))
    print(f"Dora round trips, {args.count} per size (median / p99 in microseconds; first {WARMUP} dropped)")
    print(f"{'payload':>9} {'hand-written':>22} {'like-keras':>22} {'ratio (median)':>15} {'ratio (p99)':>12}")
    for size in SIZES:
        count = args.count if size < (16 << 20) else max(WARMUP + 20, args.count // 3)
        hand = stats(hand_written_rtts(size, count, work))
        lk = stats(like_keras_rtts(size, count, work))
        label = f"{size} B" if size < 1024 else (f"{size >> 10} KB" if size < (1 << 20) else f"{size >> 20} MB")
        print(f"{label:>9} {hand[0]:>10.0f} / {hand[1]:>9.0f} {lk[0]:>10.0f} / {lk[1]:>9.0f} "
              f"{lk[0] / hand[0]:>15.2f} {lk[1] / hand[1]:>12.2f}")
    t0 = time.perf_counter()
    result = Flood().launch(transport="dora", iterations=args.messages, timeout=600, record=["consumer.y"],
                             run_dir=work / "oneway")
    elapsed = time.perf_counter() - t0
    got = result.messages("consumer.y")
    lost = args.messages - len(got)
    in_order = got == list(range(1, len(got) + 1))
    print(f"one-way: {args.messages} messages in {elapsed:.2f} s including start-up "
          f"({args.messages / elapsed:,.0f} msg/s); lost {lost}; in order: {in_order}")
    print(f"(work files: {work})")
    return 0 if lost == 0 and in_order else 1


if __name__ == "__main__":
    sys.exit(main())
