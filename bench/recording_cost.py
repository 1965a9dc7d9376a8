"""What recording costs: the sensor pipeline's 480x640x3 camera at 30 Hz, recorded into a
rosbag2 bag, against the same run unrecorded, in one run of this script.

- simulated time (native, as fast as the CPU goes): wall time recorded / unrecorded, the
  worst case, where the run has nothing to do but render, detect and record;
- real time (native, ``realtime=True``, 30 frames a second): CPU seconds the process
  used per run, and what recording adds per frame against the 33 ms a frame lasts.

    .venv/bin/python bench/recording_cost.py [--frames N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from like_keras_examples.sensor_pipeline import SensorPipeline

from figures import report

PORT = "camera.image"


def run(frames: int, record: bool, realtime: bool = False) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run, the bag's merge included."""
    with tempfile.TemporaryDirectory() as tmp:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        SensorPipeline().launch(iterations=frames, record=[PORT] if record else None, realtime=realtime,
                                run_dir=tmp)
        return time.perf_counter() - wall0, time.process_time() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run(10, True)  # warm-up: imports, page cache
    plain = statistics.median(run(args.frames, False)[0] for _ in range(args.repeat))
    recorded = statistics.median(run(args.frames, True)[0] for _ in range(args.repeat))
    megabytes = args.frames * 480 * 640 * 3 / 1e6
    print(f"recording {args.frames} frames of 480x640x3 ({megabytes:.0f} MB) into a rosbag2 bag")
    print(f"  simulated time: unrecorded {plain * 1e3:7.1f} ms, recorded {recorded * 1e3:7.1f} ms, "
          f"ratio {recorded / plain:.2f} (target <= 1.30); {(recorded - plain) / args.frames * 1e3:.2f} ms "
          f"and {megabytes / (recorded - plain):.0f} MB/s per recorded frame")
    report("recording a camera in simulated time: recorded / unrecorded", recorded / plain)
    _, cpu_plain = run(args.frames, False, realtime=True)
    _, cpu_recorded = run(args.frames, True, realtime=True)
    per_frame = (cpu_recorded - cpu_plain) / args.frames
    print(f"  real time, 30 Hz: CPU {cpu_plain:.2f} s unrecorded, {cpu_recorded:.2f} s recorded; recording "
          f"adds {per_frame * 1e3:.2f} ms of CPU per frame, {per_frame * 30 * 100:.0f}% of the frame period")


if __name__ == "__main__":
    main()
