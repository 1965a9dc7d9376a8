"""The peers benchmark's chain in ezmsg: source -> relay -> sink, N floats, lossless.

    python ezmsg_chain.py N MARKS one|processes

The source writes when it began sending (``MARKS.start``), the sink when the last
message arrived (``MARKS.end``), both ``time.perf_counter()``: one clock for every
process on Linux, and start-up is left out.
"""

import sys
import time

import ezmsg.core as ez

N = int(sys.argv[1])
MARKS = sys.argv[2]


def mark(name: str, t: float) -> None:
    with open(f"{MARKS}.{name}", "w") as f:
        f.write(repr(t))


class Source(ez.Unit):
    OUTPUT = ez.OutputStream(float)

    @ez.publisher(OUTPUT)
    async def send(self):
        mark("start", time.perf_counter())
        for i in range(N):
            yield self.OUTPUT, float(i)


class Relay(ez.Unit):
    INPUT = ez.InputStream(float)
    OUTPUT = ez.OutputStream(float)

    @ez.subscriber(INPUT)
    @ez.publisher(OUTPUT)
    async def relay(self, x: float):
        yield self.OUTPUT, x + 1.0


class Sink(ez.Unit):
    INPUT = ez.InputStream(float)

    async def initialize(self) -> None:
        self.n = 0

    @ez.subscriber(INPUT)
    async def take(self, x: float) -> None:
        self.n += 1
        if self.n == N:
            mark("end", time.perf_counter())
            raise ez.NormalTermination


if __name__ == "__main__":
    source, relay, sink = Source(), Relay(), Sink()
    components = {"SOURCE": source, "RELAY": relay, "SINK": sink}
    connections = ((source.OUTPUT, relay.INPUT), (relay.OUTPUT, sink.INPUT))
    if sys.argv[3] == "one":
        ez.run(components=components, connections=connections, force_single_process=True)
    else:
        ez.run(components=components, connections=connections, process_components=(source, relay, sink))
