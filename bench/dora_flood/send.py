"""Hand-written Dora flood sender (dora API only): N int64 messages, one Dora send each,
each a new array with its sequence number in the metadata, as any value-sending node does."""

import sys

import pyarrow as pa
from dora import Node

count = int(sys.argv[1])
node = Node()
for i in range(1, count + 1):
    node.send_output("out", pa.array([i], type=pa.int64()), {"seq": i})
