"""Every headline ratio in one table: runs the headline benches ``--runs`` times each and
prints, per figure, the median over the runs, its spread (lowest to highest) and the goal.
``make bench`` runs it; ``docs/benchmarks.md`` keeps the last full run.

    .venv/bin/python bench/summary.py [--runs N] [--smoke] [--only BENCH ...]

``--smoke`` gives every bench tiny sizes: the table's shape, not figures to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from figures import ENV

HERE = Path(__file__).resolve().parent
# bench -> (arguments of a full run, arguments of a smoke run)
BENCHES = {
    "native_overhead.py": ([], ["--messages", "2000", "--repeats", "1"]),
    "peers.py": ([], ["--messages", "300"]),
    "dora_overhead.py": (["--sizes", "8", "1048576"], ["--count", "15", "--sizes", "8", "--messages", "200",
                                                      "--repeat", "1", "--repeat-rtt", "1"]),
    "ros2_overhead.py": (["--sizes", "8", "65536"], ["--count", "15", "--repeat", "1", "--sizes", "8",
                                                    "--messages", "200"]),
    "recording_cost.py": ([], ["--frames", "3", "--repeat", "1"]),
}
# figure name (start) -> the goal it is held to (issue 21)
GOALS = {
    "native: overhead per hop": "<= 1.1",
    "native: ezmsg / like-keras": "",
    "Dora: ezmsg / like-keras": ">= 20",
    "Dora: round trip": "<= 1.10",
    "Dora: one-way": "> 1",
    "ROS 2: round trip": "<= 0.9",
    "ROS 2: one-way": ">= 1.5",
    "recording": "<= 1.5",
}


def run(bench: str, args: list[str], figures: Path) -> None:
    env = {**os.environ, ENV: str(figures)}
    proc = subprocess.run([sys.executable, str(HERE / bench), *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{bench} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def goal(name: str) -> str:
    return next((g for start, g in GOALS.items() if name.startswith(start)), "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each bench")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the benches, quotes nothing")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), help="these benches only")
    args = parser.parse_args()
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="like_keras-summary-") as work:
        for bench in args.only or BENCHES:
            for i in range(args.runs):
                out = Path(work) / f"{bench}-{i}.jsonl"
                print(f"{bench}, run {i + 1} of {args.runs}...", file=sys.stderr, flush=True)
                run(bench, BENCHES[bench][1 if args.smoke else 0], out)
                for line in out.read_text().splitlines():
                    figure = json.loads(line)
                    figures.setdefault(figure["name"], []).append(figure["value"])
    print(f"{platform.node()}: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}"
          f"{' (smoke run: sizes too small to quote)' if args.smoke else ''}")
    width = max(map(len, figures), default=10)
    print(f"| {'figure':<{width}} | median | spread (min to max) | runs | goal |")
    print(f"|{'-' * (width + 2)}|-------:|-------------------:|-----:|------|")
    for name, values in figures.items():
        spread = f"{min(values):.2f} to {max(values):.2f}"
        print(f"| {name:<{width}} | {statistics.median(values):>6.2f} | {spread:>18} | {len(values):>4} | "
              f"{goal(name)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
