"""Writing generated files atomically: a reader sees the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, text: str | bytes) -> Path:
    """Write ``text`` (or bytes) to ``path`` through a temporary file in the same directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") if isinstance(text, bytes) else os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def replace_tree(target: str | Path, files: dict[str, str]) -> Path:
    """Write a directory of generated files so it replaces ``target`` whole: built in a
    temporary sibling, then swapped in; a failure leaves the old tree untouched."""

    def fill(tmp: Path) -> None:
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8")

    return build_tree(target, fill)


def build_tree(target: str | Path, fill: Callable[[Path], None]) -> Path:
    """Make ``target`` a new directory that ``fill`` writes (given an empty one): built in a
    temporary sibling, then swapped in whole; a failure leaves the old tree untouched."""
    import shutil

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(tmp)
        tmp.chmod(0o755)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def tail(path: str | Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file, for an error message."""
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
