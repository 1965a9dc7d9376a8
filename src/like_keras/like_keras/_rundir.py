"""Run directories: where a run keeps its files (recording, logs, generated dataflow)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .graph import SystemGraph


def make_run_dir(graph: SystemGraph, run_dir: str | Path | None) -> Path:
    """``run_dir`` if given (created), else a fresh temporary directory for this run."""
    if run_dir is not None:
        path = Path(run_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path.resolve()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f"like_keras-{graph.name}-{stamp}-"))
