"""What the hand-written rclpy nodes share: the QoS like-keras plans for a lossless edge
(reliable, keep all) and a Float32MultiArray made with one copy, as like-keras makes it."""

import array

import numpy as np
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Float32MultiArray, MultiArrayDimension, MultiArrayLayout

QOS = QoSProfile(reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_ALL, depth=1000)


def message(values):
    data = array.array("f")
    data.frombytes(values.view(np.uint8))  # one copy
    dim = MultiArrayDimension(label="dim0", size=values.size, stride=values.size)
    return Float32MultiArray(layout=MultiArrayLayout(dim=[dim]), data=data)
