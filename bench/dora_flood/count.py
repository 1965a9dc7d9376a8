"""Hand-written Dora flood receiver (dora API only): counts what arrives, fails on a gap."""

import sys

from dora import Node

count = int(sys.argv[1])
node = Node()
got = 0
for event in node:
    if event["type"] == "INPUT":
        got += 1
        if event["value"][0].as_py() != got:
            sys.exit(f"lost or reordered: expected {got}, got {event['value'][0].as_py()}")
        if got == count:
            break
sys.exit(0 if got == count else f"received {got} of {count}")
