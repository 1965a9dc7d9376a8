"""A plain Dora node that like-keras did not write: doubles every float it receives."""

import pyarrow as pa
from dora import Node

node = Node()
for event in node:
    if event["type"] == "INPUT" and event["id"] == "x":
        node.send_output("y", pa.array([event["value"][0].as_py() * 2.0]))
