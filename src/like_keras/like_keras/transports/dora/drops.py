"""What Dora drops: the lines its daemon and node API log when they lose messages.

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

# Dora 1.1's own words for a lost message (read from the dora-rs 1.1.0 binaries). A
# ``keep_last`` input's "Discarding event ... due to queue size limit" is not one: that
# input opted into losing old messages.
DROPPED = (
    "dropping data event",  # the daemon's event channel for a node: low on capacity, or full
    "dropping message (node is too slow)",  # the daemon's subscriber channel, full
    "control event dropped",  # the daemon: even a control event found no room
    "hit hard cap",  # a node's backpressure queue past 10 x its size
    "dropping zenoh input",  # a node's event channel, full, on the direct path
    "messages on this input are being dropped",  # an input a node cannot decode
    "dropping oldest correlation",  # a service or action input's queue, full
)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Dora colours its daemon's lines
_PREFIX = re.compile(r"^(?:\d\d:\d\d:\d\d\s+)?[A-Z]+\s+([A-Za-z0-9_.-]+):\s")  # "13:14:08 ERROR  slow: ..."
_FIELD = re.compile(r"\bnode(?:_id)?=([A-Za-z0-9_.-]+)")  # a tracing field: "... node=slow"


def dropped_node(line: str) -> str | None:
    """The node a Dora log line names, if it does (the daemon's channel lines do not)."""
    found = _PREFIX.match(line) or _FIELD.search(line)
    return found[1] if found else None


class DropWatch:
    """Called as the run goes: a RunError for the first drop Dora logged in ``log``, else None."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.offset = 0

    def __call__(self, final: bool = False) -> RunError | None:
        """Reads what Dora wrote since the last call, whole lines only (a line still being
        written is read next time); ``final``: Dora has ended, its last line is whole too."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return None
        complete = len(chunk) if final else chunk.rfind(b"\n") + 1
        self.offset += complete
        for line in _ANSI.sub("", chunk[:complete].decode(errors="replace")).splitlines():
            if any(words in line for words in DROPPED):
                return _dropped(line.strip(), dropped_node(line), self.log)
        return None


def _dropped(line: str, node: str | None, log: Path) -> RunError:
    whose = f" for node {node!r}" if node else " (Dora's daemon did not say for which node)"
    return RunError(
        f"Dora dropped messages{whose}, so the run was stopped: {line}\n"
        f"A sender outran its receiver. like-keras' own edges wait for their receivers, so "
        f"the sender is a plain Dora node (slow it down or give the input keep_last=N if "
        f"losing old messages is acceptable) or Dora itself is overloaded (log: {log})",
        node=node,
    )
