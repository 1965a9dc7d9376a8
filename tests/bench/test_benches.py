"""Every benchmark in bench/ runs here in a seconds-long smoke mode (tiny sizes, figures
printed, no thresholds), so a refactor that breaks one fails ``make test``. The figures
themselves come from ``make bench`` (docs/benchmarks.md)."""

import sys

import pytest

import processes
from conftest import ROOT, ros2_env, tool

# (script, smoke arguments, what it needs, a line its output must hold)
BENCHES = [
    ("native_overhead.py", ["--messages", "2000", "--repeats", "1"], None, "overhead"),
    ("scale.py", ["--sizes", "10", "50"], None, "components"),
    ("recording_cost.py", ["--frames", "3", "--repeat", "1"], None, "recorded"),
    ("peers.py", ["--messages", "300"], None, "ezmsg"),
    ("live_view.py", ["--transport", "all", "--iterations", "300", "--repeat", "1"], "dora", "ratio"),
    ("dora_overhead.py", ["--count", "15", "--sizes", "8", "65536", "--messages", "200", "--repeat", "1"], "dora",
     "ratio"),
    ("dora_startup.py", ["--repeat", "1"], "dora", "launch() returned"),
    ("ros2_overhead.py", ["--count", "15", "--repeat", "1", "--sizes", "8", "--messages", "200"], "ros2", "ratio"),
]


@pytest.mark.parametrize("script, args, needs, says", BENCHES, ids=[b[0] for b in BENCHES])
def test_every_bench_runs_in_smoke_mode(script, args, needs, says):
    if needs == "dora":
        tool("dora")
    elif needs == "ros2":
        ros2_env()
    proc = processes.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert says in proc.stdout, proc.stdout
