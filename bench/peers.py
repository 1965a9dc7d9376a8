"""like-keras beside a peer: the same 3-stage chain (source -> relay -> sink, N float
messages, lossless) through like-keras and through ezmsg (PyPI ``ezmsg``), in one
process (like-keras native, ezmsg single-process) and across processes (like-keras on
Dora, ezmsg with a process per unit), in one run. Prints microseconds per message per
hop (start-up excluded: from the first message sent to the last received) and the
ratio like-keras / ezmsg.

    .venv/bin/python bench/peers.py [--messages N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from figures import report

HERE = Path(__file__).resolve().parent / "peers"
HOPS = 2
# Each run's limit: far above a full run (seconds), and well under the smoke test's 600 s,
# so that a run that hangs fails naming its side (like-keras or ezmsg).
RUN_TIMEOUT_S = 120


def elapsed(marks: str) -> float:
    start = float(Path(f"{marks}.start").read_text())
    end = float(Path(f"{marks}.end").read_text())
    return end - start


def like_keras(n: int, processes: bool, tmp: str) -> float:
    from like_keras.transports.common.target import load_system

    marks = os.path.join(tmp, f"lk-{processes}")
    os.environ.update(LK_BENCH_MARKS=marks, LK_BENCH_N=str(n))
    system = load_system(f"{HERE / 'like_keras_chain.py'}:Chain", {"processes": processes})
    system.launch(transport="dora" if processes else "native", iterations=n, timeout=RUN_TIMEOUT_S)
    return elapsed(marks)


def ezmsg(n: int, processes: bool, tmp: str) -> float:
    marks = os.path.join(tmp, f"ez-{processes}")
    subprocess.run([sys.executable, str(HERE / "ezmsg_chain.py"), str(n), marks, "processes" if processes else "one"],
                   check=True, capture_output=True, timeout=RUN_TIMEOUT_S, cwd=tmp)
    return elapsed(marks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000,
                        help="messages through the chain: enough that the Dora run lasts tenths of a second")
    args = parser.parse_args()
    n = args.messages
    print(f"3-stage chain, {n} float messages, {HOPS} hops each; microseconds per message per hop")
    print(f"{'':<26}{'like-keras':>12}{'ezmsg':>12}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, processes, lk_name in (("one process", False, "native"), ("a process per stage", True, "Dora")):
            ours = like_keras(n, processes, tmp) / n / HOPS * 1e6
            theirs = ezmsg(n, processes, tmp) / n / HOPS * 1e6
            print(f"{label + ' (' + lk_name + ')':<26}{ours:>12.1f}{theirs:>12.1f}{ours / theirs:>8.2f}")
            report(f"{lk_name}: ezmsg / like-keras, time a hop ({label})", theirs / ours)


if __name__ == "__main__":
    main()
