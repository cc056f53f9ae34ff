"""Learning curves: repeated stratified training subsets, one fixed held-out test set.

For each training size ``n`` and repeat ``r`` a stratified subset of the training pool is drawn
(class proportions of the pool, at least 2 cases per class) with seed ``seed + 1000 n + r``; every
method trains on *the same* subset (paired comparison) and predicts the whole test set. A method
that does not learn from training data (``zero_shot``, e.g. an LLM asked directly) is evaluated
once and reported with ``n_train = 0``.

The outcome, :class:`EvaluationResult`, holds every probability vector (for ROC curves and
confusion matrices) and turns into ``metrics.json``::

    {"library_version": str, "dataset": {...},
     "results": [{"method", "n_train", "metric", "mean", "ci_low", "ci_high", "repeats"}],
     "skipped": [{"method", "reason"}]}
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scafe.errors import ModelError
from scafe.evaluation.methods import CaseSet, Group
from scafe.evaluation.metrics import METRICS, bootstrap_summary


def stratified_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of a stratified random subset of size ``n`` (≥ 2 per class), sorted.

    Raises ``ModelError`` when ``n`` exceeds the pool or a class has fewer than 2 cases.
    """
    y = np.asarray(y).astype(int)
    if n > len(y):
        raise ModelError(f"Training size {n} exceeds the training pool ({len(y)} cases); lower --sizes or add data.")
    counts = np.bincount(y, minlength=2)
    if counts.min() < 2:
        raise ModelError(f"The training pool needs ≥ 2 cases of each class; got {counts[1]} keloid, {counts[0]} hypertrophic.")
    rng = np.random.default_rng(seed)
    n_pos = int(round(n * counts[1] / len(y)))
    n_pos = min(max(n_pos, 2), counts[1], n - 2)
    n_neg = n - n_pos
    if n_neg > counts[0]:
        n_neg, n_pos = counts[0], n - counts[0]
    pos = rng.choice(np.flatnonzero(y == 1), size=n_pos, replace=False)
    neg = rng.choice(np.flatnonzero(y == 0), size=n_neg, replace=False)
    return np.sort(np.concatenate([pos, neg]))


@dataclass
class EvaluationResult:
    """Probabilities of every (method, n_train) point and what was skipped."""

    y_test: np.ndarray
    test_ids: list[str]
    sizes: list[int]
    repeats: int
    probas: dict[str, dict[int, list[np.ndarray]]] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # fitting + predicting time per group
    extras: dict[str, Any] = field(default_factory=dict)
    n_boot: int = 200

    def methods(self) -> list[str]:
        """Methods that produced results, in insertion order."""
        return list(self.probas)

    def summary(self, method: str, n: int) -> dict[str, Any]:
        """Bootstrap summaries of every metric for one point (see :mod:`scafe.evaluation.metrics`)."""
        cache = self.extras.setdefault("_summaries", {})
        if (method, n) not in cache:
            rows = self.probas[method][n]
            y = self.y_test[: len(rows[0])]  # zero-shot LLM methods may score a prefix of the test set
            cache[(method, n)] = bootstrap_summary(y, np.stack(rows), n_boot=self.n_boot, seed=n)
        return cache[(method, n)]

    def results(self) -> list[dict[str, Any]]:
        """The ``results`` list of ``metrics.json``; NaN becomes ``None`` (JSON has no NaN)."""
        out = []
        for method, by_n in self.probas.items():
            for n in sorted(by_n):
                for metric, s in self.summary(method, n).items():
                    out.append({
                        "method": method, "n_train": int(n), "metric": metric,
                        "mean": _num(s.mean), "ci_low": _num(s.ci_low), "ci_high": _num(s.ci_high),
                        "repeats": s.repeats,
                    })
        return out

    def to_metrics_json(self, *, library_version: str | None, dataset: dict[str, Any]) -> dict[str, Any]:
        """The ``metrics.json`` document (shape fixed by issue 6)."""
        return {
            "library_version": library_version or "none",
            "dataset": dataset,
            "results": self.results(),
            "skipped": list(self.skipped),
        }

    def table(self, metric: str = "balanced_accuracy") -> dict[str, dict[int, tuple[float, float, float]]]:
        """``{method: {n: (mean, ci_low, ci_high)}}`` for one metric (tables in the CLI and report)."""
        if metric not in METRICS:
            raise ValueError(f"Unknown metric {metric!r}; choose one of {METRICS}.")
        return {m: {n: (s.mean, s.ci_low, s.ci_high) for n in by_n for s in [self.summary(m, n)[metric]]}
                for m, by_n in self.probas.items()}


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def group_label(group: Group) -> str:
    """``radiomics+mrmr+* (7 models)`` for a multi-method group, else its one method name."""
    if len(group.names) == 1:
        return group.names[0]
    return group.names[0].rsplit("+", 1)[0] + f"+* ({len(group.names)} models)"


def run_learning_curves(
    groups: list[Group],
    pool: CaseSet,
    test: CaseSet,
    *,
    sizes: list[int],
    repeats: int = 10,
    seed: int = 0,
    skipped: list[dict[str, str]] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> EvaluationResult:
    """Run every group on every (size, repeat) subset; ``on_step(description)`` after each group run.

    Sizes larger than the pool are dropped with a ``skipped`` note instead of failing the run.
    """
    if repeats < 1:
        raise ModelError(f"repeats must be ≥ 1; got {repeats}.")
    if len(test.y) == 0 or len(np.unique(test.y)) < 2:
        raise ModelError("The test set needs cases of both classes; check its labels.")
    result = EvaluationResult(y_test=test.y, test_ids=list(test.ids), sizes=[], repeats=repeats,
                              skipped=list(skipped or []))
    usable = [n for n in sizes if n <= len(pool.y)]
    for n in sorted(set(sizes) - set(usable)):
        result.skipped.append({"method": "*", "reason": f"training size {n} exceeds the pool of {len(pool.y)} cases"})
    result.sizes = sorted(usable)
    for group in groups:
        if group.zero_shot:
            start = time.perf_counter()
            out = group.run(np.arange(0), seed)
            for name, p in out.items():
                result.probas.setdefault(name, {}).setdefault(0, []).append(np.asarray(p, float))
            result.seconds[group_label(group)] = time.perf_counter() - start
            if on_step:
                on_step(f"{'/'.join(group.names)} (zero-shot)")
    for n in result.sizes:
        for r in range(repeats):
            idx = stratified_subset(pool.y, n, seed + 1000 * n + r)
            for group in groups:
                if group.zero_shot:
                    continue
                start = time.perf_counter()
                out = group.run(idx, seed + r)
                label = group_label(group)
                result.seconds[label] = result.seconds.get(label, 0.0) + time.perf_counter() - start
                for name, p in out.items():
                    result.probas.setdefault(name, {}).setdefault(n, []).append(np.asarray(p, float))
                if on_step:
                    on_step(f"n={n} repeat {r + 1}/{repeats}: {group.names[0].split('+')[0]}")
    return result


def count_steps(groups: list[Group], sizes: list[int], repeats: int, pool_size: int) -> int:
    """How many ``on_step`` calls :func:`run_learning_curves` will make (for progress bars)."""
    learned = sum(1 for g in groups if not g.zero_shot)
    return sum(1 for g in groups if g.zero_shot) + learned * repeats * sum(1 for n in sizes if n <= pool_size)
