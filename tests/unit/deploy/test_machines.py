"""Machines given to a run across machines are checked against the system before ssh runs."""

import pytest
from conftest import SYSTEMS

from like_keras.deploy.machines import Machine, machines, parse
from like_keras.errors import TransportError
from like_keras.transports.common.target import load_system


def graph(**kwargs):
    return load_system(f"{SYSTEMS}:TwoMachines", kwargs).build()


@pytest.mark.parametrize("destination, host, port", [
    ("pi@10.0.0.7", "pi@10.0.0.7", None),
    ("root@robot.local:2222", "root@robot.local", "2222"),
    ("base-station", "base-station", None),
    ("host:22", "host", "22"),
])
def test_a_destination_is_user_host_port_or_an_alias(destination, host, port):
    m = Machine("robot", destination)
    assert (m.host, m.port) == (host, port)


def test_machines_are_those_the_nodes_name_sorted():
    found = machines(graph(), {"robot": "pi@10.0.0.7", "base": "base-station:2200"})
    assert [(m.name, m.destination) for m in found] == [("base", "base-station:2200"), ("robot", "pi@10.0.0.7")]


@pytest.mark.parametrize("given, message", [
    ({}, "machines= is empty"),
    ({"robot": "a b", "base": "b"}, r"machine 'robot': 'a b' is not an ssh destination"),
    ({"robot": "r@h:port", "base": "b"}, "is not an ssh destination"),
    ({"robot": "r"}, r"machine 'base' \(node 'control'\) was not given: add base="),
    ({"robot": "r", "base": "b", "arm": "a"}, r"machine 'arm' was given but no node of system 'two_machines'"),
])
def test_machines_that_do_not_match_the_system_are_refused(given, message):
    with pytest.raises(TransportError, match=message):
        machines(graph(), given)


def test_every_node_needs_a_machine():
    with pytest.raises(TransportError, match=r"node 'control' has no machine: .*Node\(..., machine=NAME\)"):
        machines(graph(control_machine=None), {"robot": "r"})


def test_machine_flags_parse_to_a_mapping():
    assert parse(["robot=pi@10.0.0.7", "base=b:22"]) == {"robot": "pi@10.0.0.7", "base": "b:22"}
    with pytest.raises(TransportError, match="use NAME=\\[user@\\]host"):
        parse(["robot"])
    with pytest.raises(TransportError, match="--machine robot is given twice"):
        parse(["robot=a", "robot=b"])
