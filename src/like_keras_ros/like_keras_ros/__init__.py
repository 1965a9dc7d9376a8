"""The ROS 2 transport of like-keras.

- port types <-> ROS 2 messages: ``like_keras.msgs.ros_mapping`` (core: recordings use it too).
- ``interfaces``: the ``<system>_interfaces`` package for user Msg types.
- ``bringup`` and ``launch_file``: the ``<system>_bringup`` package and its launch file.
- ``bridge``: one like-keras node on ROS 2 topics, in plain Python.
- ``runner``: the thin rclpy adapter around the bridge (the only rclpy import).
- ``transport``: ``compile`` for ``System.compile_to_transport("ros2", ...)``.
- ``workspace``: ``lk ros2 build`` (generate, then ``colcon build``).
"""
