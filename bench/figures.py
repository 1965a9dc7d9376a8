"""Headline figures: a bench reports each one here, and ``bench/summary.py`` (``make bench``)
collects them over several runs into one table. Outside the summary, reporting does nothing."""

from __future__ import annotations

import json
import os

ENV = "LK_BENCH_FIGURES"  # the file the summary reads, one JSON object a line


def report(name: str, value: float) -> None:
    """Record ``value`` as the figure ``name`` of this run."""
    path = os.environ.get(ENV)
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"name": name, "value": value}) + "\n")
