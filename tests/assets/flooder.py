"""A plain Dora node that sends 1, 2, 3... on ``out`` as fast as it can, ``sys.argv[1]`` of them."""

import sys

import pyarrow as pa
from dora import Node

node = Node()
for i in range(1, int(sys.argv[1]) + 1):
    node.send_output("out", pa.array([i]))
