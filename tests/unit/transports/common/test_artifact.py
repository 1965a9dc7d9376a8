"""What travels with a compiled system: its own code, found from its target, named so that a
machine that imports it as a module rebuilds the same graph; and pinned wheels."""

import sys
from importlib import metadata

import pytest

from like_keras.transports.common import artifact, wheels
from like_keras.transports.common.target import load_system

SYSTEM = """
import json
import numpy as np

import helpers
from tools.filters import smooth
from like_keras import Component, Input, Node, Output, System


class Source(Component):
    out = Output(float)
    rate_hz = 10.0

    def step(self):
        return smooth(helpers.one())


class Sink(Component):
    x = Input(float)

    def step(self, x):
        pass


class Small(System):
    def __init__(self):
        self.source = Source.from_node(Node("a"))
        self.sink = Sink.from_node(Node("b"))
        self.connect(self.source.out, self.sink.x)
        super().__init__(config=System.Config(name="small"))
"""


@pytest.fixture
def code(tmp_path, monkeypatch):
    (tmp_path / "systems.py").write_text(SYSTEM)
    (tmp_path / "helpers.py").write_text("import rich\n\n\ndef one():\n    return 1.0\n")
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "__init__.py").write_text("")
    (tmp_path / "tools" / "filters.py").write_text("from . import gains\n\n\ndef smooth(x):\n    return x\n")
    (tmp_path / "tools" / "gains.py").write_text("")
    monkeypatch.setattr(sys, "path", list(sys.path))  # the target's folder goes on it
    yield tmp_path
    for name in ("helpers", "tools", "tools.filters", "tools.gains", "systems"):
        sys.modules.pop(name, None)


def test_a_target_file_is_named_as_its_module():
    assert artifact.portable_ref("/home/me/robot/systems.py:Arm") == "systems:Arm"
    assert artifact.portable_ref("my_robot.systems:Arm") == "my_robot.systems:Arm"


def test_the_portable_graph_is_the_one_a_machine_rebuilds_from_the_shipped_module(code):
    graph = load_system(f"{code}/systems.py:Small").build()
    assert graph.target == f"{code}/systems.py:Small"
    moved = artifact.portable(graph)
    assert moved.target == "systems:Small"
    assert {c.cls for c in moved.components} == {"systems:Source", "systems:Sink"}
    # Elsewhere the module is imported by name (the folder it travels in is on the path).
    sys.path.insert(0, str(code))
    assert load_system("systems:Small").build().digest() == moved.digest() != graph.digest()


def test_the_system_code_is_its_module_and_the_local_modules_it_imports(code):
    found = artifact.app_modules(f"{code}/systems.py:Small")
    assert found == {"systems": code / "systems.py", "helpers": code / "helpers.py", "tools": code / "tools"}
    # numpy, json, like_keras: installed, standard, or like-keras' own; they travel otherwise.
    assert artifact.external_imports(found) == {"numpy", "rich"}


def test_a_module_target_travels_as_its_top_level_package():
    found = artifact.app_modules("like_keras_examples.cartpole:CartPole")
    assert list(found) == ["like_keras_examples"] and found["like_keras_examples"].is_dir()


def test_pins_are_what_is_installed_here_with_everything_it_requires():
    pinned = dict(p.split("==") for p in wheels.pins(["like_keras"], {"rich"}))
    for name in ("numpy", "pyarrow", "mcap", "rosbags", "rich", "markdown-it-py", "packaging"):
        assert pinned[name] == metadata.version(name), name  # markdown-it-py: rich's, transitively
    assert not {"like-keras", "like-keras-ros", "like-keras-examples"} & set(pinned)  # they travel as code


@pytest.mark.parametrize("transport", ["dora", "ros2"])
def test_the_code_that_travels_is_the_target_file_whatever_else_the_module_name_means_here(code, tmp_path,
                                                                                         transport):
    target = load_system(f"{code}/systems.py:Small")
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "systems.py").write_text("# another module called systems, first on the path\n")
    sys.path.insert(0, str(decoy))
    out = target.compile_to_transport(transport, tmp_path / "out" / "src")
    shipped = [p for p in (tmp_path / "out").rglob("systems.py")]
    assert len(shipped) == 1 and shipped[0].read_text() == (code / "systems.py").read_text(), out
