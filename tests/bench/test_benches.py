"""Every benchmark in bench/ runs here in a seconds-long smoke mode (tiny sizes, figures
printed, no thresholds), so a refactor that breaks one fails ``make test``. The headline
benches run through ``bench/summary.py --smoke``, which must find their figures in its
table. The figures themselves come from ``make bench`` (docs/benchmarks.md)."""

import sys

import pytest

import processes
from conftest import ROOT, ros2_env, tool

# (script, smoke arguments, what it needs, a line its output must hold)
OTHERS = [
    ("scale.py", ["--sizes", "10", "50"], None, "components"),
    ("live_view.py", ["--transport", "all", "--iterations", "300", "--repeat", "1"], "dora", "ratio"),
    ("dora_startup.py", ["--repeat", "1"], "dora", "launch() returned"),
]
# headline bench -> what it needs, the figures it reports
HEADLINES = {
    "native_overhead.py": (None, ["native: overhead per hop, 3-component chain (us)"]),
    "peers.py": (None, ["native: ezmsg / like-keras", "Dora: ezmsg / like-keras"]),
    "recording_cost.py": (None, ["recording a camera in simulated time: recorded / unrecorded"]),
    "dora_overhead.py": ("dora", ["Dora: round trip 8 B, like-keras / hand-written",
                                  "Dora: one-way msg/s, like-keras / hand-written"]),
    "ros2_overhead.py": ("ros2", ["ROS 2: round trip 8 B, like-keras / hand-written",
                                  "ROS 2: one-way msg/s, like-keras / hand-written"]),
}


def _needs(what):
    if what == "dora":
        tool("dora")
    elif what == "ros2":
        ros2_env()


def _run(script, *args):
    proc = processes.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.parametrize("script, args, needs, says", OTHERS, ids=[b[0] for b in OTHERS])
def test_every_bench_runs_in_smoke_mode(script, args, needs, says):
    _needs(needs)
    assert says in _run(script, *args)


@pytest.mark.parametrize("script", HEADLINES)
def test_every_headline_bench_reports_its_figures_to_the_summary(script):
    needs, names = HEADLINES[script]
    _needs(needs)
    table = _run("summary.py", "--smoke", "--runs", "2" if needs is None else "1", "--only", script)
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| figure")]
    for name in names:
        row = next((r for r in rows if r.startswith(f"| {name}")), None)
        assert row is not None, f"{name} is not in the summary:\n{table}"
        median, spread, runs = (cell.strip() for cell in row.split("|")[2:5])
        low, high = (float(x) for x in spread.split(" to "))
        assert low <= float(median) <= high and int(runs) == (2 if needs is None else 1), row
