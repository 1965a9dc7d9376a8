"""The agent that runs a machine's part of a run: it reports what the run directory says,
and stops everything when told to or when the launcher's heartbeat stops coming."""

import json
import subprocess
import sys
import time

from conftest import left_behind

from like_keras.deploy.agent import BEAT, DEAD_AFTER, EVENT, STOP


def start(run_dir, *command):
    proc = subprocess.Popen([sys.executable, "-m", "like_keras.deploy.agent", "--run-dir", str(run_dir), "--",
                             *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert next_event(proc)["event"] == "started"
    return proc


def next_event(proc) -> dict:
    for line in proc.stdout:
        if line.startswith(EVENT):
            return json.loads(line[len(EVENT):])
    raise AssertionError(f"the agent ended without an event (exit {proc.wait()})")


def tell(proc, line):
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def test_a_command_that_ends_is_reported_with_its_exit_code(tmp_path):
    proc = start(tmp_path, "sh", "-c", "echo hello; exit 3")
    assert next_event(proc) == {"event": "exit", "rc": 3}
    assert proc.wait(10) == 0


def test_a_node_failure_in_the_run_directory_is_reported(tmp_path):
    proc = start(tmp_path, "sleep", "60")
    (tmp_path / "failures").mkdir(exist_ok=True)
    (tmp_path / "failures" / "works.json").write_text(json.dumps(
        {"node": "works", "message": "cannot handle 5", "component": "breaks", "step": 5, "traceback": "Tb"}))
    event = next_event(proc)
    assert event["event"] == "failure"
    assert (event["node"], event["component"], event["step"]) == ("works", "breaks", 5)
    assert event["message"] == "node 'works' failed: cannot handle 5" and event["traceback"] == "Tb"
    tell(proc, STOP)
    assert proc.wait(15) == 0
    assert left_behind(f"{tmp_path}") == []


def test_stop_ends_the_command_and_its_session(tmp_path):
    proc = start(tmp_path, "sh", "-c", "sleep 3071 & sleep 3072")  # a child in the background too
    tell(proc, BEAT)
    tell(proc, STOP)
    assert proc.wait(15) == 0
    assert left_behind("sleep 307") == []


def test_without_a_heartbeat_the_machine_stops_its_part(tmp_path):
    proc = start(tmp_path, "sleep", "1237")
    t0 = time.monotonic()
    assert next_event(proc) == {"event": "lost", "seconds": DEAD_AFTER}
    assert DEAD_AFTER <= time.monotonic() - t0 + 0.5
    assert proc.wait(15) == 0
    assert left_behind("sleep 1237") == []
