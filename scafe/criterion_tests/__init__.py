"""Criterion tests: the second validation stage, after the sandbox's contract battery.

The contract battery proves an extractor *runs* safely; these tests prove it *measures the right
thing*. The item's test specification lives in its criteria file (``ground_truth``:
:class:`scafe.criteria.GroundTruth`). On a fixed, seeded validation set of phantoms of **each**
family in :data:`CRITERION_FAMILIES` (independent renderers, so one generator's quirks cannot
become the ground truth), the extractor's main output must

1. track the item's physical quantity in the declared direction:
   ``sign(direction) * spearman(f, g) >= min_rho``; for items seen through shading
   (``within: <light elevation>``) the correlation is the partial one given the elevation
   (tracking at a fixed light angle); for two-sided items (``two_sided``) ``g`` may be the
   quantity signed or its magnitude ``|g|``;
2. not follow each declared nuisance ``n`` beyond its declared bound:
   ``|partial_spearman(f, n | g)| <= max_rho(n)`` (:func:`partial_spearman` explains why partial);
3. where the item is orientation-free, not change under 90-degree rotations and flips:
   ``|f(T x) - f(x)| / max(|f(x)|, floor) <= 0.02`` on a few phantoms, with ``floor = 1 %`` of the
   output's 5-95 % range on the validation set.

It passes only if every check passes on every family. The extractor is executed only through
:class:`sandbox.ExtractorRunner`; its code is never imported by this process. Every check's text
is in clinical words (the LLM repair prompt shows them); phantom column names stay in the JSON.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from scafe.criterion_tests.checks import (
    Check,
    evaluate_tracking,
    partial_spearman,
    relative_changes,
    spearman,
)
from scafe.criterion_tests.distractors import add_distractor_check
from scafe.criterion_tests.phantom_sets import (
    CRITERION_FAMILIES,
    VALIDATION_N,
    VALIDATION_SEED,
    VALIDATION_SIZE,
    ValidationSet,
    available_families,
    check_families,
    validation_set,
)
from scafe.criterion_tests.report import CriterionReport, FamilyResult
from scafe.errors import DataError, ScafeError

__all__ = [
    "CRITERION_FAMILIES", "INVARIANCE_REL_TOL", "TRANSFORMS", "VALIDATION_N", "VALIDATION_SEED",
    "VALIDATION_SIZE", "Check", "CriterionReport", "FamilyResult", "ValidationSet", "available_families",
    "evaluate_outputs", "partial_spearman", "run_criterion_tests", "run_outputs", "spearman", "validation_set",
]  # fmt: skip

INVARIANCE_PHANTOMS = 4
INVARIANCE_REL_TOL = 0.02
#: Absolute floor of the invariance check, as a fraction of the output's 5-95 % range.
INVARIANCE_FLOOR_FRACTION = 0.01
TRANSFORMS = ("rot90", "rot180", "rot270", "flip_lr", "flip_ud")


def _transform(image: np.ndarray, mask: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    k = {"rot90": 1, "rot180": 2, "rot270": 3}.get(name)
    if k is not None:
        return np.ascontiguousarray(np.rot90(image, k)), np.ascontiguousarray(np.rot90(mask, k))
    op = np.fliplr if name == "flip_lr" else np.flipud
    return np.ascontiguousarray(op(image)), np.ascontiguousarray(op(mask))


def _run_all(source: str, pairs: list[tuple[np.ndarray, np.ndarray]], ids: list[str],
             limits: Any) -> tuple[list[dict[str, float]], list[str]]:
    """Run the extractor on every pair in one sandbox child; return features and failure texts."""
    from sandbox import ExtractorRunner, Outcome

    feats: list[dict[str, float]] = []
    problems: list[str] = []
    with ExtractorRunner(source, limits=limits) as runner:
        for pid, result in zip(ids, runner.run_many(pairs), strict=True):
            if result.outcome != Outcome.ok or result.features is None:
                where = f" (line {result.line})" if result.line else ""
                problems.append(f"the extractor {result.outcome} on validation phantom {pid}{where}: "
                                f"{(result.error or '').strip()[:400]}")
                feats.append({})
            else:
                feats.append(result.features)
    return feats, problems


def run_outputs(source: str, vs: ValidationSet, *, orientation_free: bool = True,
                limits: Any = None) -> dict[str, Any]:
    """Run ``source`` on a validation set (and, if asked, its rotated/flipped first phantoms).

    Returns ``{"features": [...], "problems": [...], "transformed": [(index, name, features)]}``;
    the validator benchmark calls this once per extractor and family and judges the result
    against several items with :func:`evaluate_outputs`.
    """
    pairs = list(zip(vs.images, vs.masks, strict=True))
    feats, problems = _run_all(source, pairs, vs.ids, limits)
    transformed: list[tuple[int, str, dict[str, float]]] = []
    if orientation_free and not problems:
        k = min(INVARIANCE_PHANTOMS, len(vs.ids))
        labels = [(i, name) for i in range(k) for name in TRANSFORMS]
        tpairs = [_transform(vs.images[i], vs.masks[i], name) for i, name in labels]
        tfeats, tproblems = _run_all(source, tpairs, [f"{vs.ids[i]} ({t})" for i, t in labels], limits)
        problems += tproblems[:3]
        transformed = [(i, name, f) for (i, name), f in zip(labels, tfeats, strict=True)]
    return {"features": feats, "problems": problems, "transformed": transformed}


def evaluate_outputs(outputs: dict[str, Any], vs: ValidationSet, item: Any, key: str | None) -> FamilyResult:
    """Judge one family's outputs (from :func:`run_outputs`) against ``item``'s test specification."""
    gt = item.ground_truth
    result = FamilyResult(family=vs.family, n_phantoms=len(vs.ids))
    feats, problems = outputs["features"], outputs["problems"]
    if problems:
        extra = [f"... and {len(problems) - 5} more failures like these"] if len(problems) > 5 else []
        result.checks = [Check("runs", False, text) for text in problems[:5] + extra]
        return result
    if key is None or any(key not in f for f in feats):
        result.checks.append(Check("output", False, f"main output {key!r} is missing from the extractor's "
                                   f"results; it returned keys {sorted(feats[0]) if feats else []}"))
        return result
    values = np.array([f[key] for f in feats], dtype=float)
    bad = [pid for pid, v in zip(vs.ids, values, strict=True) if not np.isfinite(v)]
    if bad:
        result.checks.append(Check("output", False, f"main output {key!r} is NaN/inf on {len(bad)} of "
                                   f"{len(values)} validation phantoms (e.g. {', '.join(bad[:3])}) although "
                                   "every one has a lesion"))
        return result
    if np.ptp(values) == 0:
        result.rho, result.score = 0.0, 0.0
        result.checks.append(Check("tracking", False, f"main output {key!r} is the same ({values[0]:.4g}) on "
                                   f"all {len(values)} validation phantoms, so it cannot track {gt.quantity}"))
        return result
    tracking = evaluate_tracking(values, vs.frame, gt)
    sign = 1.0 if (tracking.form == "magnitude" or gt.direction == "+") else -1.0
    result.rho, result.score, result.form = tracking.rho, sign * tracking.rho, tracking.form
    result.nuisance_rho = tracking.nuisance_rho
    result.checks = tracking.checks
    if result.nuisance_rho:
        worst = max(result.nuisance_rho, key=lambda c: abs(result.nuisance_rho[c]))
        result.worst_nuisance = (worst, result.nuisance_rho[worst])
    if item.orientation_free and outputs["transformed"]:
        _invariance(result, key, values, outputs["transformed"], vs)
    result.passed = all(c.passed for c in result.checks)
    return result


def _invariance(result: FamilyResult, key: str, values: np.ndarray,
                transformed: list[tuple[int, str, dict[str, float]]], vs: ValidationSet) -> None:
    changes = [(i, name, float(f.get(key, np.nan))) for i, name, f in transformed]
    worst, where = relative_changes(values, changes, values, INVARIANCE_FLOOR_FRACTION)
    result.invariance_max_rel_change = worst
    allowed = f"<= {100 * INVARIANCE_REL_TOL:.0f}%"
    if where is None:
        result.checks.append(Check("invariance", True, "orientation: rotating or flipping the photo left the "
                                   f"value unchanged (allowed change {allowed})", found=0.0, required=allowed))
        return
    i, name, new = where
    result.invariance_worst = f"{name} of {vs.ids[i]} changed {key!r} from {values[i]:.5g} to {new:.5g}"
    ok = worst <= INVARIANCE_REL_TOL
    text = (f"orientation: the largest change under rotation/flip was {100 * worst:.1f}% ({name} of photo "
            f"{vs.ids[i]}: {values[i]:.5g} -> {new:.5g}), allowed change {allowed}")
    result.checks.append(Check("invariance", ok, text, found=worst, required=allowed))


def run_criterion_tests(source: str, item: Any, *, output_key: str | None = None, limits: Any = None,
                        n: int = VALIDATION_N, seed: int = VALIDATION_SEED, size: int = VALIDATION_SIZE,
                        families: tuple[str, ...] | list[str] | None = None) -> CriterionReport:
    """Run the criterion checks (module docstring) for ``source`` against ``item`` on each family.

    Parameters
    ----------
    source
        Extractor source text (run only inside the sandbox).
    item
        A ``scafe.criteria.CriterionItem``; its ``ground_truth`` is the test specification.
        Items not observable in a photo cannot be tested (``ScafeError``).
    output_key
        Which output to test; default the first key the extractor returns.
    limits
        ``sandbox.Limits`` for the runs (default: the sandbox's defaults).
    n, seed, size
        The validation phantom set of each family (defaults: 96 phantoms of 256 px, a fixed seed).
    families
        Phantom families to test on (default :data:`CRITERION_FAMILIES`); all must pass.
    """
    gt = getattr(item, "ground_truth", None)
    item_id = str(getattr(item, "id", item))
    if gt is None:
        raise ScafeError(f"Criterion item {item_id!r} has no ground_truth (not observable in a "
                         "photo), so no extractor can be tested against it; pick an observable item.")
    families = check_families(tuple(families or CRITERION_FAMILIES))
    started = time.perf_counter()
    report = CriterionReport(item=item_id, output_key=output_key, column=gt.column, direction=gt.direction,
                             passed=False, rho=None, required=gt.min_rho, worst_nuisance=None,
                             max_nuisance_rho=gt.max_nuisance_rho, item_name=str(getattr(item, "name", item_id)),
                             quantity=gt.quantity)  # fmt: skip
    for family in families:
        vs = validation_set(n, seed, size, family)
        if gt.column not in vs.frame.columns:
            raise DataError(f"Ground-truth column {gt.column!r} of item {item_id!r} is not exported by "
                            f"phantom family {family!r} (have: {', '.join(vs.frame.columns)}); fix the "
                            "criteria file or the renderer.")
        outputs = run_outputs(source, vs, orientation_free=bool(item.orientation_free), limits=limits)
        feats = outputs["features"]
        key = output_key or (next(iter(feats[0]), None) if feats and feats[0] else None)
        report.output_key = report.output_key or key
        report.families[family] = evaluate_outputs(outputs, vs, item, report.output_key)
        add_distractor_check(report.families[family], source, vs, item, report.output_key, outputs, limits)
    report.seconds = time.perf_counter() - started
    return report.finish()
