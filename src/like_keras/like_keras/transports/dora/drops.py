"""What Dora drops: the lines its daemon logs when it loses messages.

like-keras' own edges are lossless (flow control and sequence numbers), but Dora can
still drop: past a backpressure queue's hard cap (a plain Dora node flooding a
like-keras input), or in a daemon's event channel under overload. Dora only logs it and
goes on; the launcher reads Dora's log as the run goes and ends the run at once, naming
the overload, rather than let it continue without those messages.
"""

from __future__ import annotations

import re
from pathlib import Path

from like_keras.errors import RunError

# Dora 1.1's own words for a lost message (its daemon's log).
DROPPED = (
    "dropping data event",  # the event channel, low on capacity or full
    "dropping message (node is too slow)",
    "hit hard cap",  # a backpressure queue past 10 x its size
    "control event dropped",
    "messages on this input are being dropped",
)


_NODE = re.compile(r"^\S+\s+[A-Z]+\s+([A-Za-z0-9_.-]+):")  # "13:14:08 ERROR  slow: ..."


class DropWatch:
    """Called as the run goes: a RunError for the first drop Dora logged in ``log``, else None."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.offset = 0

    def __call__(self) -> RunError | None:
        try:
            with open(self.log, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return None
        complete = chunk.rfind(b"\n") + 1  # a line still being written is read next time
        self.offset += complete
        for line in chunk[:complete].decode(errors="replace").splitlines():
            if any(words in line for words in DROPPED):
                node = _NODE.match(line)
                return RunError(
                    f"Dora dropped messages{f' for node {node[1]!r}' if node else ''}, so the run was "
                    f"stopped: {line.strip()}\n"
                    f"A sender outran its receiver. like-keras' own edges wait for their receivers, so "
                    f"the sender is a plain Dora node (slow it down or give the input keep_last=N if "
                    f"losing old messages is acceptable) or Dora itself is overloaded (log: {self.log})",
                    node=node[1] if node else None,
                )
        return None
