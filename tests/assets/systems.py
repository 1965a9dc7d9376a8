"""Small systems for the Dora tests (rebuilt by each Dora node from this file)."""

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from like_keras import Array, Component, Input, Node, Output, System
from like_keras_examples.throughput import Echo, Producer

from components import Ticker

HERE = Path(__file__).resolve().parent


class Fragile(Component):
    """Fails at message 5: by raising, by killing its own process (kill -9), or by
    ``sys.exit(0)``, as ``LK_TEST_FAILURE`` says."""

    x = Input(int)

    def step(self, x):
        if x == 5:
            how = os.environ.get("LK_TEST_FAILURE")
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if how == "exit":
                sys.exit(0)
            raise ValueError(f"cannot handle {x}")


class Failing(System):
    """A timer node beside a node whose step fails: Dora alone would hang."""

    def __init__(self):
        self.timers = Node("timers")
        self.worker = Node("worker")
        self.ticker = Ticker.from_node(self.timers)
        self.fragile = Fragile.from_node(self.worker)
        self.connect(self.ticker.out, self.fragile.x)
        super().__init__(config=System.Config(name="failing"))


class Hang(Component):
    x = Input(int)

    def step(self, x):
        import time

        time.sleep(3600)


class Hanging(System):
    def __init__(self):
        self.a = Node("a")
        self.b = Node("b")
        self.ticker = Ticker.from_node(self.a)
        self.hang = Hang.from_node(self.b)
        self.connect(self.ticker.out, self.hang.x)
        super().__init__(config=System.Config(name="hanging"))


class Big(Component):
    out = Output(Array(np.float32, (2048, 2048)))  # 16 MB

    def step(self):
        return np.full((2048, 2048), 1.5, np.float32)


class TwoMachines(System):
    """The cart-pole loop with its nodes on two machines."""

    def __init__(self, sim_machine: str = "robot", control_machine: str = "base"):
        from like_keras_examples.cartpole import BalanceAgent, CartPoleEnv

        self.sim = Node("sim", machine=sim_machine)
        self.control = Node("control", machine=control_machine)
        self.env = CartPoleEnv.from_node(self.sim)
        self.agent = BalanceAgent.from_node(self.control)
        self.connect(self.env.obs, self.agent.obs)
        self.connect(self.agent.action, self.env.action)
        super().__init__(config=System.Config(name="two_machines"))


class FloatTicker(Component):
    out = Output(float)
    rate_hz = 100.0

    def on_start(self):
        self.n = 0.0

    def step(self):
        self.n += 1.0
        return self.n


class WithExternal(System):
    """ticker -> a plain Dora script (doubles) -> sink."""

    def __init__(self):
        self.main = Node("main")
        self.doubler = Node("doubler", executable=sys.executable, args=["-u", str(HERE / "doubler.py")],
                            inputs={"x": float}, outputs={"y": float})
        self.sink_node = Node("sinks")
        self.ticker = FloatTicker.from_node(self.main)
        self.sink = EchoFloat.from_node(self.sink_node)
        self.connect(self.ticker.out, self.doubler.x)
        self.connect(self.doubler.y, self.sink.x)
        super().__init__(config=System.Config(name="with_external"))


class EchoFloat(Component):
    x = Input(float)
    y = Output(float)

    def step(self, x):
        return x


class BigProducer(Producer):
    """Sends 16 MB arrays as fast as the CPU allows, its count in the first pixel."""

    out = Output(Array(np.float32, (2048, 2048)))

    def on_start(self):
        self.frame = np.zeros(type(self).outputs["out"].type.shape, np.float32)
        return super().on_start()

    def step(self, again):
        out = super().step(again)
        self.frame[0, 0] = out["out"]
        return {"out": self.frame, "loop": out["loop"]}


class FirstPixel(Component):
    x = Input(Array(np.float32, (2048, 2048)))
    y = Output(float)

    def step(self, x):
        return float(x[0, 0])


class BigFlood(System):
    """16 MB frames from a fast producer in node 'fast' to a reader in node 'slow'."""

    producer_cls, reader_cls, system_name = BigProducer, FirstPixel, "big_flood"

    def __init__(self):
        self.fast = Node("fast")
        self.slow = Node("slow")
        self.producer = self.producer_cls.from_node(self.fast)
        self.echo = Echo.from_node(self.fast)
        self.reader = self.reader_cls.from_node(self.slow)
        self.connect(self.producer.loop, self.echo.x)
        self.connect(self.echo.y, self.producer.again)
        self.connect(self.producer.out, self.reader.x)
        super().__init__(config=System.Config(name=self.system_name))


class SlowEcho(Echo):
    """An echo that takes 0.5 ms a message."""

    def step(self, x):
        import time

        time.sleep(0.0005)
        return x


class Glance(Component):
    """Looks at the latest number only (``keep_last=1``): it may miss some, by choice."""

    x = Input(int, keep_last=1)

    def step(self, x):
        pass


class MixedReaders(System):
    """One source read in one node twice: a slow echo that must get every number and a
    glance that opted into keeping only the latest. The echo keeps the edge lossless."""

    def __init__(self):
        self.a, self.b = Node("a"), Node("b")
        self.ticker = FastTicker.from_node(self.a)
        self.echo = SlowEcho.from_node(self.b)
        self.glance = Glance.from_node(self.b)
        self.connect(self.ticker.out, self.echo.x)
        self.connect(self.ticker.out, self.glance.x)
        super().__init__(config=System.Config(name="mixed_readers"))


class SlowFlood(System):
    """The throughput flood into a slow consumer."""

    def __init__(self):
        self.fast = Node("fast")
        self.slow = Node("slow")
        self.producer = Producer.from_node(self.fast)
        self.echo = Echo.from_node(self.fast)
        self.consumer = SlowEcho.from_node(self.slow)
        self.connect(self.producer.loop, self.echo.x)
        self.connect(self.echo.y, self.producer.again)
        self.connect(self.producer.out, self.consumer.x)
        super().__init__(config=System.Config(name="slow_flood"))


class Victim(Component):
    """Sends on what it gets, and fails where ``LK_TEST_FAILURE`` says: ``step`` (a raise
    at message 60), ``kill`` (kill -9 at 60), ``hang`` (sleeps at 60), ``interrupt``
    (Ctrl-C at 60, native), ``on_start`` or ``on_stop`` (a raise there)."""

    x = Input(int)
    seen = Output(int)

    def on_start(self):
        if os.environ.get("LK_TEST_FAILURE") == "on_start":
            raise RuntimeError("no camera found")

    def step(self, x):
        how = os.environ.get("LK_TEST_FAILURE")
        if x == 60:
            if how == "step":
                raise ValueError(f"cannot handle {x}")
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if how == "hang":
                import time

                time.sleep(3600)
            if how == "interrupt":
                raise KeyboardInterrupt
        return x

    def on_stop(self):
        if os.environ.get("LK_TEST_FAILURE") == "on_stop":
            raise RuntimeError("could not park the arm")


class Chronicle(System):
    """A 50 Hz ticker in node 'timers' feeding a victim in node 'worker'; both recorded."""

    def __init__(self):
        self.timers = Node("timers")
        self.worker = Node("worker")
        self.ticker = Ticker.from_node(self.timers)
        self.victim = Victim.from_node(self.worker)
        self.connect(self.ticker.out, self.victim.x)
        super().__init__(config=System.Config(name="chronicle"))


class FastTicker(Ticker):
    rate_hz = 100_000.0


class Overload(System):
    """A 100 kHz timer, far faster than its node can step, into a consumer in another node."""

    def __init__(self):
        self.timers = Node("timers")
        self.sinks = Node("sinks")
        self.ticker = FastTicker.from_node(self.timers)
        self.consumer = Echo.from_node(self.sinks)
        self.connect(self.ticker.out, self.consumer.x)
        super().__init__(config=System.Config(name="overload"))


class Line(System):
    """Three nodes in a line: a 100 Hz ticker, a relay, a sink. Runs until stopped."""

    def __init__(self):
        self.ticker = Ticker.from_node(Node("a"))
        self.relay = Echo.from_node(Node("b"))
        self.sink = Echo.from_node(Node("c"))
        self.connect(self.ticker.out, self.relay.x)
        self.connect(self.relay.y, self.sink.x)
        super().__init__(config=System.Config(name="line"))


class DiesWhileStarting(Line):
    """Line, but node c's process is killed while Dora starts the dataflow (before its
    Node() returns): a kill -9 at the worst moment, every time."""

    def __init__(self):
        if "--node" in sys.argv and sys.argv[sys.argv.index("--node") + 1] == "c":  # in node c's runner
            os.kill(os.getpid(), signal.SIGKILL)
        super().__init__()


class Flooded(System):
    """A plain Dora node floods a like-keras consumer that takes 0.5 ms a message: past
    the backpressure queue's hard cap Dora drops (a plain node takes no part in flow control)."""

    def __init__(self, count: int = 30_000):
        self.flooder = Node("flooder", executable=sys.executable, args=["-u", str(HERE / "flooder.py"), str(count)],
                            outputs={"out": int})
        self.consumer = SlowEcho.from_node(Node("slow"))
        self.connect(self.flooder.out, self.consumer.x)
        super().__init__(config=System.Config(name="flooded"))


class MegaProducer(BigProducer):
    """Sends 1 MB arrays as fast as the CPU allows."""

    out = Output(Array(np.float32, (512, 512)))


class SlowPixel(FirstPixel):
    """Takes 5 ms a 1 MB frame."""

    x = Input(Array(np.float32, (512, 512)))

    def step(self, x):
        import time

        time.sleep(0.005)
        return super().step(x)


class MegaFlood(BigFlood):
    """1 MB arrays from a producer as fast as the CPU allows into a consumer taking 5 ms each."""

    producer_cls, reader_cls, system_name = MegaProducer, SlowPixel, "mega_flood"


class Hello(Component):
    out = Output(int)

    def on_start(self):
        return 1


class Greeting(System):
    """A component that only speaks from on_start, heard in another node: its clock never steps."""

    def __init__(self):
        self.hello = Hello.from_node(Node("a"))
        self.ear = Echo.from_node(Node("b"))
        self.connect(self.hello.out, self.ear.x)
        super().__init__(config=System.Config(name="greeting"))


class Breaks(Component):
    """Raises at message 5 when its Config says ``raise``; ``never``: it does not."""

    x = Input(int)

    @dataclass
    class Config:
        how: str = "raise"

    def step(self, x):
        if x == 5 and self.config.how == "raise":
            raise ValueError(f"cannot handle {x}")


class Robots(System):
    """A ticker on machine 'robot' feeding a component on machine 'base' that raises at
    message 5 (``how="raise"``) or not (``"never"``)."""

    def __init__(self, how: str = "raise"):
        self.robot = Node("ticks", machine="robot")
        self.base = Node("works", machine="base")
        self.ticker = Ticker.from_node(self.robot)
        self.breaks = Breaks.from_node(self.base, config=Breaks.Config(how=how))
        self.connect(self.ticker.out, self.breaks.x)
        super().__init__(config=System.Config(name="robots"))
