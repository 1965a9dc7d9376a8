"""The Dora runner's timers: on their period's grid, a late tick fires once, never queued."""

import pytest

from like_keras.transports.dora.timers import Timers


MS = 1_000_000  # nanoseconds


def test_ticks_fall_on_the_grid_from_the_start():
    timers = Timers({"cam": 10.0, "imu": 40.0})
    timers.start(100_000 * MS)
    assert timers.wait(100_000 * MS) == pytest.approx(0.025)
    assert timers.due(100_020 * MS) == []
    assert timers.due(100_025 * MS) == ["imu"]
    assert timers.due(100_110 * MS) == ["imu", "cam"]  # in the order they fell due; imu's 075 skipped
    assert timers.wait(100_110 * MS) == pytest.approx(0.015)  # back on imu's grid: 100_125
    assert timers.due(100_125 * MS) == ["imu"]
    assert timers.wait(100_125 * MS) == pytest.approx(0.025)


def test_a_late_timer_fires_once_and_skips_what_it_missed():
    timers = Timers({"fast": 100_000.0})
    timers.start(0)
    assert timers.due(1000 * MS) == ["fast"]  # 100,000 ticks late: one tick, not 100,000
    assert timers.due(1000 * MS) == []
    assert timers.wait(1000 * MS) == pytest.approx(1e-5)
    assert timers.due(1000 * MS + 10_000) == ["fast"]


def test_no_timers_no_wait():
    timers = Timers({})
    timers.start(5)
    assert timers.wait(5) is None and timers.due(6 * MS) == []
