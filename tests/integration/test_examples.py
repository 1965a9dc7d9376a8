"""The canonical examples do what they claim."""

import numpy as np
import pytest

from like_keras_examples.bandit import Bandit
from like_keras_examples.cartpole import CartPole
from like_keras_examples.sensor_pipeline import Camera, SensorPipeline


@pytest.mark.parametrize("seed", range(10))
def test_cartpole_balances_500_steps(seed):
    result = CartPole(seed=seed).launch(iterations=500, record=["env.reward", "env.done"])
    assert result.steps["env"] == 500
    assert sum(result.messages("env.reward")) == 500.0
    done = result.messages("env.done")
    assert len(done) == 500 and not any(done[:-1])  # never fell: only the time limit ends the episode


def test_bandit_epsilon_greedy_beats_random():
    greedy, random = [], []
    for seed in range(5):
        for eps, out in ((0.1, greedy), (1.0, random)):
            result = Bandit(epsilon=eps, seed=seed).launch(iterations=1000, record=["objective.mean_reward"])
            out.append(result.messages("objective.mean_reward")[-1])
    assert np.mean(greedy) > np.mean(random) + 0.5
    assert sum(g > r for g, r in zip(greedy, random)) >= 4


def test_bandit_agent_finds_the_best_arm():
    system = Bandit(seed=1)
    result = system.launch(iterations=2000, record=["agent.arm"])
    arms = result.messages("agent.arm")
    best = int(np.argmax(system.env.means))
    assert np.mean(np.array(arms[-500:]) == best) > 0.85


def test_sensor_pipeline_detects_tracks_and_steers():
    system = SensorPipeline()
    result = system.launch(iterations=60, record=["camera.image", "detector.detection", "tracker.track",
                                                   "controller.cmd"])
    assert result.steps == {"camera": 60, "detector": 60, "tracker": 60, "controller": 19}
    images = result.messages("camera.image")
    assert images[0].shape == (480, 640, 3) and images[0].dtype == np.uint8
    cam = Camera()
    truth = [cam.position(k) for k in range(1, 61)]
    dets = result.messages("detector.detection")
    assert all(abs(d.x - x) <= 1.0 and abs(d.y - y) <= 1.0 for d, (x, y) in zip(dets, truth))
    last = result.messages("tracker.track")[-1]
    assert last.frames == 60
    assert last.vx == pytest.approx(90.0, abs=5) and last.vy == pytest.approx(45.0, abs=5)
    cmds = result.messages("controller.cmd")
    assert len(cmds) == 19
    # The 10 Hz controller sampled the latest track: its command points at the target.
    x, y = cam.position(57)  # frame 57 is the newest at t = 1.9 s
    assert cmds[-1] == pytest.approx(0.002 * np.array([x - 320, y - 240]), abs=0.01)


def test_throughput_flood_delivers_everything_in_order():
    from like_keras_examples.throughput import Flood

    result = Flood().launch(iterations=5000, record=["consumer.y"])
    assert result.steps == {"producer": 5000, "echo": 5001, "consumer": 5000}
    assert result.messages("consumer.y") == list(range(1, 5001))
