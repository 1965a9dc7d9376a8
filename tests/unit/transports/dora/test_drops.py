"""Dora's drop lines end a run: each line Dora 1.1 logs when it loses a message, in the
shape it logs it (the daemon's coloured tracing lines, a node's prefixed ones), read
while the run goes, a line written in two halves, and a last line without its newline.
The live drop (a backpressure queue's hard cap) is in tests/integration/test_dora.py."""

import sys
import textwrap

import pytest

from like_keras.errors import RunError
from like_keras.transports.common.supervise import Supervised
from like_keras.transports.dora.drops import DropWatch


def daemon(level: str, message: str, fields: str = "") -> str:
    """A line of the daemon's own log, as ``dora run`` prints it (colours included)."""
    return (f"\x1b[2m2026-12-05T03:15:29.353720Z\x1b[0m \x1b[33m {level}\x1b[0m \x1b[1mrun_inner\x1b[0m: "
            f"\x1b[2mdora_daemon::event_types\x1b[0m\x1b[2m:\x1b[0m {message} {fields}"
            f"\x1b[2m\x1b[3mhealth_check_interval_duration\x1b[0m\x1b[2m=\x1b[0mNone")


def node(level: str, name: str, message: str) -> str:
    """A node's log line as ``dora run`` prints it: time, level, node."""
    return f"03:15:16 {level:<6} {name}: {message}"


# (the line, the node it names or None when Dora does not say)
DROP_LINES = [
    (daemon("WARN", "event channel low on capacity, dropping data event to preserve control headroom"), None),
    (daemon("WARN", "event channel full, dropping data event (slow receiver)"), None),
    (daemon("ERROR", "CRITICAL: control event dropped despite headroom reservation: Stop"), None),
    (daemon("WARN", "event channel full (capacity 1000), dropping message (node is too slow)",
            "\x1b[3mnode\x1b[0m\x1b[2m=\x1b[0mslow "), "slow"),
    (node("ERROR", "slow", "Backpressure input `flooder__out` hit hard cap (100), dropping oldest to prevent OOM"),
     "slow"),
    (node("ERROR", "arm.ctl", "backpressure input `flooder__out` hit hard cap, dropping oldest to prevent OOM"),
     "arm.ctl"),
    (node("WARN", "cam-1", "event channel full; dropping zenoh input. Raise this input's queue_size"), "cam-1"),
    (node("ERROR", "slow", "input `image`: the `@schema` subscriber failed to declare (a degraded zenoh session) "
                           "and the input stayed undecodable for 10s despite the producer's periodic full-stream "
                           "refresh — messages on this input are being dropped"), "slow"),
    (node("WARN", "planner", "queue full of correlated messages; dropping oldest correlation. This breaks the "
                             "service/action request-response contract."), "planner"),
]
HARMLESS = [
    node("INFO", "slow", "daemon node is ready"),
    node("WARN", "viewer", "Discarding event for input `cam__image` due to queue size limit"),  # keep_last
    daemon("INFO", "exiting daemon because all required dataflows are finished"),
]


@pytest.mark.parametrize("line, named", DROP_LINES, ids=[f"line{i}" for i in range(len(DROP_LINES))])
def test_every_drop_line_dora_writes_is_a_run_error_naming_its_node(tmp_path, line, named):
    log = tmp_path / "dora.log"
    log.write_text("\n".join([*HARMLESS, line, *HARMLESS]) + "\n")
    err = DropWatch(log)()
    assert isinstance(err, RunError), line
    assert err.node == named
    if named:
        assert f"Dora dropped messages for node '{named}', so the run was stopped" in str(err)
    else:
        assert "Dora's daemon did not say for which node" in str(err)
    assert "\x1b" not in str(err)  # shown without Dora's colours
    assert str(log) in str(err)


def test_a_run_without_drops_goes_on(tmp_path):
    log = tmp_path / "dora.log"
    watch = DropWatch(log)
    assert watch() is None  # Dora has not written its log yet
    log.write_text("\n".join(HARMLESS) + "\n")
    assert watch() is None and watch(final=True) is None


def test_a_line_is_read_once_whole(tmp_path):
    log = tmp_path / "dora.log"
    line, _ = DROP_LINES[4]
    watch = DropWatch(log)
    with open(log, "w") as f:
        f.write(HARMLESS[0] + "\n" + line[:30])
        f.flush()
        assert watch() is None  # half a line: not judged yet
        f.write(line[30:] + "\n")
        f.flush()
        assert watch().node == "slow"
        f.write(HARMLESS[0] + "\n")
    assert watch() is None  # the drop was reported once; the rest is read on


def _dora_stand_in(tmp_path, script: str) -> Supervised:
    """A process writing to ``dora.log`` as ``dora run`` does, supervised as Dora's launcher is."""
    cmd = [sys.executable, "-c", textwrap.dedent(script)]
    return Supervised(cmd, tmp_path, {}, what="Dora", log="dora.log", grace=1.0,
                      watch=DropWatch(tmp_path / "dora.log"))


def test_a_drop_written_in_two_halves_ends_a_run_that_would_go_on(tmp_path):
    line, _ = DROP_LINES[3]
    run = _dora_stand_in(tmp_path, f"""
        import sys, time
        line = {line!r}
        sys.stdout.write(line[:40]); sys.stdout.flush(); time.sleep(0.5)
        sys.stdout.write(line[40:] + "\\n"); sys.stdout.flush(); time.sleep(120)
    """)
    try:
        with pytest.raises(RunError) as info:
            run.wait(None, 60)
    finally:
        run.kill()
    assert info.value.node == "slow" and "dropping message (node is too slow)" in str(info.value)
    assert run.proc.poll() is not None


def test_a_last_drop_line_without_its_newline_fails_the_run(tmp_path):
    # Dora ended (killed mid-line, or its last line unterminated): the line is whole.
    line, _ = DROP_LINES[0]
    run = _dora_stand_in(tmp_path, f"import sys; sys.stdout.write({line!r})")
    try:
        with pytest.raises(RunError, match="dropping data event to preserve control headroom"):
            run.wait(None, 60)
    finally:
        run.kill()
