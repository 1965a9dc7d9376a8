"""The stop-and-drain decision shared by the multi-process transports."""

from like_keras.transports.common import drain


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


# --- one process's part (Drain), with the real graph of small systems --------------------

import json  # noqa: E402

import pytest  # noqa: E402

from like_keras import Component, Input, Node, Output, System  # noqa: E402


class Tick(Component):
    out = Output(int)
    rate_hz = 10.0

    def step(self):
        return 1


class Pass(Component):
    x = Input(int)
    y = Output(int)

    def step(self, x):
        return x


class Eat(Component):
    x = Input(int)

    def step(self, x):
        pass


def three(clock="tick", timers=True):
    """tick (node a) -> pass (node b) -> eat (node c); the clock's node coordinates."""
    comps = [(Tick if timers else Pass)(name="tick", node=Node("a")), Pass(name="pass", node=Node("b")),
             Eat(name="eat", node=Node("c"))]
    for c in comps:
        c.node.name = "".join(list(c.node.name))
    conns = [(comps[0].out if timers else comps[0].y, comps[1].x), (comps[1].y, comps[2].x)]
    if not timers:
        comps.append(Starter(name="start", node=comps[0].node))
        conns.append((comps[3].out, comps[0].x))
    return System(name="three", components=comps, connections=conns, config=System.Config(name="three", clock=clock)
                  ).build()


class Starter(Component):
    out = Output(int)

    def on_start(self):
        return 1


class FakeRuntime:
    def __init__(self, components):
        self.components = dict.fromkeys(components)
        self.halted = []

    def halt(self, name=None):
        self.halted.append(name)


def make(graph, node, iterations=None):
    node = "".join(list(node))  # a name from the command line: equal to the graph's, not the same object
    sent = {"probe": [], "report": []}
    d = drain.Drain(graph, node, FakeRuntime(graph.node(node).components), iterations=iterations,
                    send_probe=sent["probe"].append, send_report=sent["report"].append)
    return d, sent


def test_the_clocks_node_coordinates_every_other_like_keras_node():
    graph = three()
    assert drain.coordinator_of(graph) == "a" and drain.peers(graph) == ["b", "c"]
    assert drain.coordinator_of(three(clock="pass")) == "b" and drain.peers(three(clock="pass")) == ["a", "c"]
    from like_keras.transports.common.target import load_system

    from conftest import SYSTEMS

    external = load_system(f"{SYSTEMS}:WithExternal").build()
    assert drain.peers(external) == ["sinks"]  # the external process takes no part


def test_a_wave_is_complete_only_with_every_peers_answer_to_it():
    c = drain.Coordinator(["b", "c"], interval=0.5)
    assert not c.complete  # no wave open
    assert c.start_wave(0.0) == 1
    c.on_report(drain.parse(drain.report("b", 1, 2, 2)))
    assert not c.complete
    c.on_report(drain.parse(drain.report("c", 2, 2, 2)))  # another wave's number
    assert not c.complete
    c.on_report(drain.parse(drain.report("c", 1, 2, 2)))
    assert c.complete and c.reports == {"b": (2, 2), "c": (2, 2)}
    assert not c.close(1, 1, 0.0)
    c.on_report(drain.parse(drain.report("b", 1, 9, 9)))  # after the close: ignored
    assert c.reports == {"b": (2, 2), "c": (2, 2)} and not c.complete
    assert c.start_wave(0.4) is None and c.start_wave(0.5) == 2


def test_who_drains_from_the_start():
    graph = three()
    assert not make(graph, "a")[0].draining  # the clock's timers run first
    assert not make(graph, "b")[0].draining  # a peer only answers
    quiet = three(timers=False)
    assert make(quiet, "a")[0].draining  # no iterations, no timers: it ends when quiet
    assert not make(quiet, "a", iterations=5)[0].draining  # the clock must step first
    assert not make(quiet, "b")[0].draining


def test_the_clock_stopping_starts_the_drain_at_the_coordinator_only():
    graph = three()
    coord, _ = make(graph, "a", iterations=3)
    coord.clock_done()
    assert coord.stopping and coord.draining
    peer, _ = make(graph, "b")
    peer.stop_clock()
    assert peer.stopping and not peer.draining and peer.runtime.halted == []  # no clock here to halt
    coord, _ = make(graph, "a")
    coord.stop_clock()
    assert coord.stopping and coord.draining and coord.runtime.halted == ["tick"]


def test_a_peer_answers_each_probe_once_when_idle_and_leaves_on_exit():
    peer, sent = make(three(), "b")
    peer.sent, peer.received = 4, 3
    peer.on_probe(drain.probe(7))
    assert peer.stopping and sent["report"] == []  # answered only once its inbox is empty
    peer.idle(0.0)
    peer.idle(0.1)
    assert [json.loads(r) for r in sent["report"]] == [{"node": "b", "wave": 7, "sent": 4, "received": 3}]
    assert not peer.leaving and sent["probe"] == []
    peer.on_report(drain.report("c", 7, 1, 1))  # a peer has no coordinator: nothing happens
    peer.on_probe(drain.probe(8, exit=True))
    assert peer.leaving
    peer.idle(0.2)
    assert len(sent["report"]) == 1


def test_the_coordinator_probes_closes_and_sends_the_exit():
    coord, sent = make(three(), "a", iterations=1)
    coord.idle(0.0)
    assert sent["probe"] == [] and coord.wait(0.0) is None  # not draining yet
    coord.clock_done()
    coord.sent = 2
    for wave in (1, 2):
        now = wave * 1.0
        coord.idle(now)
        assert json.loads(sent["probe"][-1]) == {"wave": wave, "exit": False, "stop": True}
        assert coord.wait(now) == 0.05  # a wave is open: look again soon
        coord.on_report(drain.report("b", wave, 1, 2))  # a sent 2 to b, b 1 to c: 3 sent, 3 received
        coord.on_report(drain.report("c", wave, 0, 1))
        coord.idle(now + 0.5)
    assert json.loads(sent["probe"][-1]) == {"wave": 2, "exit": True, "stop": True} and coord.leaving
    coord.idle(9.0)
    assert len(sent["probe"]) == 3  # nothing after leaving


def test_how_long_the_coordinator_may_wait_for_events():
    coord, _ = make(three(), "a", iterations=1)
    coord.clock_done()
    coord.idle(10.0)  # wave 1 open
    coord.on_report(drain.report("b", 1, 0, 0))
    coord.on_report(drain.report("c", 1, 0, 0))
    coord.idle(10.0)  # closed at 10.0: the next wave is due at 10.002
    assert coord.wait(10.0) == pytest.approx(drain.WAVE_INTERVAL)
    assert coord.wait(10.0015) == pytest.approx(0.0005)  # never less than half a millisecond
    assert coord.wait(11.0) == 0.0005
    peer, _ = make(three(), "b")
    assert peer.wait(0.0) is None


def test_a_process_alone_drains_after_two_quiet_looks():
    alone = System(name="solo", components=[Starter(name="s"), Eat(name="e")],
                   connections=[]).build()
    d, sent = make(alone, alone.nodes[0].name)
    assert d.draining and d.peers == []
    d.idle(0.0)
    assert not d.leaving
    d.idle(1.0)
    assert d.leaving and sent["probe"] == []  # nobody to tell


def test_only_the_coordinator_coordinates():
    graph = three(clock="pass")  # node b coordinates; a sorts before it, c after
    assert [make(graph, n)[0].coordinator is not None for n in ("a", "b", "c")] == [False, True, False]


def test_without_a_clock_the_first_node_coordinates():
    a, b = Pass(name="first", node=Node("one")), Eat(name="second", node=Node("two"))
    graph = System(name="quiet", components=[a, b], connections=[(a.y, b.x)]).build()
    assert graph.clock is None and drain.coordinator_of(graph) == "one" and drain.peers(graph) == ["two"]


def test_waves_keep_counting_past_small_numbers():
    c = drain.Coordinator(["b"], interval=0.0)
    for wave in range(1, 301):
        assert c.start_wave(float(wave)) == wave
        c.on_report(drain.parse(drain.report("b", wave, wave, wave - 1)))  # never balanced
        assert c.complete, wave
        assert not c.close(0, 1, float(wave))


def test_an_external_process_never_coordinates():
    """A plain Dora node cannot run the drain's waves: the first like-keras node does, even
    when the external one comes first and the system has no clock."""
    from like_keras.transports.common.target import load_system

    from conftest import SYSTEMS

    flooded = load_system(f"{SYSTEMS}:Flooded").build()
    assert [n.name for n in flooded.nodes][0] == "flooder" and flooded.clock is None
    assert drain.coordinator_of(flooded) == "slow" and drain.peers(flooded) == []


# --- a run fed only by bags ------------------------------------------------------------------


class Heard(Component):
    """Fed by a topic, from outside the system."""

    x = Input(int, topic="/numbers")
    y = Output(int)

    def step(self, x):
        return x


def fed(timers=False):
    """tick (node a, a 10 Hz timer, or an on_start starter) -> pass (node b); heard (node c,
    fed by /numbers) -> eat (node a). Node a coordinates."""
    tick = (Tick if timers else Starter)(name="tick", node=Node("a"))
    comps = [tick, Pass(name="pass", node=Node("b")), Heard(name="heard", node=Node("c")),
             Eat(name="eat", node=tick.node)]
    return System(name="fed", components=comps, connections=[(tick.out, comps[1].x), (comps[2].y, comps[3].x)]
                  ).build()


def test_a_run_ends_when_quiet_only_if_bags_replace_every_timer_and_input_from_outside():
    assert not drain.ends_when_quiet(fed())  # heard.x is fed from outside
    assert drain.ends_when_quiet(fed(), frozenset({"heard.x"}))
    assert drain.ends_when_quiet(fed(), frozenset({"heard"}))  # a replayed component reads nothing
    assert not drain.ends_when_quiet(fed(timers=True), frozenset({"heard.x"}))  # tick's timer
    assert drain.ends_when_quiet(fed(timers=True), frozenset({"heard.x", "tick"}))
    assert drain.players(fed(timers=True), frozenset({"heard.x", "tick"})) == {"a", "c"}


class Played(FakeRuntime):
    fed_out = False


def played(graph, node, replayed, iterations=None):
    sent = {"probe": [], "report": []}
    d = drain.Drain(graph, node, Played(graph.node(node).components), iterations=iterations, replayed=replayed,
                    send_probe=sent["probe"].append, send_report=sent["report"].append)
    return d, sent


def test_the_coordinator_drains_once_every_process_playing_a_bag_is_played_out():
    graph, replayed = fed(timers=True), frozenset({"heard.x", "tick"})
    coord, sent = played(graph, "a", replayed)
    peer, told = played(graph, "c", replayed)
    bystander, quiet = played(graph, "b", replayed)
    assert not coord.draining
    coord.idle(0.0)
    peer.idle(0.0)
    assert sent["probe"] == [] and told["report"] == []  # bags still playing
    coord.runtime.fed_out = True
    coord.idle(1.0)
    assert not coord.draining and sent["probe"] == []  # c's bag is still playing
    peer.runtime.fed_out = True
    peer.idle(2.0)
    peer.idle(3.0)
    assert [json.loads(r) for r in told["report"]] == [{"node": "c", "fed_out": True}]  # said once
    coord.on_report(told["report"][0])
    assert coord.draining
    coord.idle(4.0)
    assert json.loads(sent["probe"][-1]) == {"wave": 1, "exit": False, "stop": True}
    bystander.idle(5.0)
    assert quiet["report"] == []  # it plays nothing: nothing to say


def test_bags_never_start_the_drain_when_something_else_feeds_the_run():
    graph = fed(timers=True)
    coord, sent = played(graph, "a", frozenset({"heard.x"}))  # tick's timer still runs
    coord.runtime.fed_out = True
    coord.on_report(drain.fed_out("c"))
    coord.idle(0.0)
    assert not coord.draining and sent["probe"] == []
    coord, _ = played(graph, "a", frozenset({"heard.x", "tick"}), iterations=5)  # the clock's steps end it
    coord.runtime.fed_out = True
    coord.on_report(drain.fed_out("c"))
    coord.idle(0.0)
    assert not coord.draining


def test_a_stop_asked_of_any_process_stops_and_drains_the_whole_run():
    """A signal or a lifecycle shutdown at a peer: it stops its timers and asks the
    coordinator, once; the coordinator stops the clock and drains."""
    graph = three()
    peer, sent = make(graph, "b")
    peer.request_stop()
    peer.request_stop()
    assert peer.stopping and not peer.draining
    assert [json.loads(r) for r in sent["report"]] == [{"node": "b", "stop": True}]
    coord, coord_sent = make(graph, "a")
    coord.on_report(sent["report"][0])
    assert coord.stopping and coord.draining and coord.runtime.halted == ["tick"]
    coord.request_stop()
    assert coord_sent["report"] == []  # the coordinator asks no one
