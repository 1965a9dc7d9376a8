"""The stop-and-drain decision shared by the multi-process transports."""

from like_keras import drain


def wave(c, now, reports, own=(0, 0)):
    w = c.start_wave(now)
    assert w is not None
    for node, (sent, received) in reports.items():
        c.on_report(drain.parse(drain.report(node, w, sent, received)))
    assert c.complete
    return c.close(*own, now)


def test_two_equal_balanced_waves_end_the_run():
    c = drain.Coordinator(["a", "b"], interval=0.0)
    assert not wave(c, 1.0, {"a": (5, 3), "b": (3, 4)}, own=(2, 3))  # balanced, but the first wave
    assert wave(c, 2.0, {"a": (5, 3), "b": (3, 4)}, own=(2, 3))


def test_activity_or_messages_in_flight_keep_it_going():
    c = drain.Coordinator(["a"], interval=0.0)
    assert not wave(c, 1.0, {"a": (4, 0)}, own=(0, 3))  # one message in flight
    assert not wave(c, 2.0, {"a": (4, 0)}, own=(0, 4))  # delivered: balanced now, but counts moved
    assert not wave(c, 3.0, {"a": (5, 0)}, own=(0, 5))  # something happened in between
    assert wave(c, 4.0, {"a": (5, 0)}, own=(0, 5))


def test_waves_are_spaced_and_stale_reports_ignored():
    c = drain.Coordinator(["a"], interval=0.5)
    w = c.start_wave(0.0)
    assert c.start_wave(0.1) is None  # one wave at a time
    c.on_report(drain.parse(drain.report("a", w - 1, 1, 1)))  # an old wave's answer
    c.on_report(drain.parse(drain.report("z", w, 1, 1)))  # not a peer
    assert not c.complete
    c.on_report(drain.parse(drain.report("a", w, 0, 0)))
    c.close(0, 0, 0.2)
    assert c.start_wave(0.3) is None and c.start_wave(0.7) == w + 1


def test_a_single_process_drains_after_two_quiet_waves():
    c = drain.Coordinator([], interval=0.0)
    assert not wave(c, 0.0, {})
    assert wave(c, 0.0, {})


def test_equal_waves_with_messages_unaccounted_for_never_end_the_run():
    # Quiet (two equal waves) but sent != received: something is still in flight, or lost.
    c = drain.Coordinator(["a"], interval=0.0)
    for now in range(5):
        assert not wave(c, float(now), {"a": (3, 1)}, own=(1, 2))
    assert wave(c, 5.0, {"a": (3, 2)}, own=(1, 2)) is False  # balanced now, but the counts moved
    assert wave(c, 6.0, {"a": (3, 2)}, own=(1, 3)) is False
    assert wave(c, 7.0, {"a": (3, 2)}, own=(1, 3)) is False  # 4 sent, 5 received: never drained
    assert wave(c, 8.0, {"a": (3, 1)}, own=(1, 3)) is False
    assert wave(c, 9.0, {"a": (3, 1)}, own=(1, 3))  # 4 sent, 4 received, twice
