"""The Dora runner: the thin adapter that hosts one like-keras node in one Dora node.

    python -m like_keras.transports.dora.runner --target T --node N [--kwargs JSON]
        [--digest D] [--iterations K] [--duration S] [--run-dir DIR] [--record C.P,...]
        [--replay JSON]

It rebuilds the system (``common.host.rebuild_node``), creates the ``dora.Node`` and runs
the node's ``Host`` on it. With ``--run-dir`` it writes its pid, results, recording and
any failure there for the launcher.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from like_keras.errors import RunError
from like_keras.transports.common.host import rebuild_node
from like_keras.transports.common.rundir import NodeFiles
from like_keras.transports.common.target import node_arguments
from like_keras.transports.dora.host import Host


def main(argv: list[str] | None = None) -> int:
    parser = node_arguments("like_keras.transports.dora.runner")
    parser.add_argument("--iterations", type=int)
    parser.add_argument("--duration", type=float, help="seconds before the coordinator stops the clock")
    parser.add_argument("--run-dir")
    parser.add_argument("--record")
    parser.add_argument("--replay", help="components replayed from bags (JSON, like_keras.recording.replay.to_arg)")
    args = parser.parse_args(argv)
    files = NodeFiles(args.run_dir, args.node)
    files.started()
    try:
        parts = rebuild_node(files, args.target, args.kwargs, args.node, args.digest, record=args.record,
                             replays=args.replay, compiled=Path(args.run_dir) / "graph.json" if args.run_dir else None)
        files.mark("system rebuilt")
        dora = _dora_node(args.node)
        files.mark("dora ready")
        host = Host(parts.graph, args.node, parts.components, dora, replayed=parts.replayed,
                    iterations=args.iterations, duration=args.duration, recorder=parts.recorder,
                    record=parts.record, live=files.live_feed(parts.graph), feeds=parts.feeds, mark=files.mark)
        profile_dir = os.environ.get("LIKE_KERAS_PROFILE")
        if profile_dir:  # a developer's tool: cProfile stats per node
            import cProfile

            cProfile.runctx("host.run()", globals(), {"host": host}, str(Path(profile_dir) / f"{args.node}.prof"))
        else:
            host.run()
        files.finished(host.runtime.steps)
    except BaseException as exc:  # report every failure, then let Dora see the exit code
        print(files.failed(exc), file=sys.stderr, flush=True)
        return 1
    return 0


def _dora_node(node: str) -> Any:
    """This node's Dora API, once Dora has started every node of the dataflow. A peer that
    died meanwhile is the failure to report (its name, not this node's)."""
    from dora import Node

    try:
        return Node()
    except RuntimeError as exc:
        died = re.search(r"Node (\S+) exited before initializing dora", str(exc))
        if died is None or died.group(1) == node:
            raise
        raise RunError(f"node '{died.group(1)}' died while the dataflow was starting (node '{node}' saw it exit "
                       f"before Dora had started it)", node=died.group(1)) from exc


if __name__ == "__main__":
    sys.exit(main())
