"""Operating points: sensitivity and specificity at chosen decision thresholds.

A case is called keloid when ``p >= threshold``. The table gives, for each rule:

* ``p ≥ 0.5`` — the default threshold every other figure uses;
* ``Youden`` — the threshold that maximises ``J = sensitivity + specificity - 1``;
* ``sensitivity ≥ 0.90`` — the *highest* threshold whose sensitivity is at least 0.90 (fewest false
  alarms while still finding 90% of keloids);
* ``specificity ≥ 0.90`` — the *lowest* threshold whose specificity is at least 0.90 (most keloids
  found while wrongly calling at most 10% of hypertrophic scars keloid).

Candidate thresholds are the distinct predicted probabilities. Thresholds picked on the same
predictions they are scored on are optimistic: choose them on a validation set before use.
NaN probabilities are left out (and counted by the caller).
"""

from __future__ import annotations

import numpy as np

DEFAULT_TARGET = 0.90


def counts_at(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, int]:
    """TP, FP, TN, FN when ``p >= threshold`` means keloid."""
    y = np.asarray(y).astype(int)
    pred = np.asarray(p, dtype=float) >= threshold
    return {"tp": int(np.sum(pred & (y == 1))), "fp": int(np.sum(pred & (y == 0))),
            "tn": int(np.sum(~pred & (y == 0))), "fn": int(np.sum(~pred & (y == 1)))}


def _ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def point(y: np.ndarray, p: np.ndarray, threshold: float, rule: str) -> dict[str, float | int | str]:
    """Every count and rate at one threshold."""
    c = counts_at(y, p, threshold)
    return {"rule": rule, "threshold": float(threshold), **c,
            "sensitivity": _ratio(c["tp"], c["tp"] + c["fn"]), "specificity": _ratio(c["tn"], c["tn"] + c["fp"]),
            "ppv": _ratio(c["tp"], c["tp"] + c["fp"]), "npv": _ratio(c["tn"], c["tn"] + c["fn"])}


def _rates(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate thresholds (distinct p, ascending) with the sensitivity and specificity at each."""
    thresholds = np.unique(p)
    pos, neg = p[y == 1], p[y == 0]
    sens = np.array([(pos >= t).mean() if pos.size else np.nan for t in thresholds])
    spec = np.array([(neg < t).mean() if neg.size else np.nan for t in thresholds])
    return thresholds, sens, spec


def youden_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """Threshold maximising sensitivity + specificity - 1 (the lowest one on ties)."""
    y, p = _finite(y, p)
    t, sens, spec = _rates(y, p)
    return float(t[int(np.nanargmax(sens + spec))]) if t.size else float("nan")


def threshold_for_sensitivity(y: np.ndarray, p: np.ndarray, target: float = DEFAULT_TARGET) -> float:
    """Highest threshold with sensitivity ≥ ``target`` (NaN when none reaches it)."""
    y, p = _finite(y, p)
    t, sens, _ = _rates(y, p)
    ok = np.flatnonzero(sens >= target)
    return float(t[ok.max()]) if ok.size else float("nan")


def threshold_for_specificity(y: np.ndarray, p: np.ndarray, target: float = DEFAULT_TARGET) -> float:
    """Lowest threshold with specificity ≥ ``target`` (NaN when none reaches it)."""
    y, p = _finite(y, p)
    t, _, spec = _rates(y, p)
    ok = np.flatnonzero(spec >= target)
    return float(t[ok.min()]) if ok.size else float("nan")


def _finite(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).astype(int).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels ({y.size}) and probabilities ({p.size}) must have the same length")
    ok = np.isfinite(p)
    return y[ok], p[ok]


def operating_table(y: np.ndarray, p: np.ndarray, target: float = DEFAULT_TARGET) -> list[dict]:
    """The four rules of the module docstring (a rule whose threshold does not exist is left out)."""
    y, p = _finite(y, p)
    rules = [("p ≥ 0.5 (default)", 0.5), ("Youden (max sens + spec − 1)", youden_threshold(y, p)),
             (f"sensitivity ≥ {target:.2f}", threshold_for_sensitivity(y, p, target)),
             (f"specificity ≥ {target:.2f}", threshold_for_specificity(y, p, target))]
    return [point(y, p, t, rule) for rule, t in rules if np.isfinite(t)]
