"""Simulated time across processes (like_keras.transports.common.lockstep and the drain's
lockstep): the native loop's ticks, one at a time, each once the system is quiet."""

import json

from like_keras import Component, Input, Node, Output, System
from like_keras.transports.common import drain, lockstep
from like_keras_examples.sensor_pipeline import SensorPipeline


def test_the_schedule_ticks_as_the_native_loop_does():
    schedule = lockstep.Schedule(SensorPipeline().build())  # a 30 Hz camera, then a 10 Hz controller
    ticks = [schedule.pop() for _ in range(5)]
    third = round(1e9 / 30)
    assert ticks == [(third, "camera"), (2 * third, "camera"), (3 * third, "camera"), (100_000_000, "controller"),
                     (4 * third, "camera")]  # the controller's 100 ms comes just after the camera's 99.99 ms
    schedule.halt("camera")
    assert schedule.pop() == (200_000_000, "controller")


def test_a_period_is_the_nearest_whole_nanosecond_and_never_zero():
    assert lockstep.period_ns(1) == 1_000_000_000
    assert lockstep.period_ns(7) == 142_857_143  # 142857142.86 rounds up
    assert lockstep.period_ns(3e9) == 1  # faster than a nanosecond still ticks, once a nanosecond


def test_lockstep_applies_to_a_closed_system_with_timers_unless_real_time():
    graph = SensorPipeline().build()
    assert lockstep.applies(graph, realtime=False, replayed=set())
    assert not lockstep.applies(graph, realtime=True, replayed=set())
    assert not lockstep.applies(graph, realtime=False, replayed={"camera"})  # a bag paced by the wall clock

    class Heard(Component):
        x = Input(int, topic="/numbers")

        def step(self, x):
            pass

    class Tick(Component):
        out = Output(int)
        rate_hz = 10.0

        def step(self):
            return 1

    fed = System(name="fed", components=[Tick(name="tick"), Heard(name="heard")]).build()
    assert not lockstep.applies(fed, realtime=False, replayed=set())  # /numbers comes in wall time
    quiet = System(name="quiet", components=[Heard(name="heard")]).build()
    assert not lockstep.applies(quiet, realtime=False, replayed={"heard.x"})


class Runtime:
    """What the drain sees of a NodeRuntime: its components, the ticks it was given."""

    def __init__(self, components):
        self.components = dict.fromkeys(components)
        self.ticked = []
        self.halted = []

    def tick(self, name):
        self.ticked.append(name)

    def halt(self, name=None):
        self.halted.append(name)


def two_nodes():
    """A 10 Hz tick (node a, the clock's) and a 4 Hz one (node b)."""

    class Fast(Component):
        out = Output(int)
        rate_hz = 10.0

        def step(self):
            return 1

    class Slow(Fast):
        rate_hz = 4.0

    fast, slow = Fast(name="fast", node=Node("a")), Slow(name="slow", node=Node("b"))
    return System(name="two", components=[fast, slow], config=System.Config(name="two", clock="fast")).build()


def run(coord, peer, sent, counts=lambda wave: (0, 0), looks=60):
    """The coordinator's idle looks, one a second; the peer gets every probe and tick in
    order and answers each wave with ``counts(wave)`` (its sent and received totals)."""
    seen = 0
    for now in range(1, looks + 1):
        coord.idle(float(now))
        for payload in sent["probe"][seen:]:
            msg = json.loads(payload)
            peer.on_probe(payload)
            if "wave" in msg and not msg["exit"]:
                assert msg["stop"] is coord.stopping  # looking for quiet stops nothing
                coord.on_report(drain.report("b", msg["wave"], *counts(msg["wave"])))
        seen = len(sent["probe"])
        if coord.leaving:
            return


def test_the_coordinator_ticks_once_the_system_is_quiet_and_every_process_follows_its_clock():
    graph = two_nodes()
    times = []
    sent = {"probe": [], "report": []}
    epoch = 1_700_000_000_000_000_000  # the launch's wall time: every node's simulated 0
    coord = drain.Drain(graph, "a", Runtime(["fast"]), iterations=None, lockstep=True, duration=0.3, epoch_ns=epoch,
                        send_probe=sent["probe"].append, send_report=sent["report"].append, on_time=times.append)
    peer = drain.Drain(graph, "b", Runtime(["slow"]), iterations=None, lockstep=True, epoch_ns=epoch,
                       send_probe=print, send_report=print)
    assert coord.draining and coord.sim_ns == peer.sim_ns == epoch  # on_start's time; it looks for quiet
    assert peer.schedule is None  # only the coordinator ticks
    run(coord, peer, sent)
    assert [t - epoch for t in times] == [100_000_000, 200_000_000, 250_000_000, 300_000_000]
    assert coord.runtime.ticked == ["fast", "fast", "fast"] and peer.runtime.ticked == ["slow"]
    assert peer.sim_ns == coord.sim_ns == epoch + 300_000_000  # one clock
    assert coord.leaving and coord.stopping and peer.leaving  # past 0.3 simulated seconds: stopped, drained
    sent_in_order = [json.loads(p) for p in sent["probe"]]
    for i, msg in enumerate(sent_in_order):  # every process had a tick's time before the tick was made
        if "tick" in msg:
            assert sent_in_order[i - 1] == {"wave": sent_in_order[i - 1]["wave"], "exit": False, "stop": False,
                                            "t": msg["t"]}, sent_in_order[:i + 1]


def test_a_tick_waits_for_the_messages_it_caused():
    """After the first tick the peer's counts move (3 sent, then 3 received): the next tick
    comes only once two waves in a row give the same balanced totals."""
    graph = two_nodes()
    sent = {"probe": [], "report": []}
    coord = drain.Drain(graph, "a", Runtime(["fast"]), iterations=None, lockstep=True, duration=0.1,
                        send_probe=sent["probe"].append, send_report=sent["report"].append)
    peer = drain.Drain(graph, "b", Runtime(["slow"]), iterations=None, send_probe=print, send_report=print)
    answers = {}

    def counts(wave):  # once ticked, the coordinator has sent 3; b receives 1 (three waves), then all 3
        if not coord.runtime.ticked:
            answers[wave] = (0, 0)
        else:
            coord.sent = 3
            since = sum(1 for a in answers.values() if a != (0, 0))
            answers[wave] = (0, 1) if since < 3 else (0, 3)
        return answers[wave]

    run(coord, peer, sent, counts)
    waves = [json.loads(p) for p in sent["probe"]]
    first_tick = next(i for i, m in enumerate(waves) if "tick" in m)
    after = [m for m in waves[first_tick + 1:] if "wave" in m]
    assert coord.leaving and coord.runtime.ticked == ["fast"]
    assert [answers[m["wave"]] for m in after][:3] == [(0, 1), (0, 1), (0, 1)]  # in flight: no end yet
    assert [answers[m["wave"]] for m in after][-2:] == [(0, 3), (0, 3)]  # it ended on two balanced waves
