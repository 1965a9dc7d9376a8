"""The system graph as a picture: every example draws to a valid SVG and PNG naming each
node and component, the README's pictures match the code, and timers, the clock,
external processes and topics from outside are shown as such."""

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from like_keras import Component, Input, Node, Output, System
from like_keras.errors import TransportError
from like_keras.transports.common.target import load_system
from like_keras_examples import EXAMPLES
from like_keras_examples.pictures import draw_all

from conftest import ROOT, SYSTEMS, VENV_BIN, tool

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(path: Path) -> list[str]:
    """The text of an SVG (it must parse as SVG)."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return [t.text or "" for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_draws_to_an_svg_and_a_png_naming_its_nodes_and_components(name, tmp_path):
    tool("dot")
    system = load_system(EXAMPLES[name])
    graph = system.build()
    texts = svg_texts(system.draw(tmp_path / f"{name}.svg"))
    for node in graph.nodes:
        assert f"node {node.name}" in texts
    for comp in graph.components:
        assert comp.name in texts
    for conn in graph.connections:
        assert f"{conn.src_port} → {conn.dst_port}" in texts
    png = system.draw(tmp_path / f"{name}.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


def test_the_readmes_pictures_are_the_examples_as_they_are(tmp_path):
    tool("dot")
    fresh = draw_all(tmp_path)
    for path in fresh:
        committed = ROOT / "docs" / "graphs" / path.name
        assert committed.read_text() == path.read_text(), f"{committed} is stale: run `make pictures`"
        assert f"docs/graphs/{path.name}" in (ROOT / "README.md").read_text()


def test_timers_the_clock_external_processes_and_outside_topics_are_marked(tmp_path):
    tool("dot")

    class Imu(Component):
        raw = Input(float, topic="/imu/data")
        level = Output(float, topic="/level")
        rate_hz = 20.0

        def step(self, raw):
            return raw

    imu = Imu(name="imu", node=Node("sensors", machine="robot"))
    texts = svg_texts(System(name="levels", components=[imu]).draw(tmp_path / "levels.svg"))
    assert {"imu", "Imu", "timer 20 Hz", "clock", "/imu/data", "/level", "node sensors @ robot"} <= set(texts)
    external = load_system(f"{SYSTEMS}:WithExternal")
    dot_source = external.draw(tmp_path / "external.dot").read_text()
    assert "(external: python" in dot_source and "style=dashed" in dot_source


def test_lk_graph_writes_pictures_and_refuses_unknown_formats(tmp_path):
    tool("dot")
    out = tmp_path / "cartpole.png"
    proc = subprocess.run([str(VENV_BIN / "lk"), "graph", EXAMPLES["cartpole"], "--format", "png", "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and f"wrote {out}" in proc.stdout, proc.stderr
    assert out.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(TransportError, match=r"cannot draw system 'cartpole' as 'gif'.*use one of svg, png, dot"):
        load_system(EXAMPLES["cartpole"]).draw(tmp_path / "cartpole.gif")
    assert not (tmp_path / "cartpole.gif").exists()
