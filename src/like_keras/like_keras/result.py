"""``RunResult``: what a run did, the same on every transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from like_keras.graph.ir import SystemGraph


@dataclass
class RunResult:
    """Steps per component, wall-clock ``duration`` (s), simulated ``sim_time`` (s,
    native transport), the MCAP ``recording`` (when ``record`` was given) and the
    ``run_dir`` holding the run's files."""

    graph: SystemGraph
    transport: str
    steps: dict[str, int]
    duration: float
    recording: Path | None = None
    sim_time: float | None = None
    run_dir: Path | None = None
    _messages: dict[str, list[Any]] | None = field(default=None, repr=False)

    def messages(self, port: str) -> list[Any]:
        """Recorded values of ``"component.port"``, in the order they were sent."""
        if self.recording is None:
            raise KeyError(f"nothing was recorded: pass launch(record=['{port}'])")
        if self._messages is None:
            from like_keras.recording import read_messages

            self._messages = read_messages(self.recording)
        if port not in self._messages:
            recorded = ", ".join(sorted(self._messages)) or "none"
            raise KeyError(f"port '{port}' was not recorded (recorded: {recorded}); add it to record=[...]")
        return self._messages[port]
