"""The foundation issue's program, verbatim, and the example file run as a script."""

import subprocess
import sys
from dataclasses import dataclass

import gymnasium
import numpy as np

from like_keras import Array, Component, Input, Node, Output, System

from conftest import ROOT


class CartPoleEnv(Component):
    action = Input(int)
    obs = Output(Array(np.float64, (4,)))
    reward = Output(float)
    done = Output(bool)

    @dataclass
    class Config:
        seed: int = 0

    def on_start(self):
        self.env = gymnasium.make("CartPole-v1")
        obs, _ = self.env.reset(seed=self.config.seed)
        return {"obs": obs}

    def step(self, action):
        obs, reward, terminated, truncated, _ = self.env.step(action)
        if terminated or truncated:
            obs, _ = self.env.reset()
        return {"obs": obs, "reward": float(reward), "done": terminated or truncated}


class BalanceAgent(Component):
    obs = Input(Array(np.float64, (4,)))
    action = Output(int)

    def step(self, obs):
        return int(obs[2] + 0.5 * obs[3] > 0)


class CartPole(System):
    def __init__(self, seed: int = 0):
        self.sim = Node("sim")
        self.control = Node("control")
        self.env = CartPoleEnv.from_node(self.sim, config=CartPoleEnv.Config(seed=seed))
        self.agent = BalanceAgent.from_node(self.control)
        self.connect(self.env.obs, self.agent.obs)
        self.connect(self.agent.action, self.env.action)
        super().__init__(config=System.Config(name="cartpole"))


def test_program_verbatim():
    result = CartPole(seed=0).launch(iterations=500, record=["env.reward", "env.done"])
    assert result.steps["env"] == 500
    assert sum(result.messages("env.reward")) == 500.0


def test_example_file_runs_as_a_script():
    script = ROOT / "src/like_keras_examples/like_keras_examples/cartpole.py"
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "'env': 500" in proc.stdout
