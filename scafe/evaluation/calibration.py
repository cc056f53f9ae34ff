"""Calibration of predicted keloid probabilities: Brier score and the reliability curve.

With labels ``y`` (1 = keloid) and predicted probabilities ``p``::

    brier = mean((p - y)^2)                     (0 = perfect; 0.25 = always saying 0.5)

The reliability curve sorts the predictions into ``bins`` equal-width probability bins
(``[0, 0.1), [0.1, 0.2), ..., [0.9, 1.0]``); for each non-empty bin it gives the mean predicted
probability, the observed share of keloids and the number of cases. A calibrated model lies on
the diagonal: of the cases given p = 0.8, about 80% are keloids. The expected calibration error
is the case-weighted mean distance to the diagonal, ``sum_b n_b |observed_b - predicted_b| / n``.

NaN probabilities (a method that could not score a case) are left out of all three and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReliabilityBin:
    """One probability bin of the reliability curve."""

    low: float
    high: float
    mean_predicted: float
    observed: float  # share of keloids among the bin's cases
    count: int


def _clean(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels ({y.size}) and probabilities ({p.size}) must have the same length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"labels must be 0/1 (1 = keloid); got values {np.unique(y)[:5]}")
    ok = np.isfinite(p)
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    return y[ok], p[ok]


def brier_score(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared difference between probability and outcome (NaN when no case is scored)."""
    y, p = _clean(y, p)
    return float(np.mean((p - y) ** 2)) if y.size else float("nan")


def reliability_curve(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[ReliabilityBin]:
    """Non-empty equal-width bins (the last bin includes p = 1)."""
    if bins < 1:
        raise ValueError(f"bins must be ≥ 1; got {bins}")
    y, p = _clean(y, p)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        sel = which == b
        if sel.any():
            out.append(ReliabilityBin(low=float(edges[b]), high=float(edges[b + 1]),
                                      mean_predicted=float(p[sel].mean()), observed=float(y[sel].mean()),
                                      count=int(sel.sum())))
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Case-weighted mean |observed - predicted| over the reliability bins."""
    curve = reliability_curve(y, p, bins)
    n = sum(b.count for b in curve)
    if not n:
        return float("nan")
    return float(sum(b.count * abs(b.observed - b.mean_predicted) for b in curve) / n)


def calibration_summary(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """Brier score, expected calibration error and the curve, JSON-ready."""
    n_missing = int((~np.isfinite(np.asarray(p, dtype=float))).sum())
    curve = reliability_curve(y, p, bins)
    return {
        "brier": brier_score(y, p),
        "ece": expected_calibration_error(y, p, bins),
        "bins": bins,
        "n": int(sum(b.count for b in curve)),
        "n_unscored": n_missing,
        "curve": [{"low": b.low, "high": b.high, "mean_predicted": b.mean_predicted, "observed": b.observed,
                   "count": b.count} for b in curve],
    }
