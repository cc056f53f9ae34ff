"""The deterministic rule reasoner and its target file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from scafe.errors import CriteriaError, UsageError
from scafe.judge.descriptors import compute_descriptors
from scafe.judge.rules import (
    RuleReasoner,
    SegmentationTarget,
    evaluate_rule,
    fit_thresholds,
    judge_with_rules,
)

N = 160


@pytest.fixture
def scene() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[:N, :N]
    mask = ((yy - 80) / 12) ** 2 + ((xx - 80) / 45) ** 2 <= 1
    image = np.full((N, N, 3), (205, 165, 145), np.float64)
    image[mask] = (195, 140, 130)  # a scar-like step: Delta E ~ 12
    image = np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8)
    return image, mask


@pytest.fixture
def target() -> SegmentationTarget:
    return SegmentationTarget.load("scar")


def _write_target(root: Path, data: dict) -> None:
    folder = root / "prompts" / "criteria" / "segmentation"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "custom.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def test_scar_target_loads_with_rules_for_every_failure_mode(target: SegmentationTarget) -> None:
    assert target.target == "scar"
    modes = {r.failure_mode for r in target.rules}
    assert {"holes", "fragmentation", "leakage", "jagged_boundary", "wrong_structure", "boundary_misplaced"} <= modes
    assert len(target.expectations) >= 5


def test_unknown_target_lists_the_known_ones() -> None:
    with pytest.raises(UsageError, match=r"No segmentation target 'liver'.*scar"):
        SegmentationTarget.load("liver")


def test_invalid_target_file_is_a_criteria_error(tmp_path: Path, target: SegmentationTarget) -> None:
    data = target.model_dump(exclude={"path"})
    data["rules"][0]["descriptor"] = "sharpness_of_vibes"
    _write_target(tmp_path, data)
    with pytest.raises(CriteriaError, match="sharpness_of_vibes"):
        SegmentationTarget.load("custom", root=tmp_path)
    data = target.model_dump(exclude={"path"})
    data["rules"][0]["failure_mode"] = "melting"
    _write_target(tmp_path, data)
    with pytest.raises(CriteriaError, match="melting"):
        SegmentationTarget.load("custom", root=tmp_path)


def test_correct_mask_is_acceptable_and_broken_ones_are_not(scene, target: SegmentationTarget) -> None:
    image, mask = scene
    good = judge_with_rules(image, mask)
    assert good["verdict"] == "acceptable", good["stages"]["visual_feature_analysis"]
    assert good["reasoner"] == "rules"
    assert set(good) == {"verdict", "confidence", "failure_modes", "stages", "reasoner", "descriptors", "rule_findings", "hard_failures"}
    assert list(good["stages"]) == ["knowledge_recall", "visual_feature_analysis", "anatomical_inference", "clinical_synthesis"]
    json.dumps(good, allow_nan=False)  # NaN-free, serialisable

    yy, xx = np.mgrid[:N, :N]
    ring = mask & ~(((yy - 80) / 8) ** 2 + ((xx - 80) / 38) ** 2 <= 1)
    bad = judge_with_rules(image, ring)
    assert bad["verdict"] == "unacceptable"
    assert "holes" in bad["failure_modes"]

    border = mask.copy()
    border[50:110, 80:] = True  # skin up to the right edge: Dice ~0.5
    leak = judge_with_rules(image, border)
    assert leak["verdict"] == "unacceptable"
    assert {"leakage", "boundary_misplaced"} & set(leak["failure_modes"])


def test_nan_descriptor_fires_the_rule(target: SegmentationTarget) -> None:
    rule = next(r for r in target.rules if r.id == "disagrees_with_image")
    finding = evaluate_rule(rule, math.nan)
    assert finding["fired"] is True
    assert finding["value"] is None
    ok = evaluate_rule(rule, 0.95)
    assert ok["fired"] is False
    assert ok["margin"] < 0


def test_empty_mask_is_unacceptable(scene) -> None:
    image, mask = scene
    out = judge_with_rules(image, np.zeros_like(mask))
    assert out["verdict"] == "unacceptable"


def test_confidence_grows_with_the_margin(target: SegmentationTarget) -> None:
    reasoner = RuleReasoner(target)
    base = {name: 0.0 for name in ("n_holes", "euler_number")}
    good = {**base, "n_components": 1, "largest_component_fraction": 1.0, "hole_fraction": 0.0, "border_touch": 0.0,
            "boundary_roughness": 0.01, "convexity": 0.95, "self_consistency_dice": 0.95, "band_delta_e": 8.0,
            "ring_fisher_ratio": 3.0, "ring_delta_l": -5.0, "ring_delta_e": 8.0, "circularity": 0.3,
            "area_fraction": 0.05, "edge_offset_rel": 0.05}
    near = {**good, "self_consistency_dice": 0.50}
    far = {**good, "self_consistency_dice": 0.20}
    assert reasoner.judge(good)["verdict"] == "acceptable"
    assert reasoner.judge(near)["verdict"] == "unacceptable"
    assert reasoner.judge(far)["confidence"] > reasoner.judge(near)["confidence"]


def test_fit_thresholds_finds_the_separating_value(target: SegmentationTarget) -> None:
    rng = np.random.default_rng(0)
    good = [{"self_consistency_dice": float(v)} for v in rng.uniform(0.8, 0.95, 50)]
    bad = [{"self_consistency_dice": float(v)} for v in rng.uniform(0.3, 0.6, 50)]
    single = target.model_copy(update={"rules": [r for r in target.rules if r.id == "disagrees_with_image"]})
    fitted = fit_thresholds(single, good + bad, [False] * 50 + [True] * 50)
    assert 0.6 <= fitted["disagrees_with_image"] <= 0.8


def _rules_fired_on_truth(indices: list[int]) -> list[tuple[int, str, float]]:
    from scafe.data.phantoms import render_phantom
    from scafe.judge.rules import SegmentationTarget, evaluate_rule

    target = SegmentationTarget.load("scar")
    fired = []
    for index in indices:  # the default judge benchmark's phantoms: seed 0, 256 px
        phantom = render_phantom(index, seed=0, size=256)
        d = compute_descriptors(phantom.image, phantom.mask)
        fired += [(index, r.id, d[r.descriptor]) for r in target.rules if evaluate_rule(r, d[r.descriptor])["fired"]]
    return fired


def test_no_rule_fires_on_ground_truth_masks_of_training_phantoms() -> None:
    """A perfect mask trips no rule on the phantoms the thresholds were fitted on (train phantoms 0-3
    of the default benchmark; ``benchmarks/judge.py --refit`` keeps every rule silent on the train
    split's ground truths). This fails when the phantom world changes without a re-fit."""
    assert _rules_fired_on_truth([0, 1, 2, 3]) == []


@pytest.mark.slow
def test_rules_rarely_fire_on_ground_truth_masks_of_the_default_benchmark() -> None:
    """All 40 train phantoms stay silent (the fit's constraint); on the 40 test phantoms, which the
    fit never saw, a rule may fire on a perfect mask, but on at most 2 of them (5 %): the rate
    ``benchmarks/judge.py`` reports as ``fires_on_truths``."""
    train = _rules_fired_on_truth(list(range(40)))
    assert train == []
    test = _rules_fired_on_truth(list(range(40, 80)))
    assert len({index for index, _, _ in test}) <= 2, test
