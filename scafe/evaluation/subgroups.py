"""Performance by subgroup: skin tone and any grouping column the user declares.

Groupings of the test cases, from their manifest columns:

* ``nuisance_ita`` (phantoms: the skin's individual typology angle, degrees) -> the ITA skin-tone
  bands of Chardon et al. 1991 / Del Bino et al. 2006: very light > 55°, light 41–55°,
  intermediate 28–41°, tan 10–28°, brown −30–10°, dark ≤ −30°;
* ``skin_tone`` or ``fitzpatrick`` (user data, any labels such as I–VI), as written;
* ``family`` (phantom sets: which renderer made each phantom);
* any declared column: ``evaluate(..., subgroups=[...])`` / ``scafe evaluate --subgroup COL``, and
  every manifest column named ``group_*`` (e.g. ``group_site``, ``group_camera``).

For each group: cases, keloids, and at ``p >= 0.5`` sensitivity, specificity, balanced accuracy,
plus AUC, each averaged over the repeats (:func:`scafe.evaluation.metrics.metrics_matrix`). Groups
with fewer than :data:`MIN_CASES` cases or a single class are flagged: their figures are noise.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from scafe.evaluation.metrics import metrics_matrix

#: (lower bound exclusive, name) from the lightest band down; the last band takes everything below.
ITA_BANDS: tuple[tuple[float, str], ...] = (
    (55.0, "very light (ITA > 55°)"), (41.0, "light (41–55°)"), (28.0, "intermediate (28–41°)"),
    (10.0, "tan (10–28°)"), (-30.0, "brown (−30–10°)"), (-math.inf, "dark (≤ −30°)"),
)
SKIN_COLUMNS = ("skin_tone", "fitzpatrick")
MIN_CASES = 10
MISSING = "not recorded"


def ita_band(value: Any) -> str:
    """The ITA band name of one angle in degrees (``not recorded`` for a missing value)."""
    try:
        ita = float(value)
    except (TypeError, ValueError):
        return MISSING
    if math.isnan(ita):
        return MISSING
    for low, name in ITA_BANDS:
        if ita > low:
            return name
    return ITA_BANDS[-1][1]


def _label(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return MISSING
    return str(value).strip()


def groupings(cases: Sequence[Any], declared: Sequence[str] = ()) -> dict[str, list[str]]:
    """``{grouping title: one group label per case}`` for every grouping these cases support.

    ``cases`` are :class:`scafe.data.dataset.Case` objects (columns other than the required ones
    live in ``case.extra``). A declared column no case has raises ``KeyError`` naming it.
    """
    def column(name: str) -> list[Any]:
        return [c.patient_id if name == "patient_id" else c.split if name == "split" else c.extra.get(name)
                for c in cases]

    present = set().union(*(c.extra.keys() for c in cases)) if cases else set()
    out: dict[str, list[str]] = {}
    if "nuisance_ita" in present:
        out["skin tone (ITA band, nuisance_ita)"] = [ita_band(v) for v in column("nuisance_ita")]
    for name in SKIN_COLUMNS:
        if name in present:
            out[f"skin tone ({name})"] = [_label(v) for v in column(name)]
    if "family" in present:
        out["phantom family"] = [_label(v) for v in column("family")]
    wanted = [*declared, *sorted(c for c in present if c.startswith("group_"))]
    for name in dict.fromkeys(wanted):
        if name not in present and name not in ("patient_id", "split"):
            raise KeyError(name)
        out.setdefault(name, [_label(v) for v in column(name)])
    return out


def subgroup_metrics(y: np.ndarray, probas: Sequence[np.ndarray], labels: Sequence[str]) -> list[dict[str, Any]]:
    """One row per group (sorted by name, ``not recorded`` last) for one method's repeats."""
    y = np.asarray(y).astype(int)
    groups = np.asarray(list(labels), dtype=object)
    if groups.shape[0] != y.shape[0]:
        raise ValueError(f"{groups.shape[0]} group labels for {y.shape[0]} cases")
    rows = np.stack([np.asarray(p, dtype=float) for p in probas])
    out = []
    names = sorted(set(groups.tolist()), key=lambda g: (g == MISSING, _band_order(g), g))
    for group in names:
        sel = groups == group
        yy = y[sel]
        with warnings.catch_warnings():  # a single-class group: NaN is the honest answer
            warnings.simplefilter("ignore", RuntimeWarning)
            m = metrics_matrix(yy, rows[:, sel])
            means = {k: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for k, v in m.items()}
        n, pos = int(sel.sum()), int(yy.sum())
        out.append({"group": group, "n": n, "n_keloid": pos,
                    **{k: means[k] for k in ("sensitivity", "specificity", "balanced_accuracy", "auc")},
                    "too_few": bool(n < MIN_CASES or pos == 0 or pos == n)})
    return out


def _band_order(group: str) -> int:
    names = [name for _, name in ITA_BANDS]
    return names.index(group) if group in names else len(names)
