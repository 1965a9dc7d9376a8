"""Hand-written Dora pong node (dora API only): sends every payload straight back."""

import pyarrow as pa
from dora import Node

node = Node()
for event in node:
    if event["type"] == "INPUT":
        back = event["value"].to_numpy(zero_copy_only=True)
        node.send_output("pong", pa.array(back), {"shape": [back.size]})
