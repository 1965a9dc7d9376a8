"""What the live view costs a run: the throughput flood (small messages, as fast as the
CPU goes, every one of them lossless) with ``live`` off, then on with no client, with a
Foxglove client watching every topic and reading, and with a client watching every
topic that reads nothing, in one run of this script. A ratio under 1 is a slower run.

The view may drop messages for its clients; the system never loses one (each run's
step counts are checked).

    .venv/bin/python bench/live_view.py [--transport native|dora|all] [--iterations N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from like_keras import Live
from like_keras_examples.throughput import Flood

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from foxglove_client import FoxgloveClient, free_port  # noqa: E402  (the tests' Foxglove WebSocket client)

TOPICS = {"/flood/producer/out", "/flood/producer/loop", "/flood/echo/y", "/flood/consumer/y"}
ITERATIONS = {"native": 200_000, "dora": 200_000}


def run(transport: str, iterations: int, client: str | None) -> tuple[float, int]:
    """(messages a second the producer sent, messages the client got) of one run.
    ``client``: None (live off), "none" (live on, nobody connected), "reads" or "stalls" (a
    Foxglove client in a process of its own, as Foxglove is)."""
    live: bool | Live = False
    proc = None
    if client is not None:
        port = free_port()
        live = Live(port=port, wait=30 if client != "none" else 0)
        if client != "none":
            proc = subprocess.Popen([sys.executable, __file__, "--client", str(port), client], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
    result = Flood().launch(transport=transport, iterations=iterations, live=live, timeout=300)
    assert result.steps["consumer"] == iterations, result.steps  # the system lost nothing
    got = int(proc.communicate(timeout=120)[0]) if proc is not None else 0
    return iterations / result.duration, got


def watch(port: int, mode: str) -> None:
    """The client process: subscribe to every topic, read (or not) until the server closes;
    print how many messages it got."""
    c = FoxgloveClient(f"ws://127.0.0.1:{port}")
    c.read_until_advertised(TOPICS)
    c.subscribe(TOPICS)
    if mode == "reads":
        c.read_in_background()
        c.closed.wait(120)
    else:
        while c.ws.state.name == "OPEN":  # until the server goes, reading nothing
            c.closed.wait(0.05)
    print(len(c.received))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["native", "dora", "all"], default="all")
    parser.add_argument("--iterations", type=int, help="messages per run (default: 200,000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--client", nargs=2, metavar=("PORT", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return watch(int(args.client[0]), args.client[1])
    for transport in (["native", "dora"] if args.transport == "all" else [args.transport]):
        n = args.iterations or ITERATIONS[transport]
        run(transport, min(n, 5000), None)  # warm-up: imports, page cache
        print(f"live view on {transport}: the flood, {n:,} messages a run (each sent 4 times: 4 topics), "
              f"median of {args.repeat}")
        base = None
        for label, client in [("live off", None), ("live, no client", "none"),
                              ("live, a client reading all topics", "reads"),
                              ("live, a client that reads nothing", "stalls")]:
            runs = [run(transport, n, client) for _ in range(args.repeat)]
            rate = statistics.median(r for r, _ in runs)
            base = base or rate
            shown = f"; the client got {statistics.median(g for _, g in runs):,.0f} of {4 * n:,}" if client in (
                "reads", "stalls") else ""
            print(f"  {label:36s} {rate:10,.0f} msg/s  ratio {rate / base:.2f}{shown}")


if __name__ == "__main__":
    main()
