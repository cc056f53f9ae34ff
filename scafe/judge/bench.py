"""The segmentation-QA benchmark: phantoms -> perturbed masks -> methods -> metrics.

Construction (deterministic for ``seed``): phantoms ``0 .. n-1`` of the phantom set ``seed`` are
rendered; the first half (rounded down) is the *train* split, the rest the *test* split, so the
learned QC never sees a test phantom. Each phantom yields every failure mode of
:mod:`scafe.judge.perturb` at every severity, near-correct masks and its distractor masks;
grey-zone masks (0.70 <= Dice < 0.85) are left out. Per-case randomness comes from
``SeedSequence([seed, phantom index, 0x7A6E])`` so adding phantoms never changes earlier cases.

Methods (all scored on the test split only):

* ``rules`` - :class:`scafe.judge.rules.RuleReasoner`, thresholds from the target YAML;
* ``descriptors+xgboost`` - gradient-boosted trees on the descriptors, trained on the train split,
  its decision threshold chosen by 5-fold cross-validation grouped by phantom on the train split
  (:mod:`scafe.judge.learned_qc`);
* any extra method passed in by the caller (the CLI passes ``llm`` when an endpoint is given;
  this module never imports ``agents``);
* ``ensemble`` (with ``ensemble_of``) - the learned QC where it is sure, the named extra method
  (the LLM chain) where ``|P(unacceptable) - threshold| < ensemble_band``.

Metrics: accuracy (with a 95 % interval from a bootstrap over test phantoms), balanced accuracy
and AUC with *unacceptable* as the positive class; an
``uncertain`` verdict counts as an error in accuracy (it is not a correct answer) and is
reported as ``uncertain_rate``; per failure mode the recall of unacceptable masks and the share
of acceptable masks passed.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scafe.judge.descriptors import compute_descriptors
from scafe.judge.learned_qc import CALIBRATION_FOLDS, ENSEMBLE_BAND, LearnedQC, qc_verdict, unsure
from scafe.judge.perturb import MODES, failure_masks

CASE_SEED_SALT = 0x7A6E
VISIBLE_CONTRAST_DE = 10.0  # CIE76 Delta E lesion vs skin above which a lesion edge is plainly visible
Verdict = dict[str, Any]  # {"verdict": ..., "confidence": ..., "failure_modes": [...], ...}
JudgeFn = Callable[[np.ndarray, np.ndarray, dict[str, float]], Verdict]


@dataclass
class BenchCase:
    """One (phantom, candidate mask) pair with its ground-truth label."""

    case_id: str
    phantom: int  # index into Benchmark.images
    split: str  # "train" | "test"
    mode: str
    severity: float
    detail: str
    dice: float
    label: str  # "acceptable" | "unacceptable"
    packed_mask: np.ndarray  # np.packbits of the mask (8x smaller than bool)
    descriptors: dict[str, float]
    seconds_descriptors: float

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        """The candidate mask as an (H, W) bool array."""
        return np.unpackbits(self.packed_mask, count=shape[0] * shape[1]).reshape(shape).astype(bool)


@dataclass
class Benchmark:
    """The built benchmark: phantom images and ground truth, and the labelled cases."""

    seed: int
    size: int
    images: list[np.ndarray]
    truths: list[np.ndarray]
    phantom_ids: list[str]
    cases: list[BenchCase]
    left_out: int  # grey-zone masks not used
    counts: dict[str, int] = field(default_factory=dict)
    lesion_contrast: list[float] = field(default_factory=list)  # latent_color_delta_e per phantom

    def split(self, name: str) -> list[BenchCase]:
        """Cases of one split (``train`` or ``test``)."""
        return [c for c in self.cases if c.split == name]

    def image_and_mask(self, case: BenchCase) -> tuple[np.ndarray, np.ndarray]:
        """The phantom image and the candidate mask of a case."""
        image = self.images[case.phantom]
        return image, case.mask(image.shape[:2])


def build_benchmark(
    n: int = 80,
    *,
    seed: int = 0,
    size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> Benchmark:
    """Render ``n`` phantoms and build every labelled case (see module docstring).

    Parameters
    ----------
    n : int
        Number of phantoms (>= 2: one train, one test).
    seed : int
        Phantom-set seed; the whole benchmark is a pure function of ``(n, seed, size)``.
    size : int
        Phantom side in pixels.
    progress : callable, optional
        Called as ``progress(done, n)`` after each phantom.
    """
    from scafe.data.phantoms import render_phantom
    from scafe.errors import UsageError

    if n < 2:
        raise UsageError(f"The benchmark needs at least 2 phantoms (one per split); got n={n}.")
    n_train = n // 2
    images, truths, ids, cases, contrast = [], [], [], [], []
    left_out = 0
    for index in range(n):
        phantom = render_phantom(index, seed=seed, size=size)
        rng = np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, index, CASE_SEED_SALT]))
        images.append(phantom.image)
        truths.append(phantom.mask)
        ids.append(phantom.id)
        contrast.append(float(phantom.latents.get("latent_color_delta_e", math.nan)))
        for k, pm in enumerate(failure_masks(phantom.image, phantom.mask, phantom.distractors, rng)):
            if pm.label is None:
                left_out += 1
                continue
            t0 = time.perf_counter()
            desc = compute_descriptors(phantom.image, pm.mask)
            elapsed = time.perf_counter() - t0
            cases.append(
                BenchCase(
                    case_id=f"{phantom.id}-{k:02d}-{pm.mode}",
                    phantom=index,
                    split="train" if index < n_train else "test",
                    mode=pm.mode,
                    severity=pm.severity,
                    detail=pm.detail,
                    dice=pm.dice,
                    label=pm.label,
                    packed_mask=np.packbits(pm.mask.ravel()),
                    descriptors=desc,
                    seconds_descriptors=elapsed,
                )
            )
        if progress is not None:
            progress(index + 1, n)
    counts = {
        f"{split}_{label}": sum(1 for c in cases if c.split == split and c.label == label)
        for split in ("train", "test")
        for label in ("acceptable", "unacceptable")
    }
    return Benchmark(seed, size, images, truths, ids, cases, left_out, counts, contrast)


def p_unacceptable(verdict: Verdict) -> float:
    """Score for AUC: ``P(unacceptable)`` from a verdict dict (0.5 for ``uncertain``)."""
    if "p_unacceptable" in verdict:
        return float(verdict["p_unacceptable"])
    conf = float(verdict.get("confidence") or 0.5)
    if verdict["verdict"] == "unacceptable":
        return conf
    if verdict["verdict"] == "acceptable":
        return 1.0 - conf
    return 0.5


def score(cases: list[BenchCase], verdicts: list[Verdict]) -> dict[str, Any]:
    """Accuracy, balanced accuracy, AUC, uncertain rate and per-mode recall for one method."""
    from sklearn.metrics import roc_auc_score

    y = np.array([c.label == "unacceptable" for c in cases])
    said = np.array([v["verdict"] for v in verdicts])
    correct = np.where(y, said == "unacceptable", said == "acceptable")
    tpr = float(correct[y].mean()) if y.any() else math.nan
    tnr = float(correct[~y].mean()) if (~y).any() else math.nan
    scores = np.array([p_unacceptable(v) for v in verdicts])
    auc = float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else math.nan
    per_mode: dict[str, dict[str, float | int | None]] = {}
    for mode in MODES:
        idx = np.array([c.mode == mode for c in cases])
        bad, good = idx & y, idx & ~y
        per_mode[mode] = {
            "n_unacceptable": int(bad.sum()),
            "recall_unacceptable": float(correct[bad].mean()) if bad.any() else None,
            "n_acceptable": int(good.sum()),
            "passed_acceptable": float(correct[good].mean()) if good.any() else None,
        }
    return {
        "n": len(cases),
        "accuracy": float(correct.mean()),
        "accuracy_ci95": _cluster_bootstrap_ci(correct, np.array([c.phantom for c in cases])),
        "balanced_accuracy": (tpr + tnr) / 2,
        "sensitivity": tpr,
        "specificity": tnr,
        "auc": auc,
        "uncertain_rate": float(np.mean(said == "uncertain")),
        "per_mode": per_mode,
    }


def _cluster_bootstrap_ci(correct: np.ndarray, clusters: np.ndarray, reps: int = 1000) -> list[float]:
    """95 % interval of the accuracy, resampling whole phantoms (cases of one phantom are correlated)."""
    ids = np.unique(clusters)
    if len(ids) < 2:
        return [math.nan, math.nan]
    rng = np.random.default_rng(0)  # fixed: the interval is part of a deterministic report
    members = [np.flatnonzero(clusters == i) for i in ids]
    stats = []
    for _ in range(reps):
        picked = np.concatenate([members[k] for k in rng.integers(0, len(ids), len(ids))])
        stats.append(correct[picked].mean())
    low, high = np.percentile(stats, [2.5, 97.5])
    return [float(low), float(high)]


def by_contrast(bench: Benchmark, cases: list[BenchCase], verdicts: list[Verdict]) -> dict[str, Any]:
    """Accuracy on phantoms whose lesion-vs-skin Delta E (ground truth) is >= or < 10.

    Low-contrast scars have no visible edge where the ground-truth mask ends, so no image-based
    judge can place the boundary to a pixel there; this split shows how much of the error that is.
    """
    if not bench.lesion_contrast:
        return {}
    out: dict[str, Any] = {}
    for name, keep in (("high_contrast", lambda de: de >= VISIBLE_CONTRAST_DE), ("low_contrast", lambda de: de < VISIBLE_CONTRAST_DE)):
        idx = [k for k, c in enumerate(cases) if keep(bench.lesion_contrast[c.phantom])]
        if idx:
            right = [(verdicts[k]["verdict"] == "unacceptable") == (cases[k].label == "unacceptable") for k in idx]
            out[name] = {"n": len(idx), "accuracy": float(np.mean(right)),
                         "phantoms": len({cases[k].phantom for k in idx})}
    return out


def run_benchmark(
    bench: Benchmark,
    *,
    target: str = "scar",
    extra_methods: dict[str, JudgeFn] | None = None,
    extra_limit: int | None = None,
    extra_sample: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    concurrency: int = 1,
    ensemble_of: str | None = None,
    ensemble_band: float = ENSEMBLE_BAND,
    ensemble_alone: bool | None = None,
) -> dict[str, Any]:
    """Score ``rules``, ``descriptors+xgboost`` and any ``extra_methods`` on the test split.

    Parameters
    ----------
    bench : Benchmark
        From :func:`build_benchmark`.
    target : str
        Segmentation target whose YAML gives the rule thresholds.
    extra_methods : dict, optional
        ``name -> fn(image, mask, descriptors) -> verdict dict`` (e.g. the LLM chain).
    extra_limit : int, optional
        Score extra methods on only the first ``extra_limit`` test cases (LLM calls cost money);
        the metrics then say ``n``.
    extra_sample : int, optional
        Score extra methods on a stratified sample of this many test cases instead
        (:func:`scafe.judge.sample.stratified_sample`, seeded by the benchmark seed); every method is
        then also scored on that same sample (``results["sample"]``). Takes precedence over ``extra_limit``.
    progress : callable, optional
        ``progress(method, done, total)`` after every judged case.
    concurrency : int
        Cases judged in parallel by each extra method (threads; results keep the case order, so
        they do not depend on it).
    ensemble_of : str, optional
        Name of an extra method (the LLM chain) to combine with the learned QC as ``ensemble``:
        the learned QC's verdict where it is sure, the extra method's where
        ``|P(unacceptable) - threshold| < ensemble_band`` (an ``uncertain`` reply falls back to the
        learned QC). Scored on the same cases as the extra methods; a case the extra method
        already judged is not asked again.
    ensemble_alone : bool, optional
        ``False``: do not score ``ensemble_of`` on its own, so it is asked only for the unsure cases.

    Returns
    -------
    dict
        ``{"methods": {name: metrics}, "timing": {...}, "predictions": {name: [verdict...]},
        "positions": {name: [test index of each verdict]}, "sample": {"indices": [...], "methods": {...}}}``
        (``sample`` is present when a sample or limit was applied to the extra methods).
    """
    from scafe.judge.rules import RuleReasoner
    from scafe.judge.sample import stratified_sample

    test = bench.split("test")
    methods: dict[str, Any] = {}
    predictions: dict[str, list[Verdict]] = {}

    reasoner = RuleReasoner.for_target(target)
    t0 = time.perf_counter()
    rule_verdicts = [reasoner.judge(c.descriptors) for c in test]
    rule_seconds = (time.perf_counter() - t0) / max(len(test), 1)
    predictions["rules"] = rule_verdicts
    methods["rules"] = score(test, rule_verdicts)

    qc = LearnedQC(seed=bench.seed).fit(bench.split("train"))
    probs = qc.predict_proba([c.descriptors for c in test])
    qc_verdicts = [qc_verdict(float(p), qc.threshold) for p in probs]
    predictions["descriptors+xgboost"] = qc_verdicts
    methods["descriptors+xgboost"] = score(test, qc_verdicts)
    calibration = {"threshold": qc.threshold, "folds": CALIBRATION_FOLDS,
                   "train_oof_accuracy": getattr(qc, "oof_accuracy_", None),
                   "train_oof_accuracy_at_0.5": getattr(qc, "oof_accuracy_at_half_", None),
                   "test_accuracy_at_0.5": float(np.mean([(p >= 0.5) == (c.label == "unacceptable") for p, c in zip(probs, test, strict=True)]))}

    if extra_sample:
        chosen = stratified_sample(test, extra_sample, seed=bench.seed)
    elif extra_limit:
        chosen = list(range(min(extra_limit, len(test))))
    else:
        chosen = list(range(len(test)))
    positions: dict[str, list[int]] = {name: list(range(len(test))) for name in predictions}
    cache: dict[tuple[str, int], Verdict] = {}  # (method, test index) -> verdict: the ensemble reuses them

    def judged(name: str, fn: JudgeFn, k: int) -> Verdict:
        if (name, k) not in cache:
            image, mask = bench.image_and_mask(test[k])
            cache[(name, k)] = fn(image, mask, test[k].descriptors)
        return cache[(name, k)]

    plans: list[tuple[str, Callable[[int], Verdict]]] = []
    for name, fn in (extra_methods or {}).items():
        if name != ensemble_of or ensemble_alone is not False:
            plans.append((name, functools.partial(judged, name, fn)))
    ensemble_info: dict[str, Any] = {}
    if ensemble_of is not None and extra_methods and ensemble_of in extra_methods:
        llm_fn = extra_methods[ensemble_of]
        asked = [k for k in chosen if unsure(float(probs[k]), qc.threshold, ensemble_band)]
        ensemble_info = {"of": ensemble_of, "band": ensemble_band, "threshold": qc.threshold,
                         "rule": f"LLM when |P(unacceptable) - {qc.threshold:g}| < {ensemble_band:g}, else the learned QC",
                         "n": len(chosen), "n_llm": len(asked), "llm_share": len(asked) / max(len(chosen), 1)}

        def ensemble(k: int) -> Verdict:
            if not unsure(float(probs[k]), qc.threshold, ensemble_band):
                return {**qc_verdicts[k], "source": "learned_qc"}
            said = judged(ensemble_of, llm_fn, k)
            if said.get("verdict") not in ("acceptable", "unacceptable"):  # LLM uncertain: keep the QC's verdict
                return {**qc_verdicts[k], "source": "learned_qc_after_llm_uncertain"}
            return {**said, "source": "llm"}

        plans.append(("ensemble", ensemble))
    for name, plan in plans:
        positions[name] = list(chosen)
        predictions[name] = _run_cases(plan, chosen, concurrency, functools.partial(progress, name) if progress else None)
        methods[name] = score([test[k] for k in chosen], predictions[name])

    for name, verdicts in predictions.items():
        methods[name]["by_lesion_contrast"] = by_contrast(bench, [test[k] for k in positions[name]], verdicts)
    sample: dict[str, Any] = {}
    if len(chosen) < len(test) and (extra_sample or extra_methods):
        on_sample = {}
        for name, verdicts in predictions.items():
            where = {k: j for j, k in enumerate(positions[name])}
            on_sample[name] = score([test[k] for k in chosen], [verdicts[where[k]] for k in chosen])
        sample = {"indices": chosen, "how": "stratified" if extra_sample else "first", "methods": on_sample}

    desc_times = np.array([c.seconds_descriptors for c in bench.cases])
    timing = {
        "descriptors_ms_mean": float(desc_times.mean() * 1e3),
        "descriptors_ms_p95": float(np.percentile(desc_times, 95) * 1e3),
        "rules_ms_mean": rule_seconds * 1e3,
        "judge_overhead_ms_mean": float(desc_times.mean() * 1e3 + rule_seconds * 1e3),
        "image_size": bench.size,
    }
    return {"methods": methods, "timing": timing, "predictions": predictions, "positions": positions, "sample": sample,
            "calibration": calibration, "ensemble": ensemble_info}


def _run_cases(
    plan: Callable[[int], Verdict], chosen: list[int], concurrency: int, progress: Callable[[int, int], None] | None
) -> list[Verdict]:
    """``plan(k)`` for every chosen index, ``concurrency`` at a time; verdicts in ``chosen`` order."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    done, lock = 0, threading.Lock()

    def one(k: int) -> Verdict:
        nonlocal done
        verdict = plan(k)
        with lock:
            done += 1
            if progress is not None:
                progress(done, len(chosen))
        return verdict

    if concurrency <= 1:
        return [one(k) for k in chosen]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, chosen))
