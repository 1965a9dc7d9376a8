"""A camera that a robot's bag can stand in for (rebuilt by Dora and ROS 2 nodes from
this file): a 10 Hz camera in node 'robot' sends sensor_msgs/Image frames of one grey
level; 'brightness' in node 'desk' sends the mean of each frame it gets, and its frame id.
``Frames``: a camera of 1 MB frames, as fast as the CPU goes."""

import numpy as np

from like_keras import Component, Input, Node, Output, System
from like_keras.msgs import Header, Image, Time


class Camera(Component):
    image = Output(Image)
    rate_hz = 10.0

    def on_start(self):
        self.k = 0

    def step(self):
        self.k += 1
        return Image(Header(Time(self.k, 0), "camera"), 2, 3, "mono8", 0, 3, np.full(6, self.k, np.uint8))


class Brightness(Component):
    image = Input(Image)
    mean = Output(float)
    frame = Output(str)

    def step(self, image):
        return {"mean": float(np.mean(image.data)), "frame": image.header.frame_id}


class Viewer(System):
    def __init__(self, name: str = "viewer"):
        self.robot, self.desk = Node("robot"), Node("desk")
        self.camera = Camera.from_node(self.robot)
        self.brightness = Brightness.from_node(self.desk)
        self.connect(self.camera.image, self.brightness.image)
        super().__init__(config=System.Config(name=name))


class BigCamera(Component):
    image = Output(Image)
    rate_hz = 1000.0

    def on_start(self):
        self.data = np.zeros(1 << 20, np.uint8)

    def step(self):
        return Image(width=1024, height=1024, encoding="mono8", step=1024, data=self.data)


class Frames(System):
    def __init__(self):
        self.cam = BigCamera()
        super().__init__(config=System.Config(name="frames"))
