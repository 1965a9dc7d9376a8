"""A plain Dora node put between two like-keras nodes by a test: forwards input ``x`` to
output ``y`` with its metadata, but loses (``drop``) or reorders (``swap``) message 5."""

import sys

from dora import Node

mode = sys.argv[1]
node = Node()
n, held = 0, None
for event in node:
    if event["type"] != "INPUT" or event["id"] != "x":
        continue
    n += 1
    if n == 5:
        if mode == "swap":
            held = event
        continue  # dropped, or held back until after message 6
    node.send_output("y", event["value"], event["metadata"])
    if held is not None:
        node.send_output("y", held["value"], held["metadata"])
        held = None
