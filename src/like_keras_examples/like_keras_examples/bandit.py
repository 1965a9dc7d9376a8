"""A 5-armed bandit: an epsilon-greedy agent learns which arm pays best.

The env and a reward objective run in node ``world``, the agent in ``learner``.
``Bandit(epsilon=1.0)`` is a random agent: the baseline to beat.

Run it: ``lk run like_keras_examples.bandit:Bandit --iterations 2000 --record objective.mean_reward``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from like_keras import Component, Input, Node, Output, System


class BanditEnv(Component):
    """Pays a Gaussian reward (unit variance) around a fixed, seeded mean per arm."""

    arm = Input(int)
    reward = Output(float)

    @dataclass
    class Config:
        arms: int = 5
        seed: int = 0

    def on_start(self):
        rng = np.random.default_rng(self.config.seed)
        self.means = rng.normal(0.0, 1.0, self.config.arms)
        self.rng = np.random.default_rng(self.config.seed + 1)

    def step(self, arm):
        if not 0 <= arm < self.config.arms:
            raise ValueError(f"arm {arm} out of range 0..{self.config.arms - 1}")
        return float(self.rng.normal(self.means[arm], 1.0))


class EpsilonGreedyAgent(Component):
    """Plays the best arm so far, or a random one with probability epsilon."""

    reward = Input(float)
    arm = Output(int)

    @dataclass
    class Config:
        arms: int = 5
        epsilon: float = 0.1
        seed: int = 0

    def on_start(self):
        self.rng = np.random.default_rng(self.config.seed + 2)
        self.counts = np.zeros(self.config.arms)
        self.values = np.zeros(self.config.arms)
        self.last = self._choose()
        return self.last

    def step(self, reward):
        self.counts[self.last] += 1
        self.values[self.last] += (reward - self.values[self.last]) / self.counts[self.last]
        self.last = self._choose()
        return self.last

    def _choose(self) -> int:
        if self.rng.random() < self.config.epsilon:
            return int(self.rng.integers(self.config.arms))
        return int(np.argmax(self.values))


class RewardObjective(Component):
    """The running mean of the rewards: what the agent is judged by."""

    reward = Input(float)
    mean_reward = Output(float)

    def on_start(self):
        self.total = 0.0
        self.n = 0

    def step(self, reward):
        self.total += reward
        self.n += 1
        return self.total / self.n


class Bandit(System):
    def __init__(self, epsilon: float = 0.1, seed: int = 0, arms: int = 5):
        self.world = Node("world")
        self.learner = Node("learner")
        self.env = BanditEnv.from_node(self.world, config=BanditEnv.Config(arms=arms, seed=seed))
        self.agent = EpsilonGreedyAgent.from_node(
            self.learner, config=EpsilonGreedyAgent.Config(arms=arms, epsilon=epsilon, seed=seed)
        )
        self.objective = RewardObjective.from_node(self.world)
        self.connect(self.agent.arm, self.env.arm)
        self.connect(self.env.reward, self.agent.reward)
        self.connect(self.env.reward, self.objective.reward)
        super().__init__(config=System.Config(name="bandit", clock="agent"))
