"""A plain rclpy client of a lifecycle node's standard services, as a ROS developer would
write one: ``python ros_lifecycle_client.py /tail configure activate ...`` asks
``/tail/change_state`` for each transition (by its label), and prints one JSON line: the
transition's answer, the states ``/tail/transition_event`` announced, ``/tail/get_state``
after it (unless the node is gone), and the numbers ``/echoed`` carried from the request
until 2.2 s after the answer (``echoed``) and in the last 2 s of those (``later``).
Before the first transition it prints the same for ``""``."""

import json
import sys
import time

import rclpy
from lifecycle_msgs.msg import TransitionEvent
from lifecycle_msgs.srv import ChangeState, GetState
from std_msgs.msg import Int64

WINDOW = 2.0


def main(target, transitions):
    rclpy.init()
    node = rclpy.create_node("lifecycle_client")
    seen, events = [], []
    node.create_subscription(Int64, "/echoed", lambda m: seen.append(m.data), 1000)
    node.create_subscription(TransitionEvent, f"{target}/transition_event",
                             lambda m: events.append(m.goal_state.label), 10)
    change = node.create_client(ChangeState, f"{target}/change_state")
    get = node.create_client(GetState, f"{target}/get_state")
    for client in (change, get):
        if not client.wait_for_service(timeout_sec=60):
            raise SystemExit(f"{client.srv_name} is not offered")

    def call(client, request):
        future = client.call_async(request)
        rclpy.spin_until_future_complete(node, future, timeout_sec=30)
        return future.result()

    def spin(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)

    for transition in ["", *transitions]:
        success = None
        del seen[:], events[:]
        if transition:
            request = ChangeState.Request()
            request.transition.label = transition
            success = call(change, request).success
        spin(0.2)  # what was sent before the answer arrives
        settled = len(seen)
        spin(WINDOW)
        state = call(get, GetState.Request()) if get.service_is_ready() else None
        print(json.dumps({"transition": transition, "success": success, "events": events,
                          "state": state.current_state.label if state is not None else None, "echoed": seen,
                          "later": seen[settled:]}),
              flush=True)
    node.destroy_node()
    rclpy.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
