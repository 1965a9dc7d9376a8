"""Small systems for the live ROS 2 tests (rebuilt by each ROS 2 node from this file)."""

import os
import sys
import time
from pathlib import Path

from like_keras import Component, Input, Node, Output, System
from like_keras_examples.cartpole import BalanceAgent, CartPoleEnv

from components import Ticker


class Lifecycle(Component):
    """Echoes; writes one line per on_start and on_stop to ``LK_TEST_LOG/<name>``, and
    fails where ``LK_TEST_FAILURE`` says (``on_start`` or ``step``)."""

    x = Input(int)
    y = Output(int)

    def on_start(self):
        self._log("start")
        if os.environ.get("LK_TEST_FAILURE") == "on_start":
            raise RuntimeError("no sensor found")

    def step(self, x):
        if x == 5 and os.environ.get("LK_TEST_FAILURE") == "step":
            raise ValueError(f"cannot handle {x}")
        return x

    def on_stop(self):
        self._log("stop")

    def _log(self, what):
        folder = os.environ.get("LK_TEST_LOG")
        if folder:
            with open(Path(folder) / self.name, "a") as f:
                f.write(what + "\n")


class Chain(System):
    """A 50 Hz ticker in node 'head' feeding an echo in node 'tail'."""

    def __init__(self):
        self.head = Node("head")
        self.tail = Node("tail")
        self.ticker = Ticker.from_node(self.head)
        self.echo = Lifecycle.from_node(self.tail)
        self.connect(self.ticker.out, self.echo.x)
        super().__init__(config=System.Config(name="chain"))


class LatePeer(System):
    """Cart-pole whose 'control' node process comes up 3 s late (as on a loaded robot)."""

    def __init__(self):
        if Path(sys.argv[0]).name == "control":  # the node's executable: lib/<pkg>/control
            time.sleep(3)
        self.sim = Node("sim")
        self.control = Node("control")
        self.env = CartPoleEnv.from_node(self.sim)
        self.agent = BalanceAgent.from_node(self.control)
        self.connect(self.env.obs, self.agent.obs)
        self.connect(self.agent.action, self.env.action)
        super().__init__(config=System.Config(name="late_peer"))


class Doubler(Component):
    """Doubles what ROS nodes like-keras did not write publish on /numbers, onto /doubled."""

    x = Input(int, topic="/numbers")
    y = Output(int, topic="/doubled")

    def step(self, x):
        return 2 * x


class FedFromOutside(System):
    def __init__(self):
        self.doubler = Doubler()
        super().__init__(config=System.Config(name="fed"))


class FloatDoubler(Component):
    """Doubles the std_msgs/Float64 a plain ROS node publishes on /floats."""

    x = Input(float, topic="/floats")
    y = Output(float)

    def step(self, x):
        return 2 * x


class FloatsFromOutside(System):
    """Nothing but /floats feeds it: replayed from a bag, it ends with the bag."""

    def __init__(self):
        self.doubler = FloatDoubler()
        super().__init__(config=System.Config(name="floats"))


class CountedFromOutside(System):
    """FedFromOutside with the doubler as its clock: ``iterations`` counts what arrives."""

    def __init__(self):
        self.doubler = Doubler()
        super().__init__(config=System.Config(name="counted", clock="doubler"))


class SensorDoubler(Doubler):
    """A Doubler reading /numbers as drivers publish sensor data: best effort, keep last 5."""

    x = Input(int, topic="/numbers", keep_last=5)


class SensorFed(System):
    def __init__(self):
        self.doubler = SensorDoubler()
        super().__init__(config=System.Config(name="sensor_fed"))


class MapServer(Component):
    """Sends a map once, at start, and then its status: on ROS 2 the map's topic is latched,
    and the status faces outside on /status (its QoS can be overridden)."""

    map = Output(str, latched=True)
    version = Output(int, latched=True)
    status = Output(int, topic="/status")
    rate_hz = 50.0

    def on_start(self):
        self.n = 0
        return {"map": "the map"}

    def step(self):
        self.n += 1
        return {"version": self.n, "status": self.n}


class Versions(Component):
    version = Input(int)
    seen = Output(int)

    def step(self, version):
        return version


class Latched(System):
    """The map server in node 'server'; a reader of every map version in node 'reader'."""

    def __init__(self):
        self.server = MapServer.from_node(Node("server"))
        self.versions = Versions.from_node(Node("reader"))
        self.connect(self.server.version, self.versions.version)
        super().__init__(config=System.Config(name="latched", clock="server"))


class Echoed(Lifecycle):
    """``Lifecycle`` that also publishes on /echoed, for ROS tools outside the system."""

    y = Output(int, topic="echoed")


class ManagedChain(System):
    """``Chain`` whose 'tail' is a lifecycle node: autostarted unless ``autostart=False``."""

    def __init__(self, autostart=True):
        self.head = Node("head")
        self.tail = Node("tail", lifecycle=True, autostart=autostart)
        self.ticker = Ticker.from_node(self.head)
        self.echo = Echoed.from_node(self.tail)
        self.connect(self.ticker.out, self.echo.x)
        super().__init__(config=System.Config(name="managed_chain"))
