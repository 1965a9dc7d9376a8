"""Fuzzing Config values (hypothesis): whatever a component is configured with (any
unicode, quotes, newlines, shell and launch syntax, huge integers, NaN, infinities)
arrives unchanged in every node, on every transport."""

import json
import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from like_keras.transports.common.target import load_system

from conftest import ASSETS, ros2_env, tool

TARGET = f"{ASSETS / 'random_systems.py'}:Configured"
NASTY = ["", "'", '"', "it's \"quoted\"", "line\nbreak\r\n", "$(echo pwned)", "${HOME}", "`id`", "a\\b",
         "$(find-pkg-share x)", "é 中文 🤖", "\t\x00\x7f", "--ros-args -p x:=1", "key: value", "- [1]", "null"]
TEXTS = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
NUMBERS = st.one_of(st.integers(), st.sampled_from([0, -1, 2**63 - 1, 2**63, -2**63 - 1, 10**40]))
RATIOS = st.floats(allow_nan=True, allow_infinity=True)


def _said(transport, text, number, ratio):
    result = load_system(TARGET, {"text": text, "number": number, "ratio": ratio}).launch(
        transport=transport, record=["one.said", "two.said"], timeout=180)  # it ends when quiet
    return result.messages("one.said") + result.messages("two.said")


def _assert_unchanged(transport, text, number, ratio):
    said = _said(transport, text, number, ratio)
    assert len(said) == 2
    for line in said:  # one per node
        got_text, got_number, got_ratio = json.loads(line)
        assert (got_text, got_number) == (text, number)
        assert got_ratio == ratio or (math.isnan(got_ratio) and math.isnan(ratio))
        assert type(got_number) is int and type(got_ratio) is float


@settings(max_examples=100, deadline=None)
@given(text=TEXTS, number=NUMBERS, ratio=RATIOS)
def test_config_values_arrive_unchanged_natively(text, number, ratio):
    _assert_unchanged("native", text, number, ratio)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(text="it's \"q\"\n$(echo pwned) é", number=10**40, ratio=math.nan)
@given(text=TEXTS, number=NUMBERS, ratio=RATIOS)
def test_config_values_arrive_unchanged_in_every_dora_node(text, number, ratio):
    tool("dora")
    _assert_unchanged("dora", text, number, ratio)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(text="it's \"q\"\n$(echo pwned) é", number=10**40, ratio=math.nan)
@example(text="Infinity", number=0, ratio=0.0)  # ROS 2 read a plain Infinity in the parameter file as a double
@example(text="\x9c\x1d\x0f¿+\U000186d5\U000f909a\U0007ce77\x06öà", number=10**40, ratio=4455750247474410.0)
@given(text=TEXTS, number=NUMBERS, ratio=RATIOS)
def test_config_values_arrive_unchanged_in_every_ros2_node(text, number, ratio):
    ros2_env()
    _assert_unchanged("ros2", text, number, ratio)
