"""The statistics of the criterion tests: pure functions of the outputs and the phantom frame.

Kept apart from running extractors so that a set of outputs can be judged against several test
specifications (the validator benchmark scores one run of each corpus extractor against every
item that shares its ground truth).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scafe.criterion_words import quantity_trend


@dataclass
class Check:
    """One check of a criterion test. ``text`` is in clinical words (it reaches the LLM)."""

    name: str  # tracking | nuisance | invariance | runs | output
    passed: bool
    text: str
    found: float | None = None
    required: str = ""
    column: str | None = None  # the phantom column behind it (reports only, never prompts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.name, "passed": self.passed, "text": self.text, "found": self.found,
                "required": self.required, "column": self.column}


@dataclass
class Tracking:
    """How the output tracks the ground truth, and the nuisance checks given that truth."""

    rho: float
    form: str  # "signed" or "magnitude" (two-sided items)
    nuisance_rho: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rho; 0 when either side is constant."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(stats.spearmanr(a, b).statistic)


def partial_spearman(f: np.ndarray, n: np.ndarray, g: np.ndarray) -> float:
    r"""Spearman correlation of ``f`` and ``n`` controlling for ``g`` (partial correlation of ranks).

    .. math:: \rho_{fn\cdot g} = \frac{r_{fn} - r_{fg} r_{ng}}{\sqrt{(1 - r_{fg}^2)(1 - r_{ng}^2)}}

    with ``r`` the Spearman correlations. Why not plain ``spearman(f, n)``: in a finite phantom
    set a nuisance (say ITA) correlates with the latent (say melanin) by chance, e.g. ``r = 0.15``
    at n = 96; a perfect extractor of the latent would then inherit that correlation and be
    rejected for something the data, not the code, did. The partial correlation asks whether ``f``
    carries nuisance information *beyond* what the ground truth explains. Returns 0 when ``f`` or
    ``n`` is constant, NaN only if ``g`` explains ``f`` or ``n`` perfectly.
    """
    r_fn = spearman(f, n)
    r_fg = spearman(f, g)
    r_ng = spearman(n, g)
    denom = np.sqrt(max(1.0 - r_fg**2, 0.0) * max(1.0 - r_ng**2, 0.0))
    if denom < 1e-12:
        return float("nan")
    return float((r_fn - r_fg * r_ng) / denom)


def _forms(gt: Any, frame: pd.DataFrame) -> list[tuple[str, np.ndarray, float]]:
    truth = frame[gt.column].to_numpy(float)
    sign = 1.0 if gt.direction == "+" else -1.0
    forms = [("signed", truth, sign)]
    if gt.two_sided:
        forms.append(("magnitude", np.abs(truth), 1.0))
    return forms


def _tracking_rho(values: np.ndarray, truth: np.ndarray, gt: Any, frame: pd.DataFrame) -> float:
    if gt.within is not None and gt.within in frame:
        value = partial_spearman(values, truth, frame[gt.within].to_numpy(float))
        return value if np.isfinite(value) else 0.0
    return spearman(values, truth)


def evaluate_tracking(values: np.ndarray, frame: pd.DataFrame, gt: Any) -> Tracking:
    """Tracking and nuisance checks of ``values`` (one per phantom, frame order) against ``gt``.

    Two-sided items: the formulation (signed in ``direction``, or the magnitude of the deviation)
    with the better tracking is judged; both are declared acceptable in the criteria file.
    """
    scored = []
    for form, truth, sign in _forms(gt, frame):
        scored.append((sign * _tracking_rho(values, truth, gt, frame), form, truth, sign))
    best = max(scored, key=lambda s: s[0])
    signed_rho, form, truth, sign = best
    rho = sign * signed_rho
    result = Tracking(rho=rho, form=form)
    at_fixed = ""
    if gt.within is not None:
        from scafe.criteria import NUISANCE_TERMS

        at_fixed = f" at the same {NUISANCE_TERMS[gt.within].removeprefix('the ')}"
    what = f"the size of the deviation of {gt.quantity}" if form == "magnitude" else gt.quantity
    required = f">= {gt.min_rho:+.2f}" if sign > 0 else f"<= {-gt.min_rho:+.2f}"
    ok = signed_rho >= gt.min_rho
    wanted = "rise as it increases" if form == "magnitude" else quantity_trend(gt)
    text = (f"tracking {what}{at_fixed}: rank correlation {rho:+.2f}, required {required} "
            f"(the output must {wanted})")
    result.checks.append(Check("tracking", ok, text, found=rho, required=required, column=gt.column))
    for spec in gt.nuisances:
        if spec.column not in frame:
            result.checks.append(Check("nuisance", True, f"{spec.words}: not varied in this phantom family, "
                                       "not tested", column=spec.column))
            continue
        value = partial_spearman(values, frame[spec.column].to_numpy(float), truth)
        value = value if np.isfinite(value) else 0.0
        result.nuisance_rho[spec.column] = value
        lo, hi = spec.bounds
        passed = lo <= value <= hi
        text = (f"independence from {spec.words}: partial rank correlation {value:+.2f} once "
                f"{gt.quantity} is accounted for, allowed {spec.allowed}")
        result.checks.append(Check("nuisance", passed, text, found=value, required=spec.allowed,
                                   column=spec.column))
    return result


def relative_changes(base: np.ndarray, transformed: list[tuple[int, str, float]], values: np.ndarray,
                     floor_fraction: float) -> tuple[float, tuple[int, str, float] | None]:
    """Largest ``|f(Tx) - f(x)| / max(|f(x)|, floor)`` over ``transformed`` (index, name, value).

    ``floor = floor_fraction`` of the output's 5-95 % range over the whole set, so an output that
    sits near zero is not judged on rounding noise.
    """
    lo, hi = np.percentile(values, [5, 95])
    floor = max(floor_fraction * float(hi - lo), 1e-9)
    worst, where = 0.0, None
    for index, name, new in transformed:
        old = float(base[index])
        change = abs(new - old) / max(abs(old), floor) if np.isfinite(new) else float("inf")
        if change > worst:
            worst, where = change, (index, name, new)
    return worst, where
