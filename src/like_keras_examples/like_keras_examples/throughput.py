"""Throughput: a producer as fast as the CPU allows, a consumer in another node.

The producer is stepped by a local echo loop (no timer), so every message it sends to
the consumer measures what the transport carries, and a lossless transport must
deliver all of them, in order. ``iterations`` bounds the run.

Run it: ``lk run like_keras_examples.throughput:Flood --transport dora --iterations 20000 --record consumer.y``.
"""

from __future__ import annotations

from like_keras import Component, Input, Node, Output, System


class Producer(Component):
    """Counts 1, 2, 3...: ``out`` to the consumer, ``loop`` to the local echo."""

    again = Input(int)
    out = Output(int)
    loop = Output(int)

    def on_start(self):
        self.n = 0
        return {"loop": 0}

    def step(self, again):
        self.n += 1
        return {"out": self.n, "loop": self.n}


class Echo(Component):
    """Sends back what it gets."""

    x = Input(int)
    y = Output(int)

    def step(self, x):
        return x


class Flood(System):
    """Producer and echo in node ``fast``, the consumer (an echo) in node ``slow``."""

    def __init__(self):
        self.fast = Node("fast")
        self.slow = Node("slow")
        self.producer = Producer.from_node(self.fast)
        self.echo = Echo.from_node(self.fast)
        self.consumer = Echo.from_node(self.slow)
        self.connect(self.producer.loop, self.echo.x)
        self.connect(self.echo.y, self.producer.again)
        self.connect(self.producer.out, self.consumer.x)
        super().__init__(config=System.Config(name="flood"))
