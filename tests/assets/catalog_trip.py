"""A system whose ports carry messages of the ROS catalog (rebuilt by Dora and ROS 2 nodes
from this file): a 20 Hz source in node 'sensors' sends a LaserScan, Odometry, Image,
PointCloud2, Imu, TFMessage and MarkerArray built from its step number; a relay in node
'relays' sends each on, so the messages cross nodes."""

import numpy as np

from like_keras import Component, Input, Node, Output, System
from like_keras.msgs import Header, Time
from like_keras.msgs.ros import geometry_msgs, nav_msgs, sensor_msgs, tf2_msgs, visualization_msgs

PORTS = {
    "scan": sensor_msgs.LaserScan, "odom": nav_msgs.Odometry, "image": sensor_msgs.Image,
    "cloud": sensor_msgs.PointCloud2, "imu": sensor_msgs.Imu, "tf": tf2_msgs.TFMessage,
    "markers": visualization_msgs.MarkerArray,
}


def messages(k):
    header = Header(Time(k, 1000 * k), "base_link")
    scan = sensor_msgs.LaserScan(header, -1.0, 1.0, 0.5, 0.0, 0.125, 0.25, 8.0,
                                 np.linspace(0, k, 5, dtype=np.float32), np.full(5, k % 7, np.float32))
    odom = nav_msgs.Odometry(header, "base_footprint")
    odom.pose.pose.position.x = 0.1 * k
    odom.twist.covariance[:] = np.arange(36.0) * k
    image = sensor_msgs.Image(header, 4, 6, "rgb8", 0, 18, (np.arange(72) * k % 256).astype(np.uint8))
    fields = [sensor_msgs.PointField("x", 0, sensor_msgs.PointField.FLOAT32, 1),
              sensor_msgs.PointField("y", 4, sensor_msgs.PointField.FLOAT32, 1)]
    points = np.array([[k, -k], [0.5 * k, 1.0]], np.float32).tobytes()
    cloud = sensor_msgs.PointCloud2(header, 1, 2, fields, False, 8, 16, np.frombuffer(points, np.uint8), True)
    imu = sensor_msgs.Imu(header, geometry_msgs.Quaternion(0.0, 0.0, np.sin(k / 10), np.cos(k / 10)),
                          np.eye(3).ravel() * k)
    tf = geometry_msgs.TransformStamped(header, f"link_{k % 3}")
    tf.transform.translation.x = float(k)
    marker = visualization_msgs.Marker(header, "trip", k, visualization_msgs.Marker.CUBE)
    marker.points = [geometry_msgs.Point(float(i), float(k), 0.0) for i in range(k % 4)]
    return {"scan": scan, "odom": odom, "image": image, "cloud": cloud, "imu": imu,
            "tf": tf2_msgs.TFMessage([tf]), "markers": visualization_msgs.MarkerArray([marker])}


Source = type("Source", (Component,), {
    **{name: Output(t) for name, t in PORTS.items()}, "rate_hz": 20.0,
    "on_start": lambda self: setattr(self, "k", 0),
    "step": lambda self: (setattr(self, "k", self.k + 1), messages(self.k))[1],
})


def relay(t):
    """A component that sends on each message it gets (one input: its trace is the order
    of one topic, which every transport keeps)."""
    return type(f"Relay{t.__name__}", (Component,), {"x": Input(t), "y": Output(t), "step": lambda self, x: x})


class CatalogTrip(System):
    def __init__(self):
        self.sensors, self.relays = Node("sensors"), Node("relays")
        self.source = Source.from_node(self.sensors)
        for name, t in PORTS.items():
            setattr(self, name, relay(t).from_node(self.relays))
            self.connect(getattr(self.source, name), getattr(self, name).x)
        super().__init__(config=System.Config(name="catalog_trip"))


RECORD = [f"{name}.y" for name in PORTS]
