"""like-keras: describe a robot system once in Python, run it on any transport.

    from like_keras import Component, Input, Output, Node, System, Msg, Array
    from like_keras import Replay  # replay a component's outputs from a rosbag2 bag
    from like_keras import Live    # where launch(live=...) serves its Foxglove live view
"""

from like_keras.graph.ir import SystemGraph
from like_keras.live import Live
from like_keras.recording.replay import Replay
from like_keras.result import RunResult
from like_keras.system.component import Component
from like_keras.system.node import Node
from like_keras.system.ports import Input, Output
from like_keras.system.system import System
from like_keras.system.types import Array, Msg

__all__ = ["Array", "Component", "Input", "Live", "Msg", "Node", "Output", "Replay", "RunResult", "System",
           "SystemGraph"]
__version__ = "0.1.0"
