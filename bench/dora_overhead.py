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
from pathlib import Path

import yaml

from like_keras_examples.throughput import Flood
from pingpong import HEADER, SIZES, WARMUP, PingPong, like_keras_rtts, row, stats

HERE = Path(__file__).resolve().parent


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="round trips per payload size")
    parser.add_argument("--messages", type=int, default=20_000, help="one-way messages")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="like_keras-bench-"))
    print(f"Dora round trips, {args.count} per size (median / p99 in microseconds; first {WARMUP} dropped)")
    print(HEADER)
    for size in SIZES:
        count = args.count if size < (16 << 20) else max(WARMUP + 20, args.count // 3)
        hand = stats(hand_written_rtts(size, count, work)[WARMUP:])
        lk = stats(like_keras_rtts("dora", size, count, work)[WARMUP:])
        print(row(size, hand, lk))
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
