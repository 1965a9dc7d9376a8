"""Credit-based flow control between like-keras runners on Dora: the plan (windows,
acknowledgement batches) and the sender's and receiver's sides, without Dora. The live
tests (integration/test_dora.py) show it keeps a slow consumer lossless on the real engine."""

import json

import pyarrow as pa

from like_keras.transports.common.target import load_system
from like_keras.transports.dora.compiler import plan
from like_keras.transports.dora.flow import HANDLED, FlowControl

from conftest import SYSTEMS


def ack(sender_of, counts):
    return {"type": "INPUT", "id": f"lk_ack_{sender_of}",
            "value": pa.array([json.dumps({"from": sender_of, "counts": counts})])}


def data(iid):
    # Built at run time, as Dora's event strings are: never the interned literal.
    return {"type": "".join(["IN", "PUT"]), "id": iid, "value": pa.array([1])}


def test_small_messages_keep_half_the_queue_in_flight_acked_every_quarter():
    plans = plan(load_system("like_keras_examples.throughput:Flood").build())
    assert plans["fast"].flow == {"producer__out": {"slow": 500}}  # backpressure queue of 1,000
    assert plans["slow"].ack_every == {"producer__out": 125}
    assert plans["slow"].inputs["producer__out"]["queue_size"] == 1000


def test_the_sender_waits_for_room_and_acks_make_it():
    sender = FlowControl(plan(load_system("like_keras_examples.throughput:Flood").build())["fast"], "fast",
                         lambda payload: None)
    for _ in range(499):
        sender.sent("producer__out")
    assert not sender.blocked("producer__out")
    sender.sent("producer__out")
    assert sender.blocked("producer__out")  # 500 in flight: the window is full
    assert sender.on_event(ack("slow", {"producer__out": 1})) is HANDLED
    assert not sender.blocked("producer__out")  # 499 in flight
    sender.sent("producer__out")
    assert sender.blocked("producer__out")
    assert sender.on_event(ack("slow", {"producer__out": 501})) is HANDLED
    assert sender.in_flight[("producer__out", "slow")] - sender.acked[("producer__out", "slow")] == 0
    assert not sender.blocked("echo__y")  # a local output: no window


def test_acks_from_strangers_or_for_other_outputs_change_nothing():
    sender = FlowControl(plan(load_system("like_keras_examples.throughput:Flood").build())["fast"], "fast",
                         lambda payload: None)
    for _ in range(500):
        sender.sent("producer__out")
    assert sender.on_event(ack("elsewhere", {"producer__out": 500})) is HANDLED
    assert sender.on_event(ack("slow", {"other__out": 500})) is HANDLED
    assert sender.blocked("producer__out")


def test_the_receiver_acknowledges_in_batches_with_running_totals():
    acks = []
    receiver = FlowControl(plan(load_system("like_keras_examples.throughput:Flood").build())["slow"], "slow",
                           lambda payload: acks.append(json.loads(payload)))  # sent as JSON
    for n in range(1, 261):
        event = data("producer__out")
        assert receiver.on_event(event) is event  # data goes on to the runner
        if n in (124, 125, 130, 249, 250, 255):
            receiver.send_due()  # the runner is about to wait: only a due acknowledgement leaves
    assert acks == [{"from": "slow", "counts": {"producer__out": 125}},
                    {"from": "slow", "counts": {"producer__out": 250}}]  # 125 more since the last
    other = {"type": "INPUT", "id": "lk_probe", "value": pa.array(["{}"])}
    assert receiver.on_event(other) is other and len(acks) == 2  # not under flow control
    for other in ({"type": "STOP"}, {"type": "ERROR", "error": "timeout"}, {"type": "INPUT_CLOSED", "id": "x"}):
        assert receiver.on_event(other) is other  # not data: passed on untouched
    assert receiver.on_event(None) is None and len(acks) == 2


def test_at_most_one_big_array_is_in_flight_on_the_direct_path():
    graph = load_system(f"{SYSTEMS}:BigFlood").build()
    plans = plan(graph)
    assert plans["fast"].flow == {"producer__out": {"slow": 1}}
    assert plans["slow"].ack_every == {"producer__out": 1}  # every frame acknowledged at once
    sender = FlowControl(plans["fast"], "fast", lambda payload: None)
    assert not sender.blocked("producer__out")
    sender.sent("producer__out")
    assert sender.blocked("producer__out")  # a second 16 MB frame waits for the first's ack
    assert sender.on_event(ack("slow", {"producer__out": 1})) is HANDLED
    assert not sender.blocked("producer__out")


def test_lossy_inputs_take_no_part():
    from like_keras import Component, Input, Node, Output, System

    class Cam(Component):
        out = Output(int)
        rate_hz = 10.0

        def step(self):
            return 1

    class View(Component):
        x = Input(int, keep_last=2)

        def step(self, x):
            pass

    cam, view = Cam(name="cam", node=Node("a")), View(name="view", node=Node("b"))
    plans = plan(System(name="lossy", components=[cam, view], connections=[(cam.out, view.x)]).build())
    assert plans["a"].flow == {} and plans["b"].ack_every == {} and plans["a"].batched == set()
    assert plans["b"].inputs["cam__out"]["queue_policy"] == "drop_oldest"


def test_a_lossless_reader_beside_a_keep_last_one_keeps_the_edge_reliable_and_flow_controlled():
    plans = plan(load_system(f"{SYSTEMS}:MixedReaders").build())
    assert plans["b"].inputs["ticker__out"]["queue_policy"] == "backpressure"
    assert "ticker__out" not in plans["b"].lossy
    assert set(plans["a"].flow) == {"ticker__out"} and set(plans["a"].flow["ticker__out"]) == {"b"}
    assert plans["b"].ack_every["ticker__out"] > 0


def test_only_small_lossless_messages_between_runners_travel_in_batches():
    assert plan(load_system("like_keras_examples.throughput:Flood").build())["fast"].batched == {"producer__out"}
    assert plan(load_system(f"{SYSTEMS}:BigFlood").build())["fast"].batched == set()  # Arrays: one a send
    external = plan(load_system(f"{SYSTEMS}:WithExternal").build())
    assert external["main"].batched == set()  # a plain Dora script reads one value a message
    assert external["doubler"].batched == set()


def test_a_due_acknowledgement_rides_on_data_back_to_the_sender():
    from like_keras import Component, Input, Node, Output, System

    class Ping(Component):
        pong = Input(int)
        ping = Output(int)

        def on_start(self):
            return 0

        def step(self, pong):
            return pong

    ping, pong = Ping(name="ping", node=Node("a")), Ping(name="pong", node=Node("b"))
    plans = plan(System(name="pp", components=[ping, pong],
                        connections=[(ping.ping, pong.pong), (pong.ping, ping.pong)]).build())
    sent_acks = []
    a = FlowControl(plans["a"], "a", sent_acks.append)
    b = FlowControl(plans["b"], "b", sent_acks.append)
    for _ in range(plans["b"].ack_every["ping__ping"]):
        a.sent("ping__ping")
        b.on_event({**data("ping__ping"), "metadata": {"seq": 1}})
    metadata = {"seq": 1}
    b.carry("pong__ping", metadata)  # b replies to a: the acknowledgement goes along
    b.send_due()
    assert sent_acks == []  # nothing left to send on its own
    in_flight = a.in_flight[("ping__ping", "b")]
    assert a.acked[("ping__ping", "b")] == 0
    a.on_event({**data("pong__ping"), "metadata": json.loads(json.dumps(metadata))})
    assert a.acked[("ping__ping", "b")] == in_flight


def test_an_acknowledgement_rides_only_on_outputs_that_reach_every_node_owed_one():
    # b reads a's output and sends to a and c on one output, to c alone on another.
    from like_keras import Component, Input, Node, Output, System

    class Source(Component):
        out = Output(int)
        rate_hz = 10.0

        def step(self):
            return 1

    class Fan(Component):
        x = Input(int)
        both = Output(int)
        only_c = Output(int)

        def step(self, x):
            return {"both": x, "only_c": x}

    class Sink(Component):
        x = Input(int)
        y = Input(int, trigger=False)

        def step(self, x, y):
            pass

    a = Node("a")
    src, fan = Source(name="src", node=a), Fan(name="fan", node=Node("b"))
    back, sink = Sink(name="back", node=a), Sink(name="sink", node=Node("c"))
    graph = System(name="fan", components=[src, fan, back, sink],
                   connections=[(src.out, fan.x), (fan.both, back.x), (fan.both, sink.x),
                                (fan.only_c, sink.y)]).build()
    b = FlowControl(plan(graph)["b"], "b", lambda payload: None)
    assert b.carries_acks == {"fan__both"}
    for _ in range(plan(graph)["b"].ack_every["src__out"]):
        b.on_event({**data("src__out"), "metadata": {}})
    assert b.ack_due
    metadata = {}
    b.carry("fan__only_c", metadata)  # c is not owed it: nothing rides, still due
    assert metadata == {} and b.ack_due
    b.carry("fan__both", metadata)
    assert metadata["ack_from"] == "b" and json.loads(metadata["ack"]) == {"src__out": b.receipts["src__out"]}
    assert not b.ack_due
    metadata = {}
    b.carry("fan__both", metadata)  # nothing due: nothing rides
    assert metadata == {}
