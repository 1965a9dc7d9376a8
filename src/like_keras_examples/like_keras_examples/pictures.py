"""Draw every example: ``python -m like_keras_examples.pictures DIR [--format svg|png|dot]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from like_keras.transports.common.target import load_system
from like_keras_examples import EXAMPLES


def draw_all(folder: str | Path, fmt: str = "svg") -> list[Path]:
    """``<folder>/<example>.<fmt>`` for every example; the paths written."""
    return [load_system(target).draw(Path(folder) / f"{name}.{fmt}") for name, target in EXAMPLES.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--format", default="svg", choices=["svg", "png", "dot"])
    args = parser.parse_args(argv)
    for path in draw_all(args.folder, args.format):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
