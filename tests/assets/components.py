"""Components many tests use. Tests import them as ``assets.components``; the systems in
this folder as ``components`` (node processes load those files with this folder on
sys.path)."""

from like_keras import Component, Input, Output


class Ticker(Component):
    """A counting timer: sends 1, 2, 3... on ``out``, one number a step, 50 times a second.
    A subclass setting only ``rate_hz`` counts at another rate."""

    out = Output(int)
    rate_hz = 50.0

    def on_start(self):
        self.n = 0

    def step(self):
        self.n += 1
        return self.n


class Double(Component):
    """Doubles what it gets."""

    x = Input(int)
    y = Output(int)

    def step(self, x):
        return 2 * x


class Sink(Component):
    """Keeps what it gets, in ``seen``."""

    x = Input(int)

    def on_start(self):
        self.seen = []

    def step(self, x):
        self.seen.append(x)
