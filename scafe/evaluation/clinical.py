"""What a clinical reader asks of one evaluation point: calibration, operating points, subgroups.

:func:`clinical_summary` takes an :class:`scafe.evaluation.EvaluationRun` and a training size and,
for every method with results there, pools the repeats' test-set probabilities (each repeat scores
the same test cases, so pooling weighs every repeat equally) and computes

* ``calibration``: Brier score, expected calibration error, reliability curve
  (:mod:`scafe.evaluation.calibration`);
* ``operating_points``: sensitivity/specificity/PPV/NPV at p ≥ 0.5, at Youden's threshold, at
  sensitivity ≥ 0.90 and at specificity ≥ 0.90 (:mod:`scafe.evaluation.operating`);
* ``subgroups``: per grouping (skin tone, family, declared columns), per group, the repeats'
  mean sensitivity, specificity, balanced accuracy and AUC (:mod:`scafe.evaluation.subgroups`).

The result is JSON-ready (NaN becomes None) and goes into ``metrics.json`` as ``clinical``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from scafe.evaluation.calibration import calibration_summary
from scafe.evaluation.operating import operating_table
from scafe.evaluation.subgroups import groupings, subgroup_metrics


def _json(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def pooled(y: np.ndarray, rows: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities of every repeat, concatenated (a repeat may score a prefix of y)."""
    ps = [np.asarray(r, dtype=float) for r in rows]
    return np.concatenate([np.asarray(y)[: len(p)] for p in ps]).astype(int), np.concatenate(ps)


def scored_cases(run: Any) -> list[Any]:
    """The run's test cases in the order of ``result.test_ids``."""
    cases = list(getattr(run.test.dataset, "cases", []))
    by_id = {str(c.id): c for c in cases}
    ids = [str(i) for i in run.result.test_ids]
    if all(i in by_id for i in ids):
        return [by_id[i] for i in ids]
    return cases[: len(ids)]


def clinical_summary(run: Any, n_train: int, *, declared: Sequence[str] = ()) -> dict[str, Any]:
    """Calibration, operating points and subgroups of every method at ``n_train`` (0 = zero-shot)."""
    res = run.result
    y = np.asarray(res.y_test).astype(int)
    cases = scored_cases(run)
    problems: list[str] = []
    try:
        groups = groupings(cases, declared) if len(cases) == len(y) else {}
    except KeyError as exc:
        problems.append(f"subgroup column {exc.args[0]!r} is not in the test manifest; its columns are "
                        f"{', '.join(sorted(cases[0].extra)) if cases else 'none'}")
        groups = groupings(cases, ()) if len(cases) == len(y) else {}
    out: dict[str, Any] = {"n_train": int(n_train), "calibration": {}, "operating_points": {},
                           "subgroups": {title: {} for title in groups}, "problems": problems}
    for method, by_n in res.probas.items():
        point = n_train if n_train in by_n else (0 if 0 in by_n else None)
        if point is None:
            continue
        yy, pp = pooled(y, by_n[point])
        out["calibration"][method] = calibration_summary(yy, pp)
        out["operating_points"][method] = operating_table(yy, pp)
        k = len(by_n[point][0])
        for title, labels in groups.items():
            out["subgroups"][title][method] = subgroup_metrics(y[:k], by_n[point], labels[:k])
    return _json(out)
