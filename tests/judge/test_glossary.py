"""The descriptor glossary, the target's reference values, and their rendering in the prompts."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from agents.judge.run import judge_with_llm
from agents.llm import LLMClient, LLMConfig
from scafe.judge.descriptors import DESCRIPTOR_NAMES
from scafe.judge.glossary import GLOSSARY, acceptable_ranges, load_reference, reference_path
from scafe.judge.rules import SegmentationTarget
from tests.support.fake_llm import FakeLLMServer

REPLIES = [  # fixtures, not model output
    {"structure": "scar", "expected_properties": ["one region"], "failure_signs": {}},
    {"observations": [{"descriptor": "solidity", "value": 0.9, "assessment": "normal"}], "summary": "s"},
    {"covers": "scar", "plausible_anatomy": True, "suspected_failure_modes": [], "reasoning": "r"},
    {"verdict": "acceptable", "confidence": 0.8, "failure_modes": [], "rationale": "r"},
]


def test_every_descriptor_has_a_unit_and_formula() -> None:
    assert set(GLOSSARY) == set(DESCRIPTOR_NAMES)
    for name, (unit, formula) in GLOSSARY.items():
        assert unit.strip(), name
        assert len(formula) > 10, name


def test_the_committed_reference_covers_every_descriptor_and_rule() -> None:
    target = SegmentationTarget.load("scar")
    assert reference_path(target.path).is_file()
    reference = load_reference(target.path)
    assert set(reference["ranges"]) == set(DESCRIPTOR_NAMES)
    assert set(reference["rules"]) == {r.id for r in target.rules}
    for rule in target.rules:  # the stored statistics belong to the committed thresholds
        stats = reference["rules"][rule.id]
        assert stats["threshold"] == pytest.approx(rule.threshold)
        assert stats["fires"] > 0, rule.id  # every kept rule fires, mostly rightly
        assert 0.5 < stats["precision"] <= 1.0, rule.id
        alone = [r for r in target.rules if r.failure_mode == rule.failure_mode] == [rule]
        assert stats["accuracy_gain"] > 0 or alone, rule.id  # rules that never help were removed, unless one names a mode
    for name, r in reference["ranges"].items():
        if r["p05"] is not None:
            assert r["p05"] <= r["p50"] <= r["p95"], name


def test_acceptable_ranges_are_percentiles_and_skip_undefined_values() -> None:
    rows = [dict.fromkeys(DESCRIPTOR_NAMES, float(k)) for k in range(101)]
    rows[0]["solidity"] = float("nan")
    ranges = acceptable_ranges(rows)
    assert ranges["circularity"] == {"p05": 5.0, "p50": 50.0, "p95": 95.0}
    assert ranges["solidity"]["p50"] == 50.5  # median of 1..100: the NaN is left out, not counted as 0


def test_stage_two_prompt_defines_every_descriptor_with_its_acceptable_range() -> None:
    yy, xx = np.mgrid[:96, :96]
    mask = ((yy - 48) / 12) ** 2 + ((xx - 48) / 30) ** 2 <= 1
    image = np.full((96, 96, 3), (205, 165, 145), np.uint8)
    image[mask] = (190, 105, 105)
    target = SegmentationTarget.load("scar")
    reference = load_reference(target.path)
    with FakeLLMServer([json.dumps(r) for r in REPLIES]) as srv:
        client = LLMClient(LLMConfig.from_env(base_url=srv.url, model="fake", timeout_s=5.0, max_retries=0))
        out = judge_with_llm(image, mask, client=client, target=target, px_per_mm=4.0)
        stage2 = srv.requests[1]["messages"][-1]["content"]
        stage4 = srv.requests[3]["messages"][-1]["content"]
    assert out["verdict"] == "acceptable"
    for name in DESCRIPTOR_NAMES:
        unit, formula = GLOSSARY[name]
        r = reference["ranges"][name]
        line = re.search(rf"^- {name} = (\S+) \[(.+?)\] - (.+); acceptable (.+)$", stage2, re.MULTILINE)
        assert line, name
        assert line.group(2) == unit
        assert line.group(3) == formula
        assert line.group(4).startswith(f"{r['p05']:g} .. {r['p95']:g}")
        assert re.search(rf"^- {name} = \S+ \[", stage4, re.MULTILINE), name  # the table again at stage 4
    width = out["descriptors"]["lesion_width_px"]
    assert f"{round(width, 1)} px wide (lesion_width_px)" in stage2
    assert "96 x 96 px at 4.0 px per mm" in stage2
    for rule in target.rules:
        stats = reference["rules"][rule.id]
        assert f"{rule.id}: {rule.descriptor} = " in stage2
        assert f"FITTED, precision {stats['precision']} over {stats['fires']} firings" in stage2
    assert "2 px" in GLOSSARY["boundary_f1"][1]  # the boundary F1 tolerance is stated
    assert "pooled SD" in GLOSSARY["ring_fisher_ratio"][1]  # and the Fisher ratio's scale
