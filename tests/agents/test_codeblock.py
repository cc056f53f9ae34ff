"""Code and plan extraction from replies."""

from __future__ import annotations

import pytest

from agents.engineer.codeblock import first_python_block, parse_plan
from tests.agents.scripted import plan_json


def test_first_python_block_wins() -> None:
    text = "Intro\n```python\na = 1\n```\nthen\n```python\nb = 2\n```"
    assert first_python_block(text) == "a = 1\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("```py\nx = 1\n```", "x = 1\n"),
        ("```\ndef extract(image, mask):\n    return {}\n```", "def extract(image, mask):\n    return {}\n"),
        ("```\nprint('not an extractor')\n```", None),
        ("no code at all", None),
        ("```json\n{}\n```", None),
        ("```python\n\n```", None),
    ],
)
def test_code_block_variants(text: str, expected: str | None) -> None:
    assert first_python_block(text) == expected


def test_plan_parses_fenced_and_bare_json() -> None:
    specs, problem = parse_plan(plan_json(("redness", "redness_delta_a"), ("erythema_index", "ei_delta")))
    assert problem == ""
    assert [s.name for s in specs] == ["redness", "erythema_index"]
    bare = plan_json(("redness", "redness_delta_a")).replace("```json\n", "Sure!\n").replace("\n```", "")
    assert parse_plan(bare)[0][0].output_key == "redness_delta_a"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("I think redness matters.", "no JSON object"),
        ('{"features": [', "does not parse"),
        ('{"features": []}', "at least 1"),
        ('{"features": [{"name": "Red Ness", "output_key": "k", "measures": "abcdef", "formula": "a-b"}]}', "snake_case"),
        (plan_json(("a", "k1"), ("a", "k2")), "must differ"),
        (plan_json(("a", "k1"), ("b", "k2"), ("c", "k3"), ("d", "k4")), "at most 3"),
    ],
)
def test_bad_plans_explain_why(text: str, needle: str) -> None:
    specs, problem = parse_plan(text)
    assert specs is None
    assert needle in problem
