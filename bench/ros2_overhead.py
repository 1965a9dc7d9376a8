"""ROS 2 transport overhead: like-keras against hand-written rclpy nodes, in one run.

(a) two hand-written rclpy nodes in two processes (bench/ros2_pingpong/, rclpy only) with
    the message type and QoS like-keras plans for the same edge (std_msgs/Float32MultiArray,
    reliable + keep_all);
(b) the same ping-pong as a like-keras system run with launch(transport="ros2").
Payloads: float32 arrays of 8 B, 64 KB, 1 MB, 16 MB. Prints median and p99 round trip
for both and the ratio (b)/(a), each side run ``--repeat`` times in turn and pooled; then
1 MB and 16 MB again with glibc malloc keeping freed memory (GLIBC_TUNABLES, both sides),
since by default the page faults of returned memory can decide those sizes; then the
one-way throughput of 20,000 small messages, hand-written (std_msgs/Int64) against
like-keras (like_keras_examples.throughput:Flood), with the number lost (must be 0).

Everything runs on ROS_DOMAIN_ID=42, localhost only, so it cannot talk to other runs.

    .venv/bin/python bench/ros2_overhead.py [--count N] [--repeat N] [--messages N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rosbags.rosbag2 import Reader

from like_keras import System
from like_keras.msgs.ros_mapping import topic_of
from like_keras_examples.throughput import Flood
from like_keras_ros.environment import ros_environment
from like_keras_ros.host import Qos, plan_node

from figures import report
from pingpong import HEADER, SIZES, WARMUP, PingPong, like_keras_rtts, pooled, report_rtt, row, stats

# Everything this bench starts talks on its own domain, on this machine only.
os.environ["ROS_DOMAIN_ID"] = "42"
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"

HERE = Path(__file__).resolve().parent
TIMEOUT = 600
HAND_QOS = Qos(reliable=True, keep_all=True, depth=1000)  # what bench/ros2_pingpong/ uses
# Keep freed memory instead of returning it to the kernel (and faulting it back in per message).
MALLOC = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824"


def check_plan(system: System, edges: dict[str, tuple[str, str]]) -> None:
    """The hand-written nodes use the message types and QoS like-keras plans for the same
    edges (``edges``: topic -> (publishing node, ROS type)): say so, or stop."""
    graph = system.build()
    for topic, (node, ros_type) in edges.items():
        plan = plan_node(graph, node)
        if plan.publishers.get(topic) != (ros_type, HAND_QOS):
            raise SystemExit(f"like-keras now plans {plan.publishers.get(topic)} for {topic}, not "
                             f"{(ros_type, HAND_QOS)}: update bench/ros2_pingpong/ to match")


def run_pair(first: list[str], second: list[str], work: Path, name: str) -> None:
    """Start two hand-written node processes (ROS 2 sourced, this interpreter) and wait for
    both to end; nothing is left running."""
    env = {**ros_environment(), "ROS_LOG_DIR": str(work / "log")}
    procs = []
    try:
        for i, argv in enumerate((first, second)):
            log = open(work / f"{name}-{i}.log", "wb")
            procs.append(subprocess.Popen([sys.executable, "-u", *argv], env=env, stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
            log.close()
        for i, proc in enumerate(procs):
            if proc.wait(timeout=TIMEOUT) != 0:
                raise RuntimeError(f"{proc.args[2]} failed (exit {proc.returncode}); see {work / f'{name}-{i}.log'}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def hand_written_rtts(size: int, count: int, work: Path) -> list[float]:
    array = "std_msgs/msg/Float32MultiArray"
    check_plan(PingPong(size=size), {"pingpong/ping/ping": ("ping", array), "pingpong/pong/pong": ("pong", array)})
    out = work / f"hand-{size}.json"
    run_pair([str(HERE / "ros2_pingpong" / "pong.py")],
             [str(HERE / "ros2_pingpong" / "ping.py"), str(size), str(count), str(out)], work, f"hand-{size}")
    return json.loads(out.read_text())


def hand_written_oneway(messages: int, work: Path) -> tuple[dict, float]:
    check_plan(Flood(), {"flood/producer/out": ("fast", "std_msgs/msg/Int64")})
    out = work / "hand-oneway.json"
    t0 = time.perf_counter()
    run_pair([str(HERE / "ros2_pingpong" / "consumer.py"), str(messages), str(out)],
             [str(HERE / "ros2_pingpong" / "producer.py"), str(messages)], work, "hand-oneway")
    return json.loads(out.read_text()), time.perf_counter() - t0


def like_keras_oneway(messages: int, work: Path) -> tuple[list, float, float]:
    """Flood through like-keras, consumer.y recorded: the values the consumer sent on, the
    seconds from its first to its last message (the recording's log times, stamped in the
    consumer node) and the wall time."""
    t0 = time.perf_counter()
    result = Flood().launch(transport="ros2", iterations=messages, timeout=TIMEOUT, record=["consumer.y"],
                            run_dir=work / "oneway")
    elapsed = time.perf_counter() - t0
    topic = "/" + topic_of(result.graph, "consumer", "y").lstrip("/")
    with Reader(result.recording) as bag:  # a rosbag2 bag: a directory
        stamps = [t for conn, t, _ in bag.messages() if conn.topic == topic]
    return result.messages("consumer.y"), (max(stamps) - min(stamps)) / 1e9, elapsed


def like_keras_oneway_unrecorded(messages: int, work: Path) -> tuple[int, float]:
    """Flood through like-keras, nothing recorded: the consumer's steps and the wall time."""
    t0 = time.perf_counter()
    result = Flood().launch(transport="ros2", iterations=messages, timeout=TIMEOUT, run_dir=work / "oneway")
    return result.steps["consumer"], time.perf_counter() - t0


def rmw(env: dict[str, str]) -> str:
    code = "import rclpy; print(rclpy.get_rmw_implementation_identifier())"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    return proc.stdout.strip() or "rmw unknown"


def big_count(count: int) -> int:
    """16 MB round trips: fewer, as DDS retransmission stalls of seconds make each run long."""
    return max(WARMUP + 20, count // 10)


def table(sizes: list[int], args: argparse.Namespace, work: Path) -> None:
    print(HEADER)
    for size in sizes:
        big = size >= (16 << 20)
        count = big_count(args.count) if big else args.count
        hand, lk = (stats(r) for r in pooled(lambda: hand_written_rtts(size, count, work),
                                             lambda: like_keras_rtts("ros2", size, count, work),
                                             1 if big else args.repeat))
        print(row(size, hand, lk), flush=True)
        report_rtt("ROS 2", size, hand, lk)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="round trips per run (a tenth for 16 MB)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side per size, pooled (16 MB: 1)")
    parser.add_argument("--messages", type=int, default=20_000, help="one-way messages")
    parser.add_argument("--sizes", type=int, nargs="*", default=SIZES, help="payload sizes in bytes")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="like_keras-bench-"))
    env = ros_environment()
    print(f"ROS 2 {env.get('ROS_DISTRO', '?')}, {rmw(env)}, ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']}, "
          f"localhost only")
    print(f"ROS 2 round trips, {args.repeat} x {args.count} per size, 1 x {big_count(args.count)} "
          f"for 16 MB (median / p99 in microseconds; first {WARMUP} of each run dropped)")
    table(args.sizes, args, work)
    big = [size for size in args.sizes if size >= (1 << 20)]
    if big:
        print(f"the same for {', '.join(f'{s >> 20} MB' for s in big)} with glibc malloc told to keep freed "
              f"memory (both sides: GLIBC_TUNABLES={MALLOC}):")
        os.environ["GLIBC_TUNABLES"] = MALLOC  # the node processes read it at start, this one does not
        try:
            table(big, args, work)
        finally:
            del os.environ["GLIBC_TUNABLES"]

    n = args.messages
    small = max(1, n // 10)
    print(f"one-way, {n} small messages to another process, msg/s with start-up excluded: from the consumer's "
          f"own timestamps (first to last message), or for like-keras unrecorded from the wall times of a "
          f"{n}- and a {small}-message run (difference)")
    hand, hand_wall = hand_written_oneway(n, work)
    hand_rate = (n - 1) / hand["first_to_last"]
    hand_lost = n - hand["received"]
    print(f"  hand-written:                    {hand_rate:>9,.0f} msg/s ({hand_wall:.2f} s wall with start-up); "
          f"lost {hand_lost}; in order: {hand['in_order']}")
    got, first_to_last, lk_wall = like_keras_oneway(n, work)
    lk_rate = (len(got) - 1) / first_to_last
    lk_lost = n - len(got)
    in_order = got == list(range(1, len(got) + 1))
    print(f"  like-keras, consumer.y recorded: {lk_rate:>9,.0f} msg/s ({lk_wall:.2f} s wall with start-up and "
          f"colcon); lost {lk_lost}; in order: {in_order}")
    small_steps, small_wall = like_keras_oneway_unrecorded(small, work)
    steps, wall = like_keras_oneway_unrecorded(n, work)
    bare_rate = (n - small) / (wall - small_wall)
    bare_lost = (n - steps) + (small - small_steps)
    print(f"  like-keras, nothing recorded:    {bare_rate:>9,.0f} msg/s ({wall:.2f} s wall, {small_wall:.2f} s for "
          f"{small}); lost {bare_lost} (consumer steps)")
    print(f"  ratio like-keras / hand-written (msg/s): {lk_rate / hand_rate:.2f} recorded, "
          f"{bare_rate / hand_rate:.2f} not recorded")
    report("ROS 2: one-way msg/s, like-keras / hand-written", bare_rate / hand_rate)
    print(f"(work files: {work})")
    return 0 if lk_lost == 0 == bare_lost and in_order and hand_lost == 0 and hand["in_order"] else 1


if __name__ == "__main__":
    sys.exit(main())
