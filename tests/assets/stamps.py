"""Messages with a std_msgs/Header (rebuilt by Dora and ROS 2 nodes from this file): a 20
Hz source in node 'robot' sends a PoseStamped whose header like-keras fills, one whose
header it filled itself, and an image; a listener in node 'desk' says what header it got
(on ROS 2 the pose and the image are on /stamped/poses/pose and /stamped/poses/image);
the body's transform goes on /tf, the camera mount's, sent once, on /tf_static."""

from dataclasses import dataclass

import numpy as np

from like_keras import Array, Component, Input, Node, Output, System
from like_keras.msgs import Header, PoseStamped, Time, TransformStamped


class Poses(Component):
    pose = Output(PoseStamped, frame_id="map")
    own = Output(PoseStamped, frame_id="map")
    image = Output(Array(np.uint8, (2, 3)), image=True, frame_id="camera")
    body = Output(TransformStamped, tf=True, frame_id="map")  # map -> base_link, on /tf
    mount = Output(TransformStamped, tf=True, latched=True, frame_id="base_link")  # -> camera, on /tf_static
    rate_hz = 20.0

    @dataclass
    class Config:
        image_frame_id: str = ""  # empty: the port's own

    def on_start(self):
        self.n = 0
        mount = TransformStamped(child_frame_id="camera")
        mount.transform.translation.z = 0.5
        return {"mount": mount}

    def step(self):
        self.n += 1
        pose = PoseStamped()
        pose.pose.position.x = float(self.n)
        own = PoseStamped(header=Header(stamp=Time(sec=7, nanosec=self.n), frame_id="odom"))
        body = TransformStamped(child_frame_id="base_link")
        body.transform.translation.x = float(self.n)
        return {"pose": pose, "own": own, "image": np.full((2, 3), self.n, np.uint8), "body": body}


class Listener(Component):
    pose = Input(PoseStamped)
    image = Input(Array(np.uint8, (2, 3)), trigger=False)  # so the image is on a topic too
    heard = Output(str)

    def step(self, pose, image):
        return f"{pose.header.frame_id} {pose.header.stamp.sec} {pose.header.stamp.nanosec}"


class Stamped(System):
    def __init__(self, image_frame: str = ""):
        self.poses = Poses.from_node(Node("robot"), config={"image_frame_id": image_frame})
        self.listener = Listener.from_node(Node("desk"))
        self.connect(self.poses.pose, self.listener.pose)
        self.connect(self.poses.image, self.listener.image)
        super().__init__(config=System.Config(name="stamped"))
