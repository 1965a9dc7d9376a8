"""The `lk` command line, run as a user would."""

import json
import re
import os
import subprocess
import sys
import textwrap

from conftest import ASSETS, VENV_BIN
from foxglove_client import Watcher, free_port

LK = str(VENV_BIN / "lk")


def lk(*args, cwd=None):
    return subprocess.run([LK, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_run_prints_steps_and_recorded_ports():
    proc = lk("run", "like_keras_examples.cartpole:CartPole", "--iterations", "500", "--record", "env.reward")
    assert proc.returncode == 0, proc.stderr
    assert "system 'cartpole' ran on native" in proc.stdout
    assert "steps: env 500, agent 501" in proc.stdout
    assert "env.reward: 500 messages, sum 500" in proc.stdout


def test_run_passes_system_arguments(tmp_path):
    from like_keras.recording import read_messages
    from like_keras_examples.bandit import Bandit

    proc = lk("run", "like_keras_examples.bandit:Bandit", "--arg", "seed=4", "--arg", "epsilon=1.0",
              "--iterations", "50", "--quiet", "--record", "agent.arm", "--run-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "agent 50" in proc.stdout
    # The arguments reached the system: its arms are those of Bandit(seed=4, epsilon=1.0) and
    # differ from the defaults'.
    arms = read_messages(tmp_path / "recording")["agent.arm"]
    assert arms == Bandit(seed=4, epsilon=1.0).launch(iterations=50, record=["agent.arm"]).messages("agent.arm")
    assert arms != Bandit().launch(iterations=50, record=["agent.arm"]).messages("agent.arm")
    bad = lk("run", "like_keras_examples.bandit:Bandit", "--arg", "seed")
    assert bad.returncode != 0 and "--arg takes KEY=VALUE, got 'seed'" in bad.stderr


def test_like_keras_is_an_alias():
    proc = subprocess.run([str(VENV_BIN / "like-keras"), "check", "like_keras_examples.bandit:Bandit"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("ok: system 'bandit'")


def test_check_a_file_target_and_its_error(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(textwrap.dedent("""
        from like_keras import Component, Input, Output, System

        class A(Component):
            out = Output(int)
            def on_start(self):
                return 1

        class B(Component):
            x = Input(float)
            def step(self, x):
                pass

        def good():
            a, b = A(name="a"), B(name="b")
            return System(name="good", components=[a, b])

        def bad():
            a, b = A(name="a"), B(name="b")
            return System(name="bad", components=[a, b], connections=[("a.out", "b.x")])
    """))
    ok = lk("check", f"{good}:good")
    assert ok.returncode == 0 and "ok: system 'good': 1 node" in ok.stdout
    bad = lk("check", f"{good}:bad")
    assert bad.returncode == 1
    assert "PortTypeMismatchError: cannot connect a.out (int) to b.x (float)" in bad.stderr
    missing = lk("check", f"{tmp_path}/nope.py:x")
    assert missing.returncode == 1 and "TargetError: target file" in missing.stderr


def test_run_error_shows_the_original_traceback(tmp_path):
    f = tmp_path / "crash.py"
    f.write_text(textwrap.dedent("""
        from like_keras import Component, Output, System

        class Crash(Component):
            out = Output(int)
            rate_hz = 5.0
            def step(self):
                return 1 // 0

        def crash():
            return System(name="crash", components=[Crash(name="crasher")])
    """))
    proc = lk("run", f"{f}:crash", "--iterations", "3")
    assert proc.returncode == 1
    assert "ZeroDivisionError: integer division or modulo by zero" in proc.stderr
    assert "return 1 // 0" in proc.stderr  # the user's own line, from the chained traceback
    assert "component 'crasher' (node 'main') raised ZeroDivisionError in step 1" in proc.stderr


def test_graph_json_and_mermaid_and_summary():
    proc = lk("graph", "like_keras_examples.sensor_pipeline:SensorPipeline", "--format", "json")
    assert proc.returncode == 0
    graph = json.loads(proc.stdout)
    assert [n["name"] for n in graph["nodes"]] == ["perception", "control"]
    assert graph["clock"] == "camera"
    proc = lk("graph", "like_keras_examples.sensor_pipeline:SensorPipeline")
    assert proc.stdout.startswith("flowchart LR") and "tracker -.->|track to track| controller" in proc.stdout
    proc = lk("summary", "like_keras_examples.sensor_pipeline:SensorPipeline")
    assert proc.returncode == 0 and "detector.detection" in proc.stdout and "(sampled)" in proc.stdout


def test_compile_says_which_transports_exist(tmp_path):
    proc = lk("compile", "like_keras_examples.cartpole:CartPole", "--transport", "nope", "--out", str(tmp_path))
    assert proc.returncode == 1 and "available transports: native" in proc.stderr


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "like_keras.cli", "check", "like_keras_examples.cartpole:CartPole"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("ok: system 'cartpole'"), proc.stderr


def test_output_into_a_closed_pipe_stops_quietly():
    # Like `lk graph ... | head -1`: the reader is gone before lk writes.
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run([LK, "graph", "like_keras_examples.sensor_pipeline:SensorPipeline"],
                          stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write_end)
    assert proc.returncode == 141 and "Traceback" not in proc.stderr, proc.stderr


# --- in process: every line `lk` prints, exactly -------------------------------------------


def raising_system(folder, name, exception):
    """A target file: a 10 Hz component ``name`` whose step raises ``exception``."""
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(f"""
        from like_keras import Component, Output, System

        class Raising(Component):
            out = Output(int)
            rate_hz = 10.0

            def step(self):
                raise {exception}

        def make():
            return System(name={name!r}, components=[Raising(name={name!r})])
    """))
    return f"{path}:make"


def run_cli(capsys, *args):
    from like_keras.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_describes_each_recorded_port_by_its_kind(capsys):
    from like_keras_examples.cartpole import CartPole

    ports = ["env.reward", "env.done", "agent.action", "env.obs"]
    code, out, _ = run_cli(capsys, "run", "like_keras_examples.cartpole:CartPole", "--iterations", "30",
                           "--quiet", "--record", *ports)
    native = CartPole().launch(iterations=30, record=ports)
    reward, done, action = (native.messages(p) for p in ports[:3])
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("system 'cartpole' ran on native in ") and lines[0].endswith(" s")
    assert lines[1:6] == [
        "  steps: env 30, agent 31",
        f"  env.reward: 30 messages, sum {sum(reward):g}, last {reward[-1]!r}",
        f"  env.done: 30 messages, {sum(done)} true, last {done[-1]!r}",
        f"  agent.action: {len(action)} messages, sum {sum(action):g}, last {action[-1]!r}",
        "  env.obs: 31 messages",  # on_start sends the first; arrays: no sum
    ]
    assert lines[6].startswith("  recording: ") and lines[6].endswith("/recording") and len(lines) == 7


def test_run_in_simulated_time_says_how_much(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "run", "like_keras_examples.sensor_pipeline:SensorPipeline", "--duration", "0.5",
                           "--quiet", "--run-dir", str(tmp_path))
    assert code == 0 and "(0.500 s simulated)" in out.splitlines()[0]
    assert "recording" not in out  # nothing recorded, no file named
    code, out, _ = run_cli(capsys, "run", "like_keras_examples.sensor_pipeline:SensorPipeline", "--duration", "0.2",
                           "--realtime", "--quiet")
    assert code == 0 and "steps: camera 6," in out  # 30 Hz for 0.2 s of wall-clock time


def test_a_failed_run_prints_the_cause_then_the_error_and_exits_1(capsys, tmp_path):
    target = raising_system(tmp_path, "bad", 'ZeroDivisionError("no way")')
    code, out, err = run_cli(capsys, "run", target, "--iterations", "3")
    assert code == 1 and out == ""
    assert err.index("Traceback") < err.index('raise ZeroDivisionError("no way")') < err.index(
        "error: RunError: component 'bad' (node 'main') raised ZeroDivisionError in step 1: no way")


def test_an_error_without_a_cause_is_one_line(capsys):
    code, out, err = run_cli(capsys, "check", "like_keras_examples.nothing:Here")
    assert code == 1 and "Traceback" not in err and err.startswith("error: TargetError: cannot import module")


def test_ctrl_c_and_sigterm_end_lk_with_130(capsys, tmp_path):
    import signal

    from like_keras import cli

    target = raising_system(tmp_path, "stop", "KeyboardInterrupt")  # as Ctrl-C would, in a step
    code, out, err = run_cli(capsys, "run", target, "--iterations", "3")
    assert (code, out, err) == (130, "", "interrupted\n")
    assert signal.getsignal(signal.SIGTERM) is cli._interrupt  # SIGTERM ends a run as Ctrl-C does
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        cli._interrupt(signal.SIGTERM, None)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("SIGTERM must interrupt")


def test_check_graph_summary_and_compile_print_exactly(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "check", "like_keras_examples.throughput:Flood")
    assert (code, out) == (0, "ok: system 'flood': 2 nodes, 3 components, 3 connections, clock: producer\n")
    json_ = "".join(["js", "on"])  # as from a command line: not the interned literal
    code, out, _ = run_cli(capsys, "graph", "like_keras_examples.throughput:Flood", "--format", json_)
    assert code == 0 and out.endswith("}\n") and json.loads(out)["name"] == "flood"
    code, out, _ = run_cli(capsys, "graph", "like_keras_examples.throughput:Flood")
    assert code == 0 and out.startswith("flowchart LR") and not out.endswith("\n\n")
    code, out, _ = run_cli(capsys, "summary", "like_keras_examples.throughput:Flood")
    assert code == 0 and "producer" in out and "consumer" in out
    code, out, _ = run_cli(capsys, "compile", "like_keras_examples.throughput:Flood", "--transport", "dora",
                           "--out", str(tmp_path / "flood"))
    assert (code, out) == (0, f"wrote {tmp_path / 'flood' / 'dataflow.yml'}\n")


def test_arg_values_are_yaml_and_malformed_ones_are_refused(capsys):
    import pytest

    code, out, _ = run_cli(capsys, "check", "like_keras_examples.bandit:Bandit", "--arg", "arms=3", "--arg",
                           "epsilon=0.5")
    assert code == 0
    for bad in ("=3", "arms"):
        with pytest.raises(SystemExit, match=f"--arg takes KEY=VALUE, got '{bad}'"):
            run_cli(capsys, "check", "like_keras_examples.bandit:Bandit", "--arg", bad)


def test_commands_and_their_required_options_are_required(capsys):
    import pytest

    from like_keras.cli import main

    for argv, missing in (([], "command"), (["compile", "x:Y", "--out", "o"], "--transport"),
                          (["compile", "x:Y", "--transport", "dora"], "--out"), (["ros2"], "ros2_command"),
                          (["ros2", "build", "x:Y"], "--workspace")):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2 and missing in capsys.readouterr().err, argv


def test_lk_ros2_build_exits_with_colcons_code(capsys, monkeypatch):
    import like_keras_ros.workspace

    seen = []
    monkeypatch.setattr(like_keras_ros.workspace, "build", lambda system, ws: seen.append((system.name, ws)) or 3)
    code, _, _ = run_cli(capsys, "ros2", "build", "like_keras_examples.bandit:Bandit", "--workspace", "/tmp/ws")
    assert code == 3 and seen == [("bandit", "/tmp/ws")]  # a failed colcon build fails lk


def test_run_describes_the_last_value_sent(capsys):
    from like_keras_examples.bandit import Bandit

    ports = ["objective.mean_reward", "agent.arm"]
    code, out, _ = run_cli(capsys, "run", "like_keras_examples.bandit:Bandit", "--iterations", "40", "--quiet",
                           "--record", *ports)
    native = Bandit().launch(iterations=40, record=ports)
    mean, arms = (native.messages(p) for p in ports)
    assert mean[-1] not in (mean[0], mean[1])  # the test can tell the last value from the first ones
    assert f"  objective.mean_reward: {len(mean)} messages, sum {sum(mean):g}, last {mean[-1]!r}" in out
    assert f"  agent.arm: {len(arms)} messages, sum {sum(arms):g}, last {arms[-1]!r}" in out
    code, out, _ = run_cli(capsys, "run", "like_keras_examples.cartpole:CartPole", "--iterations", "500", "--quiet",
                           "--record", "env.done")
    assert "  env.done: 500 messages, 1 true, last True" in out  # one episode ends, at the last step


VIEWER = f"{ASSETS / 'viewer.py'}:Viewer"
TOPICS = {"/viewer/camera/image", "/viewer/brightness/mean", "/viewer/brightness/frame"}


def test_run_live_serves_foxglove_where_asked():
    """``--live-wait`` holds the run for the client, so it gets every message."""
    port = free_port()
    watcher = Watcher(port, TOPICS)
    proc = lk("run", VIEWER, "--iterations", "5", "--live", "--port", str(port), "--live-wait", "60", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert f"ws://127.0.0.1:{port}" in proc.stderr
    client = watcher.got()
    assert {t: len(v) for t, v in client.by_topic().items()} == {t: 5 for t in TOPICS}
    for flags in (["--port", "9000"], ["--host", "0.0.0.0"], ["--live-wait", "3"]):
        refused = lk("run", VIEWER, "--iterations", "1", *flags)
        assert refused.returncode != 0 and "set up the live view: add --live" in refused.stderr, flags


def test_empty_values_a_picture_without_o_and_replay_flags(capsys, tmp_path, monkeypatch):
    """``--arg key=`` is YAML's null, while a bag or topic cannot be empty; ``lk graph``
    without ``-o`` writes ``<system>.<format>`` here; ``--replay-topic`` needs its ``--replay``."""
    import pytest

    code, out, _ = run_cli(capsys, "check", "like_keras_examples.cartpole:CartPole", "--arg", "seed=")
    assert code == 0 and "ok" in out.lower()
    for flags, said in ((["--replay", "camera="], "--replay takes COMPONENT=BAG, got 'camera='"),
                        (["--replay", "=bag"], "--replay takes COMPONENT=BAG, got '=bag'"),
                        (["--replay", "camera=bag", "--replay-topic", "tracker.x=/t"],
                         "--replay-topic tracker.x=/t: 'tracker' is not replayed (add --replay tracker=BAG)")):
        with pytest.raises(SystemExit, match=re.escape(said)):
            run_cli(capsys, "run", "like_keras_examples.sensor_pipeline:SensorPipeline", *flags)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "graph", "like_keras_examples.cartpole:CartPole", "--format", "dot")
    assert code == 0 and (tmp_path / "cartpole.dot").read_text().startswith("digraph")
