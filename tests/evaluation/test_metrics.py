"""Metrics agree with scikit-learn; bootstrap intervals behave."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from scafe.evaluation.metrics import METRICS, binary_metrics, bootstrap_summary, metrics_matrix


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 157)
    p = np.clip(rng.normal(0.35 + 0.3 * y, 0.25), 0, 1).round(2)  # rounding creates ties for the AUC
    got = binary_metrics(y, p)
    pred = (p >= 0.5).astype(int)
    assert got["auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert got["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert got["sensitivity"] == pytest.approx(skm.recall_score(y, pred))
    assert got["specificity"] == pytest.approx(skm.recall_score(1 - y, 1 - pred))


def test_matrix_rows_are_independent() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.1, 0.2, 0.8, 0.9], [0.9, 0.8, 0.2, 0.1]])
    out = metrics_matrix(y, p)
    assert out["auc"].tolist() == [1.0, 0.0]
    assert out["balanced_accuracy"].tolist() == [1.0, 0.0]


def test_nan_probability_counts_as_wrong() -> None:
    y = np.array([0, 1, 1, 0])
    p = np.array([0.1, np.nan, 0.9, np.nan])
    assert binary_metrics(y, p)["accuracy"] == 0.5


def test_one_class_gives_nan_not_a_number() -> None:
    out = binary_metrics(np.ones(5, int), np.full(5, 0.7))
    assert np.isnan(out["auc"])
    assert np.isnan(out["specificity"])
    assert out["sensitivity"] == 1.0


def test_bad_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="0/1"):
        binary_metrics(np.array([0, 2]), np.array([0.1, 0.2]))


def test_bootstrap_interval_contains_mean_and_shrinks_with_n() -> None:
    rng = np.random.default_rng(0)

    def width(n: int) -> float:
        y = rng.integers(0, 2, n)
        probas = np.stack([np.clip(rng.normal(0.3 + 0.4 * y, 0.3), 0, 1) for _ in range(5)])
        s = bootstrap_summary(y, probas, n_boot=300)
        for m in METRICS:
            assert s[m].ci_low <= s[m].mean + 1e-9 <= s[m].ci_high + 2e-9
            assert s[m].repeats == 5
        return s["auc"].ci_high - s["auc"].ci_low

    assert width(1000) < width(60)


def test_bootstrap_is_reproducible() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 80)
    probas = rng.random((3, 80))
    assert bootstrap_summary(y, probas, seed=5) == bootstrap_summary(y, probas, seed=5)
