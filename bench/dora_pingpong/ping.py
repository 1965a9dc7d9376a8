"""Hand-written Dora ping node (dora API only): times N round trips of one payload."""

import json
import os
import sys
import time

import numpy as np
import pyarrow as pa
from dora import Node

size, count, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
payload = np.ones(size // 4, np.float32)
node = Node()
rtts = []
t0 = time.perf_counter()
node.send_output("ping", pa.array(payload), {"shape": [payload.size]})
for event in node:
    if event["type"] != "INPUT":
        continue
    back = event["value"].to_numpy(zero_copy_only=True)
    assert back.size == payload.size
    t1 = time.perf_counter()
    rtts.append(t1 - t0)
    if len(rtts) == count:
        break
    t0 = time.perf_counter()
    node.send_output("ping", pa.array(payload), {"shape": [payload.size]})
with open(out, "w") as f:
    json.dump(rtts, f)
os._exit(0)  # the pong node ends when its input closes
