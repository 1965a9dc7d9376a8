"""like-keras: describe a robot system once in Python, run it on any transport.

    from like_keras import Component, Input, Output, Node, System, Msg, Array
    from like_keras import Replay  # replay a component's outputs from a rosbag2 bag
"""

from .component import Component
from .graph import SystemGraph
from .node import Node
from .ports import Input, Output
from .replay import Replay
from .result import RunResult
from .system import System
from .types import Array, Msg

__all__ = ["Array", "Component", "Input", "Msg", "Node", "Output", "Replay", "RunResult", "System", "SystemGraph"]
__version__ = "0.1.0"
