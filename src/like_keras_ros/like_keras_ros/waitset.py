"""A node's loop on one reused rclpy wait set, instead of the executor.

rclpy's executor builds a new wait set, and a generator and a task per callback, every
time it runs one: most of what a message costs in Python before any user code. A
like-keras node waits on its subscriptions and timers in one wait set made once, takes
messages raw (CDR bytes, a burst per wake) and calls its handlers directly. What the
loop does not own, the parameter services ``ros2 param`` calls, the /clock subscription
of a node on ROS time (``use_sim_time``) and QoS event handlers, stays with rclpy's
executor, which runs a turn when one of those services or subscriptions is ready and
every ``_EXECUTOR_EVERY`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

_BURST = 64  # messages taken from one subscription per wake, so no subscription or timer starves
_EXECUTOR_EVERY = 0.1  # seconds between two turns of the executor when nothing asked for one


class WaitSetLoop:
    """The subscriptions and timers of ``ros`` that ``subscribe`` and ``timer`` create,
    waited on together; ``executor`` holds ``ros`` for everything else."""

    def __init__(self, ros: Any, executor: Any) -> None:
        self._ros = ros
        self._executor = executor
        self._subs: list[tuple[Any, Callable[[bytes], None]]] = []
        self._timers: list[tuple[Any, Callable[[], None]]] = []
        self._handles = ExitStack()
        self._wait_set: Any = None
        self._services: list[Any] = []  # the handles of the node's services, taken with the wait set
        self._others: list[Any] = []  # and of its subscriptions that the executor serves (/clock)
        self._next_turn = 0.0

    def subscribe(self, msg_class: Any, topic: str, qos: Any, handler: Callable[[bytes], None],
                  **kwargs: Any) -> None:
        """A raw subscription: ``handler`` gets each message's CDR bytes, in order."""
        sub = self._ros.create_subscription(msg_class, topic, handler, qos, raw=True, **kwargs)
        self._subs.append((sub, handler))
        self._wait_set = None

    def timer(self, period: float, handler: Callable[[], None]) -> None:
        """A wall-clock timer of ``period`` seconds."""
        self._timers.append((self._ros.create_timer(period, handler), handler))
        self._wait_set = None

    def spin_once(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds, then handle what is ready."""
        if self._wait_set is None:
            self._build()
        wait_set = self._wait_set
        wait_set.clear_entities()
        for sub, _ in self._subs:
            wait_set.add_subscription(sub.handle)
        for tmr, _ in self._timers:
            wait_set.add_timer(tmr.handle)
        for handle in self._services:
            wait_set.add_service(handle)
        for handle in self._others:
            wait_set.add_subscription(handle)
        wait_set.wait(int(timeout * 1e9))
        ready = wait_set.get_ready_entities("timer")
        for tmr, handler in self._timers:
            if tmr.handle.pointer in ready and tmr.handle.is_timer_ready():
                tmr.handle.call_timer()
                handler()
        ready = wait_set.get_ready_entities("subscription")
        for sub, handler in self._subs:
            if sub.handle.pointer in ready:
                for _ in range(_BURST):
                    taken = sub.handle.take_message(sub.msg_type, True)
                    if taken is None:
                        break
                    handler(taken[0])
        now = time.monotonic()
        theirs = wait_set.get_ready_entities("service") or (
            self._others and any(handle.pointer in ready for handle in self._others))
        if theirs or now >= self._next_turn:
            self._next_turn = now + _EXECUTOR_EVERY
            self._executor.spin_once(timeout_sec=0)

    def _build(self) -> None:
        """The wait set of the subscriptions, the timers, and what the executor serves: the
        node's services (those rclpy makes with the node, such as the parameter services;
        one made later still gets the executor's turns) and its other subscriptions; their
        handles held until ``close``."""
        from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

        self._handles.close()
        services = list(self._ros.services)
        own = {id(sub) for sub, _ in self._subs}
        others = [sub for sub in self._ros.subscriptions if id(sub) not in own]
        for entity in (*(sub for sub, _ in self._subs), *(tmr for tmr, _ in self._timers), *services, *others):
            self._handles.enter_context(entity.handle)
        self._services = [srv.handle for srv in services]
        self._others = [sub.handle for sub in others]
        self._wait_set = _rclpy.WaitSet(len(self._subs) + len(others), 0, len(self._timers), 0, len(services), 0,
                                        self._ros.context.handle)

    def close(self) -> None:
        """Give the handles back, so that the node can destroy them."""
        self._handles.close()
        self._wait_set = None
