"""Usefulness ranks what helps the classifier above noise and above a copy of an active feature.

Known answers from the phantoms' ground truth: the *active library* is the true lesion height
(overlapping class ranges: AUC about 0.6 alone on the family-A hard profile); the *useful*
candidate is the true rim erythema (independent of height); *noise* is a seeded normal;
the *near-duplicate* is height times (1 + 2% noise). Nested repeated CV on the hard profile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agents.engineer.usefulness import (
    UsefulnessSettings,
    nested_cv_delta,
    rank_candidates,
    score_columns,
    training_set,
    usefulness_score,
)

SETTINGS = UsefulnessSettings(n=100, size=32, repeats=2, folds=2, inner_folds=2)


@pytest.fixture(scope="module")
def scored() -> dict[str, dict]:
    data = training_set(SETTINGS)
    latents = data.latents
    rng = np.random.default_rng(0)
    # the active feature: one clearly informative but incomplete variable (issue 15: no single
    # variable separates the classes; solidity is among the strongest)
    height = latents["latent_solidity"]
    active = pd.DataFrame({"shape.solidity": height})
    candidates = {
        "useful": pd.DataFrame({"pigment.melanin_scale": latents["latent_melanin_scale"]}),
        "noise": pd.DataFrame({"noise.value": rng.normal(size=len(height))}, index=height.index),
        "near_duplicate": pd.DataFrame({"copy.solidity": height * (1 + 0.02 * rng.normal(size=len(height)))}),
    }
    return {name: score_columns(active, frame, data.y, frame.columns[0], SETTINGS, base_key="solidity-only")
            for name, frame in candidates.items()}


def test_the_training_task_is_the_hard_profile_with_headroom(scored) -> None:
    assert SETTINGS.profile == "hard"
    assert SETTINGS.family == "a"
    without = scored["useful"]["auc_without"]
    assert 0.5 < without < 0.95, f"the active feature alone must leave headroom; AUC {without:.3f}"


def test_known_useful_feature_ranks_above_noise_and_near_duplicate(scored) -> None:
    assert rank_candidates(scored)[0] == "useful", {k: usefulness_score(v) for k, v in scored.items()}
    useful = usefulness_score(scored["useful"])
    for other in ("noise", "near_duplicate"):
        assert useful > usefulness_score(scored[other]) + 0.1, (other, scored[other])
    assert scored["useful"]["delta_auc"] > 0.05
    assert scored["useful"]["delta_log_loss"] < -0.1


def test_redundancy_flags_the_near_duplicate(scored) -> None:
    assert scored["near_duplicate"]["redundancy_max_abs_rho"] > 0.95
    assert scored["near_duplicate"]["redundant_with"] == "shape.solidity"
    assert scored["useful"]["redundancy_max_abs_rho"] < 0.9
    assert scored["noise"]["redundancy_max_abs_rho"] < 0.3


def test_report_has_both_deltas_with_intervals(scored) -> None:
    for result in scored.values():
        for key in ("delta_auc", "delta_log_loss"):
            low, high = result[f"{key}_ci"]
            assert low <= result[key] <= high
        assert result["splits"] == SETTINGS.repeats * SETTINGS.folds


def test_no_active_feature_compares_with_the_training_prevalence() -> None:
    y = np.tile([0, 1], 20)
    informative = (y + np.random.default_rng(1).normal(0, 0.3, len(y)))[:, None]
    result = nested_cv_delta(None, informative, y, UsefulnessSettings(repeats=2, folds=2, inner_folds=2))
    assert result["auc_without"] == 0.5
    assert result["log_loss_without"] == pytest.approx(np.log(2), abs=0.01)
    assert result["delta_log_loss"] < -0.2


def test_training_phantoms_are_cached_per_renderer_code_and_family() -> None:
    from agents.engineer.usefulness import _phantom_tag

    tag = _phantom_tag(SETTINGS)
    assert "hard" in tag
    assert tag != _phantom_tag(UsefulnessSettings(n=100, size=32, profile="default"))
