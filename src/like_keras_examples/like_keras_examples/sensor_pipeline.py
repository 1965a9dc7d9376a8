"""A sensor pipeline: camera (30 Hz) -> detector -> tracker -> controller (10 Hz).

The camera renders a bright square moving across a 480x640 RGB image; the detector
finds it, the tracker filters its position and velocity, and the controller, on its
own 10 Hz timer, samples the latest track and commands a pan/tilt rate that would
centre it. Camera and detector share node ``perception``; tracker and controller
run in ``control``, so the (small) detections cross nodes, not the images.

Run it: ``lk run like_keras_examples.sensor_pipeline:SensorPipeline --iterations 90``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from like_keras import Array, Component, Input, Msg, Node, Output, System

HEIGHT, WIDTH = 480, 640
Image = Array(np.uint8, (HEIGHT, WIDTH, 3))


class Detection(Msg):
    x: float
    y: float
    pixels: int


class Track(Msg):
    x: float
    y: float
    vx: float
    vy: float
    frames: int


class Camera(Component):
    """Renders frame k at time k / rate_hz with a square at ``position(k)``."""

    # A sensor_msgs/Image on ROS 2, in bags and in Foxglove, stamped with its step's time.
    image = Output(Image, image=True, frame_id="camera")

    @dataclass
    class Config:
        rate_hz: float = 30.0
        size: int = 20
        speed: tuple[float, float] = (90.0, 45.0)  # pixels per second
        start: tuple[float, float] = (100.0, 120.0)

    def on_start(self):
        self.frame = 0

    def position(self, frame: int) -> tuple[float, float]:
        """Centre (x, y) of the square in ``frame``, bouncing inside the image."""
        t = frame / self.config.rate_hz
        half = self.config.size / 2
        out = []
        for start, speed, span in zip(self.config.start, self.config.speed, (WIDTH, HEIGHT)):
            lo, hi = half, span - half
            p = (start - lo + speed * t) % (2 * (hi - lo))
            out.append(lo + (p if p <= hi - lo else 2 * (hi - lo) - p))
        return out[0], out[1]

    def step(self):
        self.frame += 1
        x, y = self.position(self.frame)
        half = self.config.size // 2
        image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        image[round(y) - half: round(y) + half, round(x) - half: round(x) + half] = 255
        return image


class Detector(Component):
    """The centroid of the bright pixels, or nothing when there are none."""

    image = Input(Image)
    detection = Output(Detection)

    def step(self, image):
        ys, xs = np.nonzero(image[:, :, 0] > 127)
        if len(xs) == 0:
            return None
        return Detection(x=float(xs.mean()) + 0.5, y=float(ys.mean()) + 0.5, pixels=int(len(xs)))


class Tracker(Component):
    """An alpha-beta filter on the detections (position and velocity)."""

    detection = Input(Detection)
    track = Output(Track)

    @dataclass
    class Config:
        dt: float = 1 / 30
        alpha: float = 0.85
        beta: float = 0.3

    def on_start(self):
        self.state = None

    def step(self, detection):
        c = self.config
        if self.state is None:
            self.state = Track(x=detection.x, y=detection.y, vx=0.0, vy=0.0, frames=1)
            return self.state
        s = self.state
        px, py = s.x + s.vx * c.dt, s.y + s.vy * c.dt
        rx, ry = detection.x - px, detection.y - py
        self.state = Track(
            x=px + c.alpha * rx, y=py + c.alpha * ry,
            vx=s.vx + c.beta * rx / c.dt, vy=s.vy + c.beta * ry / c.dt, frames=s.frames + 1,
        )
        return self.state


class Controller(Component):
    """At 10 Hz: a pan/tilt rate (rad/s) proportional to the target's offset from centre."""

    track = Input(Track, trigger=False)
    cmd = Output(Array(np.float64, (2,)))

    @dataclass
    class Config:
        rate_hz: float = 10.0
        gain: float = 0.002

    def step(self, track):
        if track is None:
            return np.zeros(2)
        return self.config.gain * np.array([track.x - WIDTH / 2, track.y - HEIGHT / 2])


class SensorPipeline(System):
    def __init__(self):
        self.perception = Node("perception")
        self.control = Node("control")
        self.camera = Camera.from_node(self.perception)
        self.detector = Detector.from_node(self.perception)
        self.tracker = Tracker.from_node(self.control)
        self.controller = Controller.from_node(self.control)
        self.connect(self.camera.image, self.detector.image)
        self.connect(self.detector.detection, self.tracker.detection)
        self.connect(self.tracker.track, self.controller.track)
        super().__init__(config=System.Config(name="sensor_pipeline"))
