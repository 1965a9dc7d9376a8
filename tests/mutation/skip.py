"""Mark as skipped, in a cosmic-ray session, the mutants no test can kill by design:
changes inside type annotations (never evaluated under ``from __future__ import
annotations``) and on lines marked ``# pragma: no mutate``.

    python tests/mutation/skip.py SESSION.sqlite
"""

from __future__ import annotations

import ast
import sys
from functools import lru_cache
from pathlib import Path

from cosmic_ray.work_db import use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult


@lru_cache
def _annotations(path: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every annotation in the module (lines 1-based)."""
    spans = []
    for node in ast.walk(ast.parse(Path(path).read_text())):
        found = []
        if isinstance(node, ast.arg) and node.annotation is not None:
            found.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        spans += [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in found]
    return spans


@lru_cache
def _lines(path: str) -> list[str]:
    return Path(path).read_text().splitlines()


def skipped(path: str, start: tuple[int, int], end: tuple[int, int]) -> bool:
    if "pragma: no mutate" in _lines(path)[start[0] - 1]:
        return True
    return any(a <= tuple(start) and tuple(end) <= b for a, b in _annotations(path))


def main(session: str) -> int:
    with use_db(session) as db:
        for item in db.work_items:
            if all(skipped(str(m.module_path), m.start_pos, m.end_pos) for m in item.mutations):
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
