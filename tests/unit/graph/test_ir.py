"""The graph's delivery rule (``SystemGraph.keep_last``, ``lossless_readers``): an edge is
lossy only when every reader of a source in a node opted in with ``keep_last``; one
lossless reader keeps it reliable and under flow control (the plans of each transport
follow it: tests/unit/transports/dora/test_flow.py, tests/unit/ros/test_host.py)."""

from like_keras import Component, Input, Node, Output, System
from like_keras.transports.common.target import load_system

from conftest import SYSTEMS


class Cam(Component):
    out = Output(int)
    side = Output(int)
    rate_hz = 10.0

    def step(self):
        return {"out": 1, "side": 2}


def reader(keep_last):
    class Reader(Component):
        x = Input(int, keep_last=keep_last)

        def step(self, x):
            pass

    return Reader


def test_one_lossless_reader_keeps_the_edge_lossless():
    graph = load_system(f"{SYSTEMS}:MixedReaders").build()
    assert graph.keep_last([("echo", "x"), ("glance", "x")]) is None
    assert graph.keep_last([("glance", "x"), ("echo", "x")]) is None  # whatever the order
    assert graph.lossless_readers("ticker", "out") == ["b"]


def test_lossy_when_every_reader_opted_in_keeping_the_most_asked():
    b = Node("b")
    cam = Cam(name="cam", node=Node("a"))
    one, two = reader(2)(name="one", node=b), reader(5)(name="two", node=b)
    graph = System(name="g", components=[cam, one, two], connections=[(cam.out, one.x), (cam.out, two.x)]).build()
    assert graph.keep_last([("one", "x"), ("two", "x")]) == 5
    assert graph.keep_last([("one", "x")]) == 2
    assert graph.lossless_readers("cam", "out") == []


def test_lossless_readers_are_the_other_nodes_sorted_each_judged_alone():
    a = Node("a")
    cam, here = Cam(name="cam", node=a), reader(None)(name="here", node=a)
    lossy, c, d = reader(1)(name="lossy", node=Node("b")), reader(None)(name="c", node=Node("d")), \
        reader(None)(name="d", node=Node("c"))
    graph = System(name="g", components=[cam, here, lossy, c, d],
                   connections=[(cam.out, here.x), (cam.out, lossy.x), (cam.out, c.x), (cam.out, d.x)]).build()
    assert graph.lossless_readers("cam", "out") == ["c", "d"]  # not its own node, not b (keep_last only)


def test_lossless_readers_are_those_of_that_port_only():
    cam = Cam(name="cam", node=Node("a"))
    main, aside = reader(None)(name="main", node=Node("m")), reader(None)(name="aside", node=Node("s"))
    graph = System(name="g", components=[cam, main, aside],
                   connections=[(cam.out, main.x), (cam.side, aside.x)]).build()
    port = "".join(["o", "ut"])  # a name built at run time, as a parsed one is: compared by value
    assert graph.lossless_readers("cam", port) == ["m"]
    assert graph.lossless_readers("cam", "side") == ["s"]
