"""The container images of docker/, built and run for real with podman: docker/Dockerfile
(ROS 2 Jazzy; Dora too) on a ROS 2 base, and docker/dora.Dockerfile (no ROS) on a Python base.
Each runs the cart-pole with no other input, and with a host folder mounted at /out its
recording equals the native run's, on ROS 2 and on Dora; a system of the tests' own (APP,
SYSTEM) runs as well.

The bases are made here, from Debian's archive (tests/images.py): ros:jazzy-ros-base and
python:3.11-slim cannot be pulled on these machines. They are kept in podman's storage
between runs; from scratch (CI) the module builds them first (about 3.5 minutes in all on
2 cores; it prints what each build and run took). Without podman, runc or debootstrap the
module skips, and fails under CI=true; without ../shared/ros2 its ROS 2 tests fail."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from like_keras.recording import read_messages
from like_keras.transports.common.target import load_system

import images
from conftest import ROOT, _missing

CARTPOLE = "like_keras_examples.cartpole:CartPole"
PORTS = ["env.obs", "env.reward", "env.done", "agent.action"]  # every output of the cart-pole
ITERATIONS = 50
ROS_IMAGE = f"{images.PREFIX}/like-keras:jazzy"
DORA_IMAGE = f"{images.PREFIX}/like-keras:dora"
APP_IMAGE = f"{images.PREFIX}/like-keras:jazzy-line"  # a system that is not an example
TIMES: list[str] = []  # what each build and run took, printed at the end of the module


@pytest.fixture(scope="module")
def podman(request, tmp_path_factory):
    if reason := images.unavailable():
        _missing(reason)
    t0 = time.monotonic()
    yield images.Podman(tmp_path_factory.mktemp("podman"), log=TIMES.append)
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        print("\n".join(["", *TIMES, f"images: {time.monotonic() - t0:.1f} s in all"]))


@pytest.fixture(scope="module")
def ros_image(podman):
    """docker/Dockerfile on the ROS 2 base (../shared/ros2 on Debian bookworm)."""
    if not (images.SHARED_ROS2 / "install.sh").is_file():
        pytest.fail(f"no minimal ROS 2 at {images.SHARED_ROS2} (the project keeps it beside the checkout, "
                    f"as ../shared/ros2): the ROS 2 image is built on it")
    base = images.ensure_ros_base(podman)
    podman.build(ROS_IMAGE, ROOT, ROOT / "docker" / "Dockerfile", {"BASE": base})
    return ROS_IMAGE


@pytest.fixture(scope="module")
def app_image(podman, ros_image):
    """docker/Dockerfile for a system of the tests' own: APP=tests/assets, SYSTEM a file in it."""
    podman.build(APP_IMAGE, ROOT, ROOT / "docker" / "Dockerfile",
                 {"BASE": images.ros_base_tag(), "APP": "tests/assets", "SYSTEM": "systems.py:Line",
                  "RUN_ARGS": "--iterations 20 --record sink.y --timeout 120"})
    return APP_IMAGE


@pytest.fixture(scope="module")
def dora_image(podman):
    """docker/dora.Dockerfile on the Python base (Debian bookworm's python3)."""
    base = images.ensure_python_base(podman)
    podman.build(DORA_IMAGE, ROOT, ROOT / "docker" / "dora.Dockerfile", {"BASE": base})
    return DORA_IMAGE


@pytest.fixture(scope="module")
def native():
    """The cart-pole's trace in this process: what every image must reproduce."""
    return load_system(CARTPOLE).launch(iterations=ITERATIONS, record=PORTS)


def _run_recorded(podman, image, transport, out: Path):
    proc = podman.run(image, "lk", "run", CARTPOLE, "--transport", transport, "--iterations", str(ITERATIONS),
                      "--record", *PORTS, "--run-dir", "/out", volumes={out: "/out"})
    output = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, output
    assert f"system 'cartpole' ran on {transport}" in output
    assert f"steps: env {ITERATIONS}, agent {ITERATIONS + 1}" in output
    return read_messages(out / "recording")


def _same_trace(native, recorded):
    for port in PORTS:
        expected, got = native.messages(port), recorded[port]
        assert len(got) == len(expected), port
        for x, y in zip(expected, got):
            if isinstance(x, np.ndarray):
                np.testing.assert_array_equal(x, y)
            else:
                assert x == y, port


@pytest.mark.parametrize("transport", ["ros2", "dora"])
def test_the_ros_image_runs_the_cartpole_with_the_native_trace(podman, ros_image, native, transport, tmp_path):
    recorded = _run_recorded(podman, ros_image, transport, tmp_path)
    _same_trace(native, recorded)


def test_the_dora_image_runs_the_cartpole_with_the_native_trace(podman, dora_image, native, tmp_path):
    recorded = _run_recorded(podman, dora_image, "dora", tmp_path)
    _same_trace(native, recorded)


@pytest.mark.parametrize("which, transport", [("ros_image", "ros2"), ("dora_image", "dora")])
def test_an_image_run_with_no_input_runs_its_system_and_prints_the_result(podman, request, which, transport):
    proc = podman.run(request.getfixturevalue(which))
    output = proc.stdout.decode() + proc.stderr.decode()
    assert proc.returncode == 0, output
    assert f"system 'cartpole' ran on {transport}" in proc.stdout.decode()
    assert "steps: env 500, agent 501" in proc.stdout.decode()


def test_options_after_the_image_name_go_to_its_run(podman, dora_image, tmp_path):
    # `docker run IMAGE --iterations 50 ...`: the default run, with these options (the later wins).
    proc = podman.run(dora_image, "--iterations", "7", "--record", "env.reward", "--run-dir", "/out",
                      volumes={tmp_path: "/out"})
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    assert "steps: env 7, agent 8" in proc.stdout.decode()
    assert read_messages(tmp_path / "recording")["env.reward"] == [1.0] * 7


def test_an_image_runs_a_system_from_its_app_folder(podman, app_image):
    # tests/assets/systems.py:Line, a file target in APP: a 50 Hz ticker, a relay, a sink.
    proc = podman.run(app_image)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    assert "system 'line' ran on ros2" in proc.stdout.decode()
    assert "sink.y: 20 messages, sum 210, last 20" in proc.stdout.decode()  # 1..20, in order
