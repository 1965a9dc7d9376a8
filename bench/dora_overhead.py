"""Dora transport overhead: like-keras against hand-written Dora nodes, in one run.

(a) two hand-written Dora Python nodes (bench/dora_pingpong/, dora API only) with the
    queue settings and shared memory pool like-keras generates for the same edge;
(b) the same ping-pong as a like-keras system compiled to Dora.
Payloads: float32 arrays of 8 B, 64 KB, 1 MB, 16 MB. Prints median and p99 round trip
for both and the ratio (b)/(a), each side run ``--repeat-rtt`` times in turn and pooled.
Then one-way throughput of small int messages, start-up excluded (the time of a
300,000-message flood minus that of a 100,000 one, best of 3 each): two hand-written Dora
nodes (bench/dora_flood/, one send per message, a backpressure queue) against like-keras'
Flood example unrecorded, lossless and in order (its runners' sequence numbers end a run
on any gap; the values are also checked once from a recorded run).

    .venv/bin/python bench/dora_overhead.py [--count N] [--repeat-rtt N] [--sizes B ...] [--only rtt|throughput]
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

from figures import report
from pingpong import HEADER, SIZES, WARMUP, PingPong, like_keras_rtts, pooled, report_rtt, row, stats

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
    dora_run(nodes, work / f"hand-{size}")
    return json.loads(out.read_text())


def dora_run(nodes: list[dict], folder: Path) -> None:
    """Run hand-written Dora ``nodes`` as a dataflow in ``folder`` with ``dora run``."""
    flow = folder / "dataflow.yml"
    flow.parent.mkdir(parents=True, exist_ok=True)
    flow.write_text(yaml.safe_dump({"nodes": nodes}, sort_keys=False))
    dora = str(Path(sys.executable).parent / "dora")
    subprocess.run([dora, "run", str(flow)], check=True, capture_output=True, timeout=600,
                   env={**os.environ, "RUST_BACKTRACE": "0"})


def _timed(run) -> float:
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def hand_written_flood(count: int, work: Path) -> None:
    """Two bare Dora nodes, no flow control: a backpressure queue as long as the flood
    (Dora drops past 10 x the queue, and with like-keras' 1,000 a free-running sender
    loses messages: a lossless baseline needs the long queue)."""
    queue = {"queue_size": count, "queue_policy": "backpressure"}
    nodes = [
        {"id": "send", "path": sys.executable, "args": f"-u {HERE / 'dora_flood' / 'send.py'} {count}",
         "outputs": ["out"]},
        {"id": "count", "path": sys.executable, "args": f"-u {HERE / 'dora_flood' / 'count.py'} {count}",
         "inputs": {"x": {"source": "send/out", **queue}}},
    ]
    dora_run(nodes, work / f"flood-{count}")


def like_keras_flood(count: int, work: Path, record: bool = False) -> None:
    """The Flood example; its runners end the run on any gap or reordering (sequence numbers),
    so a clean end with every step is lossless and in order. ``record``: also check the values
    the consumer got, from its recording (not timed: the bag's merge and read cost time)."""
    result = Flood().launch(transport="dora", iterations=count, timeout=600,
                            record=["consumer.y"] if record else None, run_dir=work / f"oneway-{count}")
    if result.steps["consumer"] != count:
        raise SystemExit(f"like-keras flood of {count}: the consumer stepped {result.steps['consumer']} times")
    if record and result.messages("consumer.y") != list(range(1, count + 1)):
        raise SystemExit(f"like-keras flood of {count}: lost or out of order")


def throughput(flood, small: int, big: int, work: Path, repeat: int = 3) -> float:
    """Messages per second with start-up excluded: (big - small) / (t(big) - t(small)),
    each time the best of ``repeat`` runs (the machine's noise only ever adds time)."""
    best = {n: min(_timed(lambda: flood(n, work)) for _ in range(repeat)) for n in (small, big)}
    return (big - small) / (best[big] - best[small])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="round trips per payload size")
    parser.add_argument("--messages", type=int, default=100_000,
                        help="one-way messages of the small flood (the big one is 3 times as many)")
    parser.add_argument("--only", choices=["rtt", "throughput"], help="run one half")
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES, help="payload sizes in bytes")
    parser.add_argument("--repeat", type=int, default=3, help="one-way runs of each size, the best kept")
    parser.add_argument("--repeat-rtt", type=int, default=3, help="round-trip runs of each side per size, pooled")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="like_keras-bench-"))
    if args.only != "throughput":
        round_trips(args.count, work, args.sizes, args.repeat_rtt)
    if args.only != "rtt":
        one_way(args.messages, work, args.repeat)
    print(f"(work files: {work})")
    return 0


def round_trips(count_per_size: int, work: Path, sizes: list[int], repeat: int) -> None:
    print(f"Dora round trips, {repeat} x {count_per_size} per size, each side's runs in turn and pooled "
          f"(16 MB: 1 x a third; median / p99 in microseconds; first {WARMUP} of each run dropped)")
    print(HEADER)
    for size in sizes:
        big = size >= (16 << 20)
        count = max(WARMUP + 20, count_per_size // 3) if big else count_per_size
        hand, lk = (stats(r) for r in pooled(lambda: hand_written_rtts(size, count, work),
                                             lambda: like_keras_rtts("dora", size, count, work),
                                             1 if big else repeat))
        print(row(size, hand, lk))
        report_rtt("Dora", size, hand, lk)


def one_way(messages: int, work: Path, repeat: int) -> None:
    small, big = messages, 3 * messages
    print(f"\nOne-way throughput, start-up excluded ({big:,} minus {small:,} int messages, lossless, in order; "
          f"like-keras's values checked from a recorded run of {small:,}, the timed runs unrecorded)")
    like_keras_flood(small, work, record=True)  # the values, once, untimed
    hand = throughput(hand_written_flood, small, big, work, repeat)
    lk = throughput(like_keras_flood, small, big, work, repeat)
    print(f"hand-written Dora {hand:>10,.0f} msg/s")
    print(f"like-keras        {lk:>10,.0f} msg/s   ratio {lk / hand:.2f}")
    report("Dora: one-way msg/s, like-keras / hand-written", lk / hand)


if __name__ == "__main__":
    sys.exit(main())
