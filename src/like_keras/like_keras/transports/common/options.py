"""``RunOptions``: how one run goes, the same on every transport, and ``check_run``: what
every transport checks of them before anything starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from like_keras.graph.ir import SystemGraph
from like_keras.graph.validation import require_stepping_clock

if TYPE_CHECKING:
    from like_keras.recording.replay import Replay, Source


@dataclass(frozen=True)
class RunOptions:
    """What ``System.launch`` asks of a transport, whichever it is.

    Args:
        iterations: steps of the clock component before the run drains and stops.
        duration: seconds to run (simulated time natively unless ``realtime``).
        realtime: pace timers to the wall clock (natively; Dora and ROS 2 always are).
        record: ports to record, as ``"component.port"``.
        timeout: wall-clock seconds before the run is stopped and RunTimeoutError raised.
        progress: show a progress bar.
        run_dir: where the run keeps its files (default: a new temporary directory).
        replay: components (or inputs) fed from rosbag2 bags, ``{key: path or Replay}``.
        live: the live view's server, which takes copies of the ports its clients watch.
    """

    iterations: int | None = None
    duration: float | None = None
    realtime: bool = False
    record: tuple[str, ...] = ()
    timeout: float | None = None
    progress: bool = False
    run_dir: str | Path | None = None
    replay: Mapping[str, Any] | None = None
    live: Any = None


def check_run(graph: SystemGraph, options: RunOptions) -> tuple[frozenset[tuple[str, str]], int | None,
                                                                dict[str, Replay], dict[str, Source]]:
    """What every transport checks before a run starts: a clock for ``iterations``, the
    ports to ``record``, the bags to ``replay``. Returns the ports, the run's iterations (a
    replayed clock ends with its bag), the replays and the sources already read."""
    from like_keras.recording import parse_record  # here, not above: the seam that imports
    from like_keras.recording.replay import check, parse  # RunOptions stays light

    ports = parse_record(graph, list(options.record))
    replays = parse(options.replay)
    if options.iterations is not None:
        require_stepping_clock(graph, options.iterations, replays)
    iterations, opened = check(graph, replays, options.iterations)
    return ports, iterations, replays, opened
