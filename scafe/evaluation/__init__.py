"""Evaluation: learning curves of every method on a training pool and a fixed held-out test set.

``evaluate(train, test, sizes=[20, 50, 100, 200], repeats=10)`` loads both sides
(:mod:`scafe.evaluation.inputs`), builds the methods (:mod:`scafe.evaluation.methods`), runs the
protocol (:mod:`scafe.evaluation.protocol`) and returns an :class:`EvaluationRun` that writes
``metrics.json`` and feeds :mod:`scafe.report`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scafe.evaluation.describe import describe_data, name_missing_columns
from scafe.evaluation.inputs import LoadedSet, load_case_set
from scafe.evaluation.methods import NO_ENDPOINT, build_groups, method_names
from scafe.evaluation.metrics import METRICS, binary_metrics, bootstrap_summary
from scafe.evaluation.protocol import (
    EvaluationResult,
    count_steps,
    run_learning_curves,
    stratified_subset,
)

__all__ = [
    "METRICS", "EvaluationResult", "EvaluationRun", "binary_metrics", "bootstrap_summary", "describe_data", "evaluate",
    "method_names", "run_learning_curves", "stratified_subset",
]

ProgressFactory = Callable[[str, int], Callable[[], None]]


@dataclass
class EvaluationRun:
    """A finished evaluation and the inputs the report needs."""

    result: EvaluationResult
    pool: LoadedSet
    test: LoadedSet
    library_version: str | None
    dataset: dict[str, Any] = field(default_factory=dict)

    provenance: dict[str, Any] = field(default_factory=dict)
    subgroups: list[str] = field(default_factory=list)  # declared grouping columns (besides skin tone)
    library: Any = None  # the feature library used (None = the project's), for the report's glossary

    @property
    def goal_size(self) -> int:
        """The training size goals, calibration and subgroups are reported at: 50, else the largest."""
        return 50 if 50 in self.result.sizes or not self.result.sizes else max(self.result.sizes)

    def clinical(self, n_train: int | None = None) -> dict[str, Any]:
        """Calibration, operating points and subgroups (:mod:`scafe.evaluation.clinical`), cached."""
        from scafe.evaluation.clinical import clinical_summary

        n = self.goal_size if n_train is None else n_train
        cache = self.result.extras.setdefault("_clinical", {})
        if n not in cache:
            cache[n] = clinical_summary(self, n, declared=self.subgroups)
        return cache[n]

    @property
    def metrics(self) -> dict[str, Any]:
        """The ``metrics.json`` document, with the goal verdicts and the provenance block."""
        from scafe.evaluation.goals import check_goals

        doc = self.result.to_metrics_json(library_version=self.library_version, dataset=self.dataset)
        n_goal = self.goal_size
        doc["goals"] = [{"goal": g.goal, "n_train": n_goal, "ours": g.ours, "target": g.target,
                         "margin": g.margin, "passed": g.passed} for g in check_goals(doc, n_goal)]
        doc["clinical"] = self.clinical(n_goal)
        doc["provenance"] = self.provenance
        return doc

    def write_metrics(self, path: str | Path) -> Path:
        """Write ``metrics.json`` (indented, NaN-free) and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.metrics, indent=2) + "\n")
        return path


def evaluate(
    train: Any,
    test: Any | None,
    *,
    sizes: list[int] | None = None,
    repeats: int = 10,
    methods: list[str] | None = None,
    library: Any = None,
    llm_client: Any = None,
    llm_unavailable: str = NO_ENDPOINT,
    llm_max_cases: int = 100,
    seed: int = 0,
    progress: ProgressFactory | None = None,
    dataset_info: dict[str, Any] | None = None,
    folds: int = 5,
    subgroups: list[str] | None = None,
) -> EvaluationRun:
    """Run the learning-curve evaluation.

    Parameters
    ----------
    train, test : dataset folders / manifests / loaded ``Dataset`` objects (test = fixed held-out set).
    sizes : training sizes (default 20, 50, 100, 200; sizes above the pool are skipped and noted).
    repeats : stratified subsets per size (≥ 10 for the intervals to mean much).
    methods : subset of :func:`method_names` (None = every method).
    library : feature library for extraction (None = the project's).
    llm_client : an ``agents.llm.LLMClient`` built by the caller (the core never imports ``agents``);
        None = the LLM methods are skipped with ``llm_unavailable`` as the reason.
    llm_max_cases : test cases sent to the LLM (the first ones of the test set).
    progress : ``progress(description, total) -> advance`` factory (CLI progress bars).
    test=None : cross-validation on ``train`` alone (:mod:`scafe.evaluation.cv`: ``folds`` folds grouped
        by ``patient_id``, or its ``split`` column; leakage refused).
    subgroups : manifest columns to report performance by (besides skin tone and ``group_*`` columns,
        which are always used; :mod:`scafe.evaluation.subgroups`).
    """
    sizes = sizes or [20, 50, 100, 200]
    scored = test if test is not None else train
    if subgroups and hasattr(scored, "frame"):  # fail before hours of work, not after
        import types

        _check_subgroups(subgroups, types.SimpleNamespace(dataset=scored))
    if test is None:
        return _evaluate_cv(train, sizes=sizes, repeats=repeats, methods=methods, library=library,
                            seed=seed, progress=progress, dataset_info=dataset_info, folds=folds,
                            llm_unavailable=llm_unavailable, subgroups=subgroups)
    wanted = set(methods or method_names())
    need_lib = "library+xgboost" in wanted
    need_rad = any(m.startswith("radiomics+") for m in wanted)
    need_cnn = "cnn" in wanted
    import time

    clock = time.perf_counter()
    timings: dict[str, float] = {}
    pool = load_case_set(train, library=library, radiomics=need_rad, cnn=need_cnn, use_library=need_lib,
                         progress=progress)
    timings["load_pool_s"] = round(time.perf_counter() - clock, 1)
    clock = time.perf_counter()
    held = load_case_set(test, library=library, radiomics=need_rad, cnn=need_cnn, use_library=need_lib,
                         progress=progress)
    timings["load_test_s"] = round(time.perf_counter() - clock, 1)
    clock = time.perf_counter()
    llm = None
    if llm_client is not None:
        from scafe.baselines.llm import llm_groups

        llm = llm_groups(llm_client, held, max_cases=llm_max_cases)
    groups, skipped = build_groups(pool.cases, held.cases, methods=methods, llm_groups=llm,
                                   llm_unavailable=llm_unavailable,
                                   **({"library_unavailable": pool.library_error} if pool.library_error else {}))
    advance = (progress("learning curves", count_steps(groups, sizes, repeats, len(pool.cases.y)))
               if progress else None)
    result = run_learning_curves(groups, pool.cases, held.cases, sizes=sizes, repeats=repeats, seed=seed,
                                 skipped=skipped, on_step=(lambda _d: advance()) if advance else None)
    timings["learning_curves_s"] = round(time.perf_counter() - clock, 1)
    version = None
    if pool.features is not None:
        version = pool.features.meta.get("library_version")
        if held.features is not None and held.features.meta.get("library_version") != version:
            result.skipped.append({"method": "*", "reason": "train and test were extracted with different "
                                                            "library versions; re-extract both"})
    name_missing_columns(result.skipped, {"training": pool, "test": held})
    backend = pool.radiomics_backend
    result.extras["radiomics_backend"] = backend
    info = {
        "train": str(getattr(pool.dataset, "root", train)),
        "test": str(getattr(held.dataset, "root", test)),
        "n_train_pool": int(len(pool.cases.y)),
        "n_test": int(len(held.cases.y)),
        "test_keloid": int(held.cases.y.sum()),
        "sizes": result.sizes,
        "repeats": repeats,
        "radiomics_backend": backend,
        "seed": seed,
        "timings": timings,
        "protocol": "fixed held-out test set",
        **describe_data(pool, held),
        **(dataset_info or {}),
    }
    return EvaluationRun(result=result, pool=pool, test=held, library_version=version, dataset=info,
                         provenance=_provenance(library, version, pool=pool.dataset, test=held.dataset),
                         subgroups=_check_subgroups(subgroups, held), library=library)


def _evaluate_cv(train: Any, *, sizes: list[int], repeats: int, methods: list[str] | None, library: Any,
                 seed: int, progress: ProgressFactory | None, dataset_info: dict[str, Any] | None,
                 folds: int, llm_unavailable: str, subgroups: list[str] | None = None) -> EvaluationRun:
    """Cross-validation on one dataset (see :mod:`scafe.evaluation.cv`)."""
    import time
    import types

    import numpy as np

    from scafe.evaluation.cv import count_cv_steps, describe_rows, make_splits, run_cross_validation

    wanted = set(methods or method_names())
    clock = time.perf_counter()
    if not hasattr(train, "cases"):
        from scafe.data.dataset import load_dataset

        train = load_dataset(train)
    splits, protocol = make_splits(describe_rows(train), labels_of_cases(train), folds=folds, repeats=repeats,
                                   seed=seed)
    pool = load_case_set(train, library=library, radiomics=any(m.startswith("radiomics+") for m in wanted),
                         cnn="cnn" in wanted, use_library="library+xgboost" in wanted, progress=progress)
    load_s = round(time.perf_counter() - clock, 1)

    def build(tr: Any, te: Any) -> Any:
        extra: dict[str, Any] = {"library_unavailable": pool.library_error} if pool.library_error else {}
        groups, skipped = build_groups(tr, te, methods=methods, llm_unavailable=(
            "LLM methods are not run in cross-validation (pass --test for a fixed test set)"), **extra)
        return [g for g in groups if not g.zero_shot], skipped

    n_groups = len(build(*([pool.cases] * 2))[0]) if pool.cases.y.size else 0
    advance = progress("cross-validation", count_cv_steps(n_groups, splits, sizes)) if progress else None
    clock = time.perf_counter()
    result = run_cross_validation(pool.cases, splits, build, sizes=sizes, repeats=repeats, seed=seed,
                                  on_step=(lambda _d: advance()) if advance else None)
    name_missing_columns(result.skipped, {"dataset": pool})
    result.extras["radiomics_backend"] = pool.radiomics_backend
    scored = np.unique(np.concatenate([s.test for s in splits]))
    from scafe.evaluation.cv import subset

    test = LoadedSet(cases=subset(pool.cases, scored),
                     dataset=types.SimpleNamespace(cases=[train.cases[i] for i in scored], root=train.root,
                                                   manifest=train.manifest),
                     features=pool.features, radiomics_backend=pool.radiomics_backend)
    version = pool.features.meta.get("library_version") if pool.features is not None else None
    train_sizes = [len(s.train) for s in splits]
    info = {
        "train": str(train.root), "test": f"{protocol['protocol']} of the same dataset",
        "n_train_pool": int(min(train_sizes)), "n_test": int(len(scored)),
        "test_keloid": int(pool.cases.y[scored].sum()), "n_cases": int(len(pool.cases.y)),
        "sizes": result.sizes, "repeats": repeats, "radiomics_backend": pool.radiomics_backend, "seed": seed,
        "timings": {"load_s": load_s, "cross_validation_s": round(time.perf_counter() - clock, 1)},
        **protocol, **describe_data(pool), **(dataset_info or {}),
    }
    return EvaluationRun(result=result, pool=pool, test=test, library_version=version, dataset=info,
                         provenance=_provenance(library, version, data=train), subgroups=_check_subgroups(subgroups, pool),
                         library=library)


def _check_subgroups(columns: list[str] | None, loaded: Any) -> list[str]:
    """The declared subgroup columns, each checked to exist in the scored set's manifest."""
    from scafe.errors import DataError
    from scafe.evaluation.describe import columns_of, manifest_of

    have = columns_of(loaded) | {"patient_id", "split"}
    for column in columns or []:
        if column not in have:
            raise DataError(f"subgroup column {column!r} is not in {manifest_of(loaded)}; its columns are "
                            f"{', '.join(sorted(have))}. Add the column or drop --subgroup {column}.")
    return list(columns or [])


def labels_of_cases(dataset: Any) -> Any:
    """0/1 labels of a loaded dataset's cases (1 = keloid)."""
    from scafe.classifier import encode_labels

    return encode_labels([str(c.label) for c in dataset.cases])


def _provenance(library: Any, version: str | None, **datasets: Any) -> dict[str, Any]:
    from scafe.classifier import DEFAULT_PARAMS
    from scafe.evaluation.provenance import provenance

    return provenance(datasets=datasets, library=library, library_version=version,
                      settings={"classifier": "XGBoost (scafe.classifier.ScarClassifier)", **DEFAULT_PARAMS})
