"""``launch/<system>.launch.py``: a launch_ros Node per like-keras Node.

Each node gets the package's parameter file plus the run bounds, its remappings from
node-relative names to the system's topics, a namespace, output and respawn from
launch arguments, and, when it is placed on a machine, a ``machine_<name>`` argument
that decides whether it starts here. When any node exits, the launch shuts down.
"""

from __future__ import annotations

from like_keras.graph import SystemGraph

from .bridge import plan_node
from .templates import copyright_header

_HEAD = '''"""Launch a like-keras system on ROS 2 (generated): one node per like-keras Node."""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, RegisterEventHandler
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

SYSTEM = {name!r}
PACKAGE = {package!r}
PARAMETERS = {parameters!r}
NODES = [
{nodes}]
MACHINES = {machines!r}
'''

_BODY = '''

def generate_launch_description():
    """Start every node of the system; when one exits, shut the launch down."""
    parameters = os.path.join(get_package_share_directory(PACKAGE), 'config', PARAMETERS)
    actions = [
        DeclareLaunchArgument('namespace', default_value='',
                              description='Namespace of every node.'),
        DeclareLaunchArgument('iterations', default_value='0',
                              description='Steps of the clock component, then stop (0: run on).'),
        DeclareLaunchArgument('duration', default_value='0.0',
                              description='Seconds to run, then stop (0: run on).'),
        DeclareLaunchArgument('output', default_value='screen',
                              description='Where node output goes.'),
        DeclareLaunchArgument('respawn', default_value='false',
                              description='Restart nodes that exit.'),
    ]
    for machine in MACHINES:
        actions.append(DeclareLaunchArgument(
            'machine_' + machine, default_value='true',
            description='Start the nodes placed on machine ' + machine + ' here.'))
    for spec in NODES:
        condition = None
        if spec['machine']:
            condition = IfCondition(LaunchConfiguration('machine_' + spec['machine']))
        node = Node(
            package=PACKAGE,
            executable=spec['executable'],
            name=spec['name'],
            namespace=LaunchConfiguration('namespace'),
            parameters=[parameters, {
                'like_keras.iterations': ParameterValue(
                    LaunchConfiguration('iterations'), value_type=int),
                'like_keras.duration': ParameterValue(
                    LaunchConfiguration('duration'), value_type=float),
            }],
            remappings=spec['remappings'],
            output=LaunchConfiguration('output'),
            respawn=LaunchConfiguration('respawn'),
            condition=condition,
        )
        actions.append(node)
        actions.append(RegisterEventHandler(OnProcessExit(
            target_action=node,
            on_exit=[EmitEvent(event=Shutdown(reason='node ' + spec['name'] + ' exited'))])))
    return LaunchDescription(actions)
'''


def node_specs(graph: SystemGraph) -> list[dict[str, object]]:
    """The launch file's NODES: name, executable, machine and remappings of each node."""
    specs = []
    for node in graph.nodes:
        if node.executable is not None:
            continue
        local = plan_node(graph, node.name).local
        specs.append({
            "name": node.name,
            "executable": node.name,  # the console script is named after the node
            "machine": node.machine,
            "remappings": sorted((name, topic) for topic, name in local.items()),
        })
    return specs


def launch_file(graph: SystemGraph, package: str) -> str:
    nodes = ""
    for spec in node_specs(graph):
        nodes += "    {\n"
        for key in ("name", "executable", "machine"):
            nodes += f"        {key!r}: {spec[key]!r},\n"
        nodes += "        'remappings': [\n"
        for local, topic in spec["remappings"]:  # type: ignore[attr-defined]
            line = f"            ({local!r}, {topic!r}),\n"
            nodes += line if len(line) <= 100 else f"            (\n                {local!r},\n                {topic!r}),\n"
        nodes += "        ],\n    },\n"
    machines = sorted({n.machine for n in graph.nodes if n.machine})
    head = _HEAD.format(name=graph.name, package=package, parameters=f"{graph.name}.yaml", nodes=nodes,
                        machines=machines)
    return copyright_header() + head + _BODY
