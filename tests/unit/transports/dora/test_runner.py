"""The Dora runner's start: a peer that died while Dora started the dataflow is the failure
it reports, whichever node's report the launcher reads first (Dora's API itself stands in
here, to make the race that CI met under load happen every time; the live run is
tests/integration/test_dora.py::test_a_node_killed_while_dora_starts_the_dataflow_is_the_one_named)."""

import shlex
import sys
import types

import yaml

from like_keras.transports.common import rundir
from like_keras.transports.common.target import load_system
from like_keras.transports.dora import runner

from conftest import SYSTEMS

DORA_SAYS = ("Could not initiate node from environment variable.\n\nCaused by:\n   0: internal error\n   1: failed "
             "to init event stream\n   2: subscribe failed: Node {} exited before initializing dora. For more "
             "information, run `dora logs 01a2 --node {}`.")


def run_node(node, dead, tmp_path, monkeypatch):
    """Node ``node`` of Line, started as Dora starts it, while ``dead`` has exited."""
    flow = yaml.safe_load(load_system(f"{SYSTEMS}:Line").compile_to_transport("dora", tmp_path / "d.yml").read_text())
    args = shlex.split(next(n for n in flow["nodes"] if n["id"] == node)["args"])
    fake = types.ModuleType("dora")

    def refuse():
        raise RuntimeError(DORA_SAYS.format(dead, dead))

    fake.Node = refuse
    monkeypatch.setitem(sys.modules, "dora", fake)
    monkeypatch.syspath_prepend(str(tmp_path))
    return runner.main([*args[args.index("--target"):], "--run-dir", str(tmp_path / "run")])


def test_a_peer_that_died_while_dora_started_the_dataflow_is_the_failure_reported(tmp_path, monkeypatch):
    assert run_node("a", "c", tmp_path, monkeypatch) == 1
    failure = rundir.failure(tmp_path / "run")
    assert failure.node == "c" and "node 'c' died while the dataflow was starting (node 'a' saw it" in str(failure)


def test_a_node_that_cannot_start_itself_reports_its_own_failure(tmp_path, monkeypatch):
    assert run_node("c", "c", tmp_path, monkeypatch) == 1
    failure = rundir.failure(tmp_path / "run")
    assert failure.node == "c" and "Could not initiate node" in str(failure)
