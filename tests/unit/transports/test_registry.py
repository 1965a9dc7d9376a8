"""Transports are found through the ``like_keras.transports`` entry-point group: a
third-party distribution plugs one in exactly as like-keras registers its own."""

from __future__ import annotations

import textwrap

import pytest

from like_keras import Component, Output, System
from like_keras.errors import TransportError
from like_keras.transports import GROUP, RunOptions, available, get

TOY = '''
from like_keras.result import RunResult

calls = []


def launch(system, graph, options, **extra):
    calls.append((graph.name, options, extra))
    return RunResult(graph=graph, transport="toy", steps={c.name: 0 for c in graph.components}, duration=0.0)


def cli(sub, command):
    command(sub, "hello", "Say hello to a system.", lambda system, args: print(f"hello {system.name}"))
'''


class Ticker(Component):
    out = Output(int)
    rate_hz = 10.0

    def step(self):
        return 1


class Toyed(System):
    def __init__(self):
        self.ticker = Ticker()
        super().__init__(name="toyed")


@pytest.fixture
def toy_distribution(tmp_path, monkeypatch):
    """A throwaway distribution, ``toy-transport``, that registers transport ``toy``."""
    (tmp_path / "toy_transport.py").write_text(TOY)
    info = tmp_path / "toy_transport-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-transport\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(f"""\
        [{GROUP}]
        toy = toy_transport
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    import sys

    sys.modules.pop("toy_transport", None)


def test_the_builtin_transports_are_entry_points():
    assert available()[:2] == ["native", "dora"]
    assert get("native").__name__ == "like_keras.transports.native"


def test_a_transport_from_another_distribution_is_reached_by_launch(toy_distribution):
    assert "toy" in available()
    result = Toyed().launch(transport="toy", iterations=3, record=["ticker.out"], flavour="mint")
    toy = get("toy")
    assert result.transport == "toy" and result.steps == {"ticker": 0}
    name, options, extra = toy.calls[-1]
    assert name == "toyed" and extra == {"flavour": "mint"}
    assert options == RunOptions(iterations=3, record=("ticker.out",))


def test_a_transport_adds_its_own_lk_commands(toy_distribution, capsys):
    from like_keras.cli import main

    assert main(["toy", "hello", f"{__name__}:Toyed"]) == 0
    assert capsys.readouterr().out == "hello toyed\n"


def test_without_the_distribution_the_transport_is_unknown():
    with pytest.raises(TransportError, match="unknown transport 'toy'; available transports: native, dora"):
        Toyed().launch(transport="toy")
