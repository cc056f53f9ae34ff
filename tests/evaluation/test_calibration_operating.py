"""Calibration and operating points against values computed by hand on tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scafe.evaluation.calibration import (
    brier_score,
    calibration_summary,
    expected_calibration_error,
    reliability_curve,
)
from scafe.evaluation.operating import (
    counts_at,
    operating_table,
    threshold_for_sensitivity,
    threshold_for_specificity,
    youden_threshold,
)

Y4 = np.array([0, 1, 1, 0])
P4 = np.array([0.1, 0.8, 0.6, 0.3])


def test_brier_by_hand() -> None:
    # (0.1^2 + 0.2^2 + 0.4^2 + 0.3^2) / 4 = (0.01 + 0.04 + 0.16 + 0.09) / 4
    assert brier_score(Y4, P4) == pytest.approx(0.075)
    assert brier_score([0, 1], [0.5, 0.5]) == pytest.approx(0.25)
    assert brier_score([0, 1], [0.0, 1.0]) == 0.0


def test_reliability_curve_and_ece_by_hand() -> None:
    curve = reliability_curve(Y4, P4, bins=2)
    assert [(b.low, b.high, b.count) for b in curve] == [(0.0, 0.5, 2), (0.5, 1.0, 2)]
    assert curve[0].mean_predicted == pytest.approx(0.2)
    assert curve[0].observed == 0.0
    assert curve[1].mean_predicted == pytest.approx(0.7)
    assert curve[1].observed == 1.0
    # (2 * |0 - 0.2| + 2 * |1 - 0.7|) / 4
    assert expected_calibration_error(Y4, P4, bins=2) == pytest.approx(0.25)


def test_reliability_edges_nan_and_bad_input() -> None:
    curve = reliability_curve([1, 0, 1], [1.0, 0.0, np.nan], bins=10)
    assert [(b.low, b.count) for b in curve] == [(0.0, 1), (0.9, 1)]  # p = 1 falls in the last bin
    summary = calibration_summary([1, 0, 1], [1.0, 0.0, np.nan])
    assert summary["n"] == 2
    assert summary["n_unscored"] == 1
    assert summary["brier"] == 0.0
    with pytest.raises(ValueError, match="0/1"):
        brier_score([2, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        brier_score([1, 0], [1.5, 0.2])
    assert math.isnan(brier_score([1], [np.nan]))


Y6 = np.array([0, 0, 1, 1, 0, 1])
P6 = np.array([0.1, 0.4, 0.35, 0.8, 0.6, 0.9])
# thresholds 0.1 0.35 0.4 0.6 0.8 0.9 -> sensitivity 1 1 2/3 2/3 2/3 1/3, specificity 0 1/3 1/3 2/3 1 1


def test_thresholds_by_hand() -> None:
    assert youden_threshold(Y6, P6) == pytest.approx(0.8)  # J = 2/3
    assert threshold_for_sensitivity(Y6, P6, 0.9) == pytest.approx(0.35)
    assert threshold_for_specificity(Y6, P6, 0.9) == pytest.approx(0.8)
    assert counts_at(Y6, P6, 0.5) == {"tp": 2, "fp": 1, "tn": 2, "fn": 1}
    assert math.isnan(threshold_for_specificity([0, 1], [0.9, 0.9], 0.9))  # no threshold separates a tie


def test_operating_table_by_hand() -> None:
    rows = {r["rule"].split(" ")[0]: r for r in operating_table(Y6, P6)}
    assert set(rows) == {"p", "Youden", "sensitivity", "specificity"}
    default = rows["p"]
    assert default["threshold"] == 0.5
    assert (default["sensitivity"], default["specificity"], default["ppv"], default["npv"]) == pytest.approx(
        (2 / 3, 2 / 3, 2 / 3, 2 / 3))
    sens = rows["sensitivity"]  # t = 0.35: TP 3, FP 2 (0.4, 0.6), TN 1, FN 0
    assert (sens["tp"], sens["fp"], sens["tn"], sens["fn"]) == (3, 2, 1, 0)
    assert sens["ppv"] == pytest.approx(0.6)
    assert sens["npv"] == 1.0
    assert rows["Youden"]["sensitivity"] == pytest.approx(2 / 3)
    assert rows["Youden"]["specificity"] == 1.0


def test_youden_agrees_with_sklearn_roc() -> None:
    from sklearn.metrics import roc_curve

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    p = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    fpr, tpr, thr = roc_curve(y, p)
    best = np.max(tpr - fpr)
    t = youden_threshold(y, p)
    c = counts_at(y, p, t)
    assert c["tp"] / (c["tp"] + c["fn"]) - c["fp"] / (c["fp"] + c["tn"]) == pytest.approx(best)
