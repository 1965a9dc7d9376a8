"""Cart-pole: a gymnasium env in one node, a balancing agent in another.

Run it: ``lk run like_keras_examples.cartpole:CartPole --iterations 500``.
"""

from dataclasses import dataclass

import gymnasium
import numpy as np

from like_keras import Array, Component, Input, Node, Output, System


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


if __name__ == "__main__":
    result = CartPole(seed=0).launch(iterations=500, record=["env.reward", "env.done"])
    assert result.steps["env"] == 500
    assert sum(result.messages("env.reward")) == 500.0
    print(f"cart-pole: {result.steps} in {result.duration:.3f} s")
