"""Where the start-up of a Dora run goes: the cart-pole's 2-node dataflow run for one
step, its timeline from ``launch()`` (each node reports when it reached each stage).

    .venv/bin/python bench/dora_startup.py [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from like_keras_examples.cartpole import CartPole

STAGES = ["process up", "system rebuilt", "dora ready", "on_start done", "finished"]


def once() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        t0 = time.time()
        CartPole().launch(transport="dora", iterations=1, run_dir=run_dir, timeout=60)
        end = time.time() - t0
        compiled = (run_dir / "dataflow.yml").stat().st_mtime - t0
        nodes = [json.loads(f.read_text())["times"] for f in (run_dir / "results").glob("*.json")]
    out = {"dataflow written": compiled}
    for stage in STAGES:  # the slowest node decides
        out[stage] = max(times[stage] for times in nodes) - t0
    out["launch() returned"] = end
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [once() for _ in range(args.repeat)]
    print(f"Dora start-up, cart-pole (2 nodes), 1 step; median of {args.repeat}, seconds since launch()")
    previous = 0.0
    for stage in runs[0]:
        t = statistics.median(r[stage] for r in runs)
        print(f"  {stage:<20} {t:6.2f}  (+{t - previous:.2f})")
        previous = t


if __name__ == "__main__":
    main()
