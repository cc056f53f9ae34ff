"""The quality goals of issue 6, checked on a ``metrics.json`` document.

At ``n_train = 50``, on balanced accuracy (BA)::

    BA(library+xgboost) >= 0.95 * BA(oracle)
    BA(library+xgboost) >= BA(radiomics+mrmr+xgboost) + 0.05
    BA(library+xgboost) >= BA(cnn) + 0.10

plus the sanity check that ``nuisance-only`` is at chance (its 95% interval contains 0.5 or its
mean is below 0.6). A goal whose method was skipped is reported as ``None`` (not evaluated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GoalCheck:
    """One goal: ``ours`` compared with ``target`` (already scaled/shifted)."""

    goal: str
    ours: float | None
    target: float | None
    passed: bool | None
    upper_bound: bool = False  # the goal is ``ours < target`` (a ceiling), not ``ours >= target``

    @property
    def margin(self) -> float | None:
        """How far inside the goal ``ours`` is (negative = missed by that much): ``ours - target``,
        or ``target - ours`` for a ceiling."""
        if self.ours is None or self.target is None:
            return None
        return self.target - self.ours if self.upper_bound else self.ours - self.target


def lookup(metrics: dict[str, Any], method: str, n_train: int, metric: str = "balanced_accuracy") -> dict | None:
    """The ``results`` row of one point, or None."""
    for row in metrics.get("results", []):
        if row["method"] == method and row["n_train"] == n_train and row["metric"] == metric:
            return row
    return None


def check_goals(metrics: dict[str, Any], n_train: int = 50) -> list[GoalCheck]:
    """Evaluate every goal at ``n_train`` (see module docstring)."""

    def mean(method: str) -> float | None:
        row = lookup(metrics, method, n_train)
        return None if row is None or row["mean"] is None else float(row["mean"])

    ours = mean("library+xgboost")
    checks = []
    for goal, other, scale, shift in (
        ("≥ 0.95 × oracle", "oracle", 0.95, 0.0),
        ("≥ radiomics+mrmr+xgboost + 0.05", "radiomics+mrmr+xgboost", 1.0, 0.05),
        ("≥ cnn + 0.10", "cnn", 1.0, 0.10),
    ):
        ref = mean(other)
        target = None if ref is None else scale * ref + shift
        passed = None if ours is None or target is None else ours >= target
        checks.append(GoalCheck(goal=goal, ours=ours, target=target, passed=passed))
    row = lookup(metrics, "nuisance-only", n_train)
    if row is not None and row["mean"] is not None:
        chance = (row["ci_low"] is not None and row["ci_low"] <= 0.5 <= row["ci_high"]) or row["mean"] < 0.6
        checks.append(GoalCheck(goal="nuisance-only at chance (mean < 0.6 or CI ∋ 0.5)", ours=row["mean"],
                                target=0.6, passed=bool(chance), upper_bound=True))
    return checks
