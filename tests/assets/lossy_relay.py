"""A plain Dora node put between two like-keras nodes by a test: forwards input ``x`` to
output ``y`` one message at a time (a like-keras batch is split into its messages, each
with its own number), but loses (``drop``) or reorders (``swap``) message 5."""

import sys

from dora import Node

mode = sys.argv[1]
node = Node()
held = None
for event in node:
    if event["type"] != "INPUT" or event["id"] != "x":
        continue
    first = event["metadata"]["seq"]
    for i in range(len(event["value"])):
        seq = first + i
        if seq == 5:
            if mode == "swap":
                held = event["value"].slice(i, 1)
            continue  # dropped, or held back until after message 6
        node.send_output("y", event["value"].slice(i, 1), {"seq": seq})
        if held is not None:
            node.send_output("y", held, {"seq": 5})
            held = None
