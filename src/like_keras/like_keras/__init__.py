"""like-keras: describe a robot system once in Python, run it on any transport.

    from like_keras import Component, Input, Output, Node, System, Msg, Array
    from like_keras import Replay  # replay a component's outputs from a rosbag2 bag
    from like_keras import Live    # where launch(live=...) serves its Foxglove live view
"""

from .component import Component
from .graph import SystemGraph
from .live import Live
from .node import Node
from .ports import Input, Output
from .replay import Replay
from .result import RunResult
from .system import System
from .types import Array, Msg

__all__ = ["Array", "Component", "Input", "Live", "Msg", "Node", "Output", "Replay", "RunResult", "System",
           "SystemGraph"]
__version__ = "0.1.0"
