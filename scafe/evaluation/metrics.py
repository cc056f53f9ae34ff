"""Binary classification metrics and their bootstrap confidence intervals.

The positive class is ``keloid`` (label 1); ``hypertrophic`` is 0. With a predicted keloid
probability ``p`` and the decision ``p >= 0.5``::

    sensitivity = TP / (TP + FN)          (recall of keloid)
    specificity = TN / (TN + FP)          (recall of hypertrophic)
    accuracy    = (TP + TN) / n
    balanced_accuracy = (sensitivity + specificity) / 2
    f1          = 2 TP / (2 TP + FP + FN)
    auc         = P(p_keloid > p_hypertrophic) + 0.5 P(tie)   (Mann-Whitney U / (n_pos n_neg))

Seed 003 shows why accuracy alone misleads on imbalanced data, hence balanced accuracy,
sensitivity and specificity are always reported beside it.

Intervals: a two-level percentile bootstrap. One evaluation point (method, training size) has
``R`` repeated training subsets, each scored on the same fixed test set. A bootstrap replicate
resamples the test cases (shared by all repeats, so the pairing is kept) *and* the repeats, and
averages the metric over the resampled repeats. The 2.5 and 97.5 percentiles of the replicates are
the 95% interval; it therefore covers both test-set sampling noise and training-subset variation.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

METRICS: tuple[str, ...] = ("accuracy", "balanced_accuracy", "f1", "auc", "sensitivity", "specificity")
THRESHOLD = 0.5


def _check(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    if y.shape[-1] != p.shape[-1]:
        raise ValueError(f"labels ({y.shape}) and probabilities ({p.shape}) must have the same length")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0/1 (1 = keloid); got values {np.unique(y)[:5]}")
    return y.astype(int), p


def metrics_matrix(y: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric for each row of ``y``/``p`` (shape ``(B, n)`` or ``(n,)``), vectorised.

    Undefined values (e.g. sensitivity without any keloid, AUC with one class) are NaN.
    NaN probabilities count as a wrong, uninformative prediction (p = 0.5 is *not* assumed):
    they are replaced by the opposite of the label for the threshold metrics and by 0.5 for AUC.
    """
    y, p = _check(y, p)
    y2 = np.atleast_2d(y)
    p2 = np.atleast_2d(p)
    if y2.shape[0] == 1 and p2.shape[0] > 1:
        y2 = np.broadcast_to(y2, p2.shape)
    nan = np.isnan(p2)
    pred = np.where(nan, 1 - y2, p2 >= THRESHOLD).astype(int)
    tp = ((pred == 1) & (y2 == 1)).sum(axis=1).astype(float)
    tn = ((pred == 0) & (y2 == 0)).sum(axis=1).astype(float)
    fp = ((pred == 1) & (y2 == 0)).sum(axis=1).astype(float)
    fn = ((pred == 0) & (y2 == 1)).sum(axis=1).astype(float)
    n = tp + tn + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        sens = tp / (tp + fn)
        spec = tn / (tn + fp)
        f1 = 2 * tp / (2 * tp + fp + fn)
        acc = (tp + tn) / n
        # AUC from ranks: U = sum of positive ranks - n_pos (n_pos + 1) / 2, ties get mid-ranks.
        scores = np.where(nan, 0.5, p2)
        ranks = rankdata(scores, axis=1)
        n_pos = (y2 == 1).sum(axis=1).astype(float)
        n_neg = (y2 == 0).sum(axis=1).astype(float)
        u = (ranks * (y2 == 1)).sum(axis=1) - n_pos * (n_pos + 1) / 2
        auc = u / (n_pos * n_neg)
    out = {
        "accuracy": acc,
        "balanced_accuracy": (sens + spec) / 2,
        "f1": f1,
        "auc": auc,
        "sensitivity": sens,
        "specificity": spec,
    }
    if np.ndim(p) == 1:
        return {k: v[:1] for k, v in out.items()}
    return out


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one vector of keloid probabilities."""
    return {k: float(v[0]) for k, v in metrics_matrix(y, p).items()}


@dataclass(frozen=True)
class Summary:
    """Mean over repeats and its bootstrap 95% interval for one metric."""

    mean: float
    ci_low: float
    ci_high: float
    repeats: int


def bootstrap_summary(
    y: np.ndarray, probas: np.ndarray, *, n_boot: int = 200, seed: int = 0
) -> dict[str, Summary]:
    """Summarise ``R`` repeats scored on one fixed test set (see the module docstring).

    Parameters
    ----------
    y : (n,) int array, 1 = keloid.
    probas : (R, n) keloid probabilities, one row per repeated training subset.
    n_boot : number of bootstrap replicates (200 gives percentile bounds stable to ~0.01 here).
    seed : seed of the resampling, so reports are reproducible.
    """
    y = np.asarray(y).astype(int)
    probas = np.atleast_2d(np.asarray(probas, dtype=float))
    r, n = probas.shape
    rng = np.random.default_rng(seed)
    point = metrics_matrix(y, probas)  # (R,) per metric
    test_idx = rng.integers(0, n, size=(n_boot, n))
    rep_idx = rng.integers(0, r, size=(n_boot, r))
    per_rep = {m: np.empty((r, n_boot)) for m in METRICS}
    yb = y[test_idx]
    for k in range(r):
        vals = metrics_matrix(yb, probas[k][test_idx])
        for m in METRICS:
            per_rep[m][k] = vals[m]
    out: dict[str, Summary] = {}
    cols = np.arange(n_boot)[None, :]
    for m in METRICS:
        with warnings.catch_warnings():  # a replicate where every repeat is undefined stays NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            boot = np.nanmean(per_rep[m][rep_idx.T, cols], axis=0) if r else np.array([np.nan])
        finite = boot[np.isfinite(boot)]
        lo, hi = (np.percentile(finite, [2.5, 97.5]) if finite.size else (np.nan, np.nan))
        mean = float(np.nanmean(point[m])) if np.isfinite(point[m]).any() else float("nan")
        out[m] = Summary(mean=mean, ci_low=float(lo), ci_high=float(hi), repeats=r)
    return out
