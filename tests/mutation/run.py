"""``make mutants``: mutation testing of the modules that carry like-keras' guarantees.

Each module below is changed one small mutation at a time by cosmic-ray (an operator
swapped, a constant changed, a condition negated...) and its tests are run against each
change: a good test suite fails, "killing" the mutant. Mutants that survive are listed;
each must be justified in ``survivors.txt`` beside this file (one line:
``path:line operator  why``), and at least 90% of all mutants must be killed.

Mutations inside type annotations (never evaluated under ``from __future__ import
annotations``) and on lines marked ``# pragma: no mutate`` are skipped. The work runs in
two copies of the tree (one per core), imported first through PYTHONPATH, so the working
tree is never touched. Not part of ``make test``: it takes about 20 minutes.

    .venv/bin/python tests/mutation/run.py [--only PATH ...] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PACKAGES = ("like_keras", "like_keras_ros", "like_keras_examples")
TARGET_RATE = 0.90

_LIVE = "tests/unit/live/test_live.py::test"  # the live view's tests that run natively (fast)

# Module -> the tests that hold its guarantees (fast ones: each mutant runs them).
TARGETS = {
    "src/like_keras/like_keras/transports/common/drain.py": ["tests/unit/transports/common/test_drain.py",
                                                             "tests/unit/transports/common/test_lockstep.py",
                                                             "tests/unit/ros/test_host.py"],
    "src/like_keras/like_keras/transports/common/credits.py": ["tests/unit/transports/dora/test_flow.py",
                                                               "tests/unit/ros/test_host.py"],
    "src/like_keras/like_keras/transports/dora/flow.py": ["tests/unit/transports/dora/test_flow.py"],
    "src/like_keras/like_keras/transports/dora/batch.py": ["tests/unit/transports/dora/test_batch.py"],
    "src/like_keras/like_keras/transports/dora/timers.py": ["tests/unit/transports/dora/test_timers.py"],
    "src/like_keras/like_keras/transports/dora/sequence.py": ["tests/unit/transports/dora/test_sequence.py"],
    "src/like_keras/like_keras/transports/dora/codec.py": ["tests/unit/transports/dora/test_codec.py",
                                                          "tests/unit/transports/dora/test_batch.py"],
    "src/like_keras/like_keras/msgs/ros_mapping.py": ["tests/unit/msgs/test_ros_messages.py",
                                                     "tests/unit/msgs/test_ros_wire_bytes.py",
                                                     "tests/unit/ros/test_interfaces.py",
                                                     "tests/unit/msgs/test_ros_catalog.py"],
    "src/like_keras/like_keras/msgs/ros/__init__.py": ["tests/unit/msgs/test_ros_catalog.py"],
    "src/like_keras/like_keras/recording/part.py": ["tests/unit/recording/test_recording.py"],
    "src/like_keras/like_keras/recording/bag.py": ["tests/unit/recording/test_recording.py",
                                                  "tests/unit/recording/test_replay.py"],
    "src/like_keras/like_keras/recording/__init__.py": ["tests/unit/recording/test_recording.py",
                                                       "tests/unit/system/test_errors.py"],
    "src/like_keras/like_keras/recording/replay.py": ["tests/unit/recording/test_replay.py"],
    "src/like_keras/like_keras/graph/validation.py": ["tests/unit/system/test_errors.py",
                                                     "tests/unit/system/test_api.py"],
    "src/like_keras/like_keras/cli.py": ["tests/unit/test_cli.py",
                                        "tests/unit/recording/test_replay.py::test_lk_run_replays"],
    "src/like_keras/like_keras/transports/dora/drops.py": ["tests/unit/transports/dora/test_drops.py"],
    "src/like_keras/like_keras/live/__init__.py": ["tests/unit/live/test_server.py",
                                                  f"{_LIVE}_the_view_listens_on_localhost_unless_told",
                                                  f"{_LIVE}_a_port_in_use_is_refused_before_anything_runs"],
    "src/like_keras/like_keras/live/feed.py": ["tests/unit/live/test_feed.py", "tests/unit/live/test_server.py"],
    "src/like_keras/like_keras/live/server.py": ["tests/unit/live/test_server.py",
                                                f"{_LIVE}_the_view_closes_with_a_failed_run",
                                                f"{_LIVE}_a_port_in_use_is_refused_before_anything_runs"],
    "src/like_keras/like_keras/graph/ir.py": ["tests/unit/graph/test_ir.py", "tests/unit/transports/dora/test_flow.py",
                                             "tests/unit/ros/test_host.py"],
    "src/like_keras/like_keras/msgs/header.py": ["tests/unit/msgs/test_header.py",
                                                "tests/unit/system/test_errors.py"],
    "src/like_keras/like_keras/transports/common/lockstep.py": ["tests/unit/transports/common/test_lockstep.py"],
}
# Module -> the functions mutated in it, when its guarantee is a few functions of a larger module.
WITHIN = {"src/like_keras/like_keras/graph/ir.py": ("keep_last", "lossless_readers")}
KILLED = {"killed", "incompetent"}  # incompetent: the mutant cannot even be imported and run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="mutate only these modules (paths as in TARGETS)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    targets = {m: t for m, t in TARGETS.items() if not args.only or m in args.only}
    work = Path(tempfile.mkdtemp(prefix="like_keras-mutants-"))
    try:
        lanes = _lanes(targets, 2)
        with ThreadPoolExecutor(len(lanes)) as pool:
            done = list(pool.map(lambda lane: _lane(lane[0], lane[1], targets, work), enumerate(lanes)))
        results = {m: r for lane in done for m, r in lane.items()}
        return _report(results)
    finally:
        if args.keep:
            print(f"(work files: {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _lanes(targets: dict[str, list[str]], n: int) -> list[list[str]]:
    """Split the modules over ``n`` copies, about evenly by size."""
    lanes: list[list[str]] = [[] for _ in range(n)]
    load = [0] * n
    for module in sorted(targets, key=lambda m: -(ROOT / m).stat().st_size):
        i = load.index(min(load))
        lanes[i].append(module)
        load[i] += (ROOT / module).stat().st_size
    return [lane for lane in lanes if lane]


def _lane(i: int, modules: list[str], targets: dict[str, list[str]], work: Path) -> dict[str, list]:
    """Mutate ``modules`` one after the other in copy ``i`` of the tree."""
    tree = work / f"copy{i}"
    for part in ("src", "tests"):
        shutil.copytree(ROOT / part, tree / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(tree / "src" / p) for p in PACKAGES),
           "PYTHONDONTWRITEBYTECODE": "1"}
    out = {}
    for module in modules:
        name = module.removesuffix(".py").replace("/", "_")  # unique: two targets may both be __init__.py
        config, session = tree / f"{name}.toml", tree / f"{name}.sqlite"
        tests = " ".join(targets[module])
        config.write_text(
            "[cosmic-ray]\n"
            f"module-path = {json.dumps(module)}\n"
            "timeout = 60.0\n"
            "excluded-modules = []\n"
            f"test-command = {json.dumps(f'{sys.executable} -m pytest -x -q -p no:cacheprovider {tests}')}\n"
            "[cosmic-ray.distributor]\n"
            'name = "local"\n'
        )
        run = lambda *a: subprocess.run([str(BIN / "cosmic-ray"), *a], cwd=tree, env=env,  # noqa: E731
                                        capture_output=True, text=True, check=True)
        run("init", str(config), str(session))
        within = ["--within", *WITHIN[module]] if module in WITHIN else []
        subprocess.run([sys.executable, str(HERE / "skip.py"), str(session), *within], cwd=tree, env=env, check=True)
        print(f"mutating {module} ({tests})", flush=True)
        run("exec", str(config), str(session))
        out[module] = [json.loads(line) for line in run("dump", str(session)).stdout.splitlines()]
    return out


def _report(results: dict[str, list]) -> int:
    justified = _justified()
    total = Counter()
    unjustified = []
    print(f"\n{'module':<58} {'killed':>7} {'mutants':>8} {'rate':>7}")
    for module, items in sorted(results.items()):
        counts = Counter()
        for item, result in items:
            outcome = _outcome(result)
            counts[outcome] += 1
            if outcome == "survived":
                m = item["mutations"][0]
                key = f"{m['module_path']}:{m['start_pos'][0]} {m['operator_name']}"
                line = _source_line(m["module_path"], m["start_pos"][0])
                print(f"  survivor {key}  | {line}")
                if key not in justified:
                    unjustified.append(key)
        mutants = counts["killed"] + counts["survived"]
        total.update(counts)
        print(f"{module:<58} {counts['killed']:>7} {mutants:>8} {counts['killed'] / max(1, mutants):>7.1%}"
              f"   (skipped {counts['skipped']})")
    mutants = total["killed"] + total["survived"]
    rate = total["killed"] / max(1, mutants)
    print(f"{'all':<58} {total['killed']:>7} {mutants:>8} {rate:>7.1%}   (target {TARGET_RATE:.0%})")
    if unjustified:
        print(f"\n{len(unjustified)} survivors have no line in {HERE / 'survivors.txt'}:")
        print("\n".join(f"  {k}" for k in unjustified))
    return 0 if rate >= TARGET_RATE and not unjustified else 1


def _outcome(result: dict | None) -> str:
    if result is None:
        return "not run"
    if result.get("worker_outcome") == "skipped":
        return "skipped"
    if result.get("worker_outcome") in ("timeout", "abnormal"):
        return "killed"  # the tests hung or crashed on the mutant: it did not pass
    return "killed" if result.get("test_outcome") in KILLED else "survived"


def _justified() -> set[str]:
    keys = set()
    for line in (HERE / "survivors.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            path_line, operator = line.split()[:2]
            keys.add(f"{path_line} {operator}")
    return keys


def _source_line(path: str, number: int) -> str:
    return (ROOT / path).read_text().splitlines()[number - 1].strip()


if __name__ == "__main__":
    sys.exit(main())
