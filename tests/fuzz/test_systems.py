"""Fuzzing valid systems (hypothesis): random graphs of random port types, placed on
random nodes under random names, with or without a loop started by ``on_start``, build;
their Dora dataflow passes ``dora validate``; their ROS 2 packages pass catkin_pkg, their
launch files compile, their parameter files load and their .msg files pass ``rosidl
translate``; and a sample of them runs natively and on Dora with equal traces."""

import ast
import subprocess

import pytest
import yaml
from catkin_pkg.package import parse_package_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from like_keras.transports.common.target import load_system

from conftest import ASSETS, tool

TARGET = f"{ASSETS / 'random_systems.py'}:Random"
KINDS = ["int", "float", "str", "array", "msg", "list"]
NAME = st.from_regex(r"[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,3})?", fullmatch=True).filter(
    lambda n: n not in ("ping", "pong", "dora", "name", "node", "step", "config"))


@st.composite
def specs(draw, max_components: int = 7) -> dict:
    names = draw(st.lists(NAME, min_size=3, max_size=max_components + 3, unique=True))
    node_count = draw(st.integers(1, min(3, len(names) - 2)))
    nodes, comp_names = names[:node_count], names[node_count:]
    comps = []
    for i, name in enumerate(comp_names):
        src = None if i == 0 else draw(st.integers(0, i - 1))
        comps.append({"name": name, "node": draw(st.integers(0, node_count - 1)),
                      "out": draw(st.sampled_from(KINDS)), "src": src})
    return {"name": draw(NAME), "nodes": nodes, "components": comps, "loop": draw(st.booleans())}


def _system(spec):
    return load_system(TARGET, {"spec": spec})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs())
def test_random_systems_build_and_compile_to_what_dora_and_ros_tools_accept(spec, tmp_path_factory):
    dora, rosidl = tool("dora"), tool("rosidl")
    out = tmp_path_factory.mktemp("fuzz")
    graph = _system(spec).build()
    assert [c.name for c in graph.components][: len(spec["components"])] == [c["name"] for c in spec["components"]]
    flow = _system(spec).compile_to_transport("dora", out / "dataflow.yml")
    proc = subprocess.run([dora, "validate", str(flow)], capture_output=True, text=True, timeout=60,
                          env={"RUST_BACKTRACE": "0", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _system(spec).compile_to_transport("ros2", out / "src")
    bringup = out / "src" / f"{graph.name}_bringup"
    parse_package_string((bringup / "package.xml").read_text()).validate()
    launch = bringup / "launch" / f"{graph.name}.launch.py"
    compile(launch.read_text(), str(launch), "exec")
    ast.parse(launch.read_text())
    params = yaml.safe_load((bringup / "config" / f"{graph.name}.yaml").read_text())
    assert {key.rpartition("/")[2] for key in params} == {n.name for n in graph.nodes}
    interfaces = out / "src" / f"{graph.name}_interfaces"
    if any(c["out"] == "msg" for c in spec["components"]):
        parse_package_string((interfaces / "package.xml").read_text()).validate()
        for msg in sorted((interfaces / "msg").iterdir()):
            proc = subprocess.run([rosidl, "translate", "--to", "idl", "-o", str(out / "idl"),
                                   interfaces.name, f"{interfaces}:msg/{msg.name}"],
                                  capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, proc.stderr


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs(max_components=5), iterations=st.integers(3, 12))
def test_a_sample_of_random_systems_gives_the_native_trace_on_dora(spec, iterations):
    tool("dora")
    native = _system(spec).launch(iterations=iterations, record=ports(spec))
    dora = _system(spec).launch(transport="dora", iterations=iterations, record=ports(spec), timeout=120)
    assert dora.steps == native.steps
    for port in ports(spec):
        assert _plain(dora.messages(port)) == _plain(native.messages(port)), port


def ports(spec):
    """Every output of the system ``spec`` makes: what the trace test records."""
    return [f"{c['name']}.out" for c in spec["components"]] + (["ping.there", "pong.back"] if spec["loop"] else [])


def _plain(values):
    """Arrays as lists, so that traces compare with ==."""
    return [v.tolist() if hasattr(v, "tolist") else v for v in values]
