"""Mark as skipped, in a cosmic-ray session, the mutants no test can kill by design:

- changes inside type annotations (never evaluated under ``from __future__ import
  annotations``);
- ``is`` <-> ``==`` (and ``is not`` <-> ``!=``) where one side is a class, ``None``,
  ``True``, ``False`` or a small int: CPython gives both the same answer there;
- lines marked ``# pragma: no mutate``;
- with ``--within NAME...``, everything outside the functions (or methods) of those
  names: a module's guarantee that lives in a few functions of a larger module.

    python tests/mutation/skip.py SESSION.sqlite [--within NAME ...]
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


_IDENTITY = {"core/ReplaceComparisonOperator_Is_Eq", "core/ReplaceComparisonOperator_IsNot_NotEq",
             "core/ReplaceComparisonOperator_Eq_Is", "core/ReplaceComparisonOperator_NotEq_IsNot"}


@lru_cache
def _identity_safe(path: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Spans of comparisons whose operands include a class, None, a bool or a small int."""
    spans = []
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        if any(_singleton(o) for o in operands):
            spans.append(((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)))
    return spans


def _singleton(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, bool) or (
            isinstance(node.value, int) and -5 <= node.value <= 256)
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return name in {"bytes", "str", "int", "float", "bool", "list", "dict", "tuple", "bool_"} or name[:1].isupper()


@lru_cache
def _functions(path: str, names: tuple[str, ...]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Spans of the functions and methods called one of ``names``."""
    return [((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset))
            for n in ast.walk(ast.parse(Path(path).read_text()))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in names]


def skipped(path: str, operator: str, start: tuple[int, int], end: tuple[int, int],
            within: tuple[str, ...] = ()) -> bool:
    if "pragma: no mutate" in _lines(path)[start[0] - 1]:
        return True
    inside = lambda spans: any(a <= tuple(start) and tuple(end) <= b for a, b in spans)  # noqa: E731
    if within and not inside(_functions(path, within)):
        return True
    return inside(_annotations(path)) or (operator in _IDENTITY and inside(_identity_safe(path)))


def main(session: str, within: tuple[str, ...] = ()) -> int:
    with use_db(session) as db:
        for item in db.work_items:
            if all(skipped(str(m.module_path), m.operator_name, m.start_pos, m.end_pos, within)
                   for m in item.mutations):
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[0], tuple(args[2:]) if args[1:2] == ["--within"] else ()))
