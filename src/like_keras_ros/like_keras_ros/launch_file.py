"""``launch/<system>.launch.py``: a launch_ros Node per like-keras Node.

Each node gets the package's parameter file plus the run bounds and recording from
launch arguments, a namespace, output and respawn, and, when it is placed on a machine,
a ``machine_<name>`` argument that decides whether it starts here. Topics need no
remapping: nodes use the system's relative topic names themselves. A node that fails
(non-zero exit) shuts the launch down and makes ``ros2 launch`` exit non-zero (unless
``respawn:=true``); nodes that end cleanly end the launch by leaving it idle.

A lifecycle node is a launch_ros ``LifecycleNode``: unless ``autostart:=false`` (or its
``Node(autostart=False)``), the launch asks it to configure once its process runs and to
activate once configured, the way Nav2's launch files do.
"""

from __future__ import annotations

from pprint import pformat

from like_keras.graph.ir import SystemGraph
from like_keras_ros.host import RUN_PARAMETERS
from like_keras_ros.templates import copyright_header

_HEAD = '''"""Launch a like-keras system on ROS 2 (generated): one node per like-keras Node."""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, RegisterEventHandler
from launch.conditions import IfCondition, UnlessCondition
from launch.event_handlers import OnProcessExit, OnProcessStart
from launch.events import matches_action
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from launch_ros.parameter_descriptions import ParameterValue

SYSTEM = {name!r}
PACKAGE = {package!r}
PARAMETERS = {parameters!r}
NODES = {nodes}
# Lifecycle nodes, and whether the launch configures and activates them (autostart).
LIFECYCLE = {lifecycle}
MACHINES = {machines}
ARGUMENTS = [
    ('namespace', '', 'Namespace of every node (the system runs under it).'),
    ('iterations', '0', 'Steps of the clock component, then stop (0: run on).'),
    ('duration', '0.0', 'Seconds to run, then stop (0: run on).'),
    ('run_dir', '', 'Folder for results, failures and recordings (empty: none).'),
    ('record', '', 'Output ports to record, as component.port,... (needs run_dir).'),
    ('replay', '', 'Components whose outputs come from rosbag2 bags (JSON: like_keras.Replay).'),
    ('lockstep', 'false', 'Simulated time, published on /clock: the native trace.'),
    ('epoch_ns', '0', 'Wall time (ns) where simulated time starts (0: when the nodes start).'),
    ('use_sim_time', 'false', 'Follow /clock from outside (a simulator, ros2 bag play --clock).'),
    ('output', 'screen', 'Where node output goes.'),
    ('respawn', 'false', 'Restart nodes that exit; a failed node then ends nothing.'),
    ('autostart', 'true', 'Configure and activate the lifecycle nodes (false: a manager does).'),
]
RUN_PARAMETERS = {run_parameters}
'''

_BODY = '''

def node_exited(name, event):
    """Fail the launch (ros2 launch exits 1) when a node fails."""
    if event.returncode != 0:
        raise RuntimeError(
            'node {} of {} failed (exit code {})'.format(name, SYSTEM, event.returncode))


def autostart(node):
    """Configure the lifecycle node once its process runs, activate it once configured."""
    from lifecycle_msgs.msg import Transition

    def change(transition):
        return EmitEvent(event=ChangeState(
            lifecycle_node_matcher=matches_action(node), transition_id=transition))

    condition = IfCondition(LaunchConfiguration('autostart'))
    return [
        RegisterEventHandler(OnProcessStart(
            target_action=node, on_start=[change(Transition.TRANSITION_CONFIGURE)]),
            condition=condition),
        RegisterEventHandler(OnStateTransition(
            target_lifecycle_node=node, start_state='configuring', goal_state='inactive',
            entities=[change(Transition.TRANSITION_ACTIVATE)]),
            condition=condition),
    ]


def generate_launch_description():
    """Start every node of the system; a node that fails shuts the launch down."""
    parameters = os.path.join(get_package_share_directory(PACKAGE), 'config', PARAMETERS)
    run = {
        'like_keras.' + key: ParameterValue(LaunchConfiguration(key), value_type=kind)
        for key, kind in RUN_PARAMETERS
    }
    run['use_sim_time'] = ParameterValue(LaunchConfiguration('use_sim_time'), value_type=bool)
    actions = [
        DeclareLaunchArgument(key, default_value=value, description=text)
        for key, value, text in ARGUMENTS
    ]
    for machine in MACHINES:
        actions.append(DeclareLaunchArgument(
            'machine_' + machine, default_value='true',
            description='Start the nodes placed on machine ' + machine + ' here.'))
    for name, machine in NODES:
        condition = None
        if machine:
            condition = IfCondition(LaunchConfiguration('machine_' + machine))
        kind = LifecycleNode if name in LIFECYCLE else Node
        node = kind(
            package=PACKAGE,
            executable=name,
            name=name,
            namespace=LaunchConfiguration('namespace'),
            parameters=[parameters, run],
            output=LaunchConfiguration('output'),
            respawn=LaunchConfiguration('respawn'),
            condition=condition,
        )
        actions.append(node)
        if LIFECYCLE.get(name):
            actions += autostart(node)
        actions.append(RegisterEventHandler(
            OnProcessExit(
                target_action=node,
                on_exit=lambda event, context, name=name: node_exited(name, event)),
            condition=UnlessCondition(LaunchConfiguration('respawn'))))
    return LaunchDescription(actions)
'''


def launch_file(graph: SystemGraph, package: str) -> str:
    """The launch file's text: fixed code, and the system's facts as Python literals."""
    nodes = [(n.name, n.machine) for n in graph.nodes if n.executable is None]
    machines = sorted({n.machine for n in graph.nodes if n.machine})
    # pformat wraps long lists within ament_flake8's line length.
    run_parameters = "".join(f"\n    ({key!r}, {type(value).__name__})," for key, value in RUN_PARAMETERS.items())
    lifecycle = {n.name: n.autostart for n in graph.nodes if n.lifecycle}
    head = _HEAD.format(name=graph.name, package=package, parameters=f"{graph.name}.yaml",
                        nodes=pformat(nodes, width=88), machines=pformat(machines, width=88),
                        lifecycle=pformat(lifecycle, width=88),
                        run_parameters=f"[{run_parameters}\n]")
    return copyright_header() + head + _BODY
