"""Nearest cases by clinically meaningful features (seed 004: retrieval on quantitative attributes).

Features are standardised robustly, ``z_j = (x_j - median_j) / (1.4826 · MAD_j)`` (the MAD scaled
to match the standard deviation of a normal), falling back to the standard deviation when the MAD
is zero, so that no single feature's unit (pixels², a* units, a ratio) dominates. The distance
between cases ``a`` and ``b`` over the features ``F`` both have finite values is the
root-mean-square difference ``d = sqrt(mean_{j in F} (z_aj - z_bj)^2)`` (a case with a failed
extractor is still comparable on the rest). With ``item="scale/item"`` only the features whose
extractor serves that criterion item are used ("cases with similar rim erythema").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scafe.errors import UsageError


def item_columns(feature_meta: dict[str, dict[str, Any]], item: str) -> list[str]:
    """Columns whose criterion is ``scale/item`` (case-insensitive); ``UsageError`` listing choices if none."""
    want = item.strip().lower()
    cols = [c for c, m in feature_meta.items()
            if f"{m.get('scale', '')}/{m.get('item', '')}".lower() == want]
    if not cols:
        known = sorted({f"{m.get('scale')}/{m.get('item')}" for m in feature_meta.values() if m.get("item")})
        raise UsageError(f"No library feature serves the criterion item {item!r}; choose one of {known}.")
    return cols


def standardise(frame: pd.DataFrame) -> pd.DataFrame:
    """Robust z-scores per column (see module docstring); constant columns become 0."""
    x = frame.astype(float)
    med = x.median()
    scale = 1.4826 * (x - med).abs().median()
    scale = scale.where(scale > 0, x.std())
    scale = scale.where(scale > 0, 1.0)
    return (x - med) / scale


def nearest_cases(
    frame: pd.DataFrame,
    case_id: str,
    *,
    k: int = 5,
    item: str | None = None,
    feature_meta: dict[str, dict[str, Any]] | None = None,
    labels: pd.Series | None = None,
) -> pd.DataFrame:
    """The ``k`` cases nearest to ``case_id``.

    Returns a frame indexed by id with ``distance`` (RMS of robust z differences), ``shared``
    (how many features were compared), ``label`` when ``labels`` are given, and the raw values of
    the first ≤ 6 features used, so the user sees why they are near.
    """
    if k < 1:
        raise UsageError(f"k must be ≥ 1; got {k}.")
    if case_id not in frame.index:
        sample = ", ".join(map(str, frame.index[:5]))
        raise UsageError(f"Case {case_id!r} is not in the feature table (ids look like: {sample}, ...).")
    cols = list(frame.columns) if item is None else item_columns(feature_meta or {}, item)
    cols = [c for c in cols if c in frame.columns]
    z = standardise(frame[cols])
    query = z.loc[case_id].to_numpy(float)
    others = z.drop(index=case_id)
    diff = others.to_numpy(float) - query[None, :]
    finite = np.isfinite(diff)
    shared = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.sqrt(np.where(finite, diff**2, 0.0).sum(axis=1) / shared)
    out = pd.DataFrame({"distance": dist, "shared": shared}, index=others.index)
    out = out[out["shared"] > 0].sort_values("distance", kind="stable").head(k)
    if labels is not None:
        out.insert(0, "label", labels.reindex(out.index).to_numpy())
    return out.join(frame.loc[out.index, cols[:6]])
