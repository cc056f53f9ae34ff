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
    "METRICS", "EvaluationResult", "EvaluationRun", "binary_metrics", "bootstrap_summary", "evaluate",
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

    @property
    def metrics(self) -> dict[str, Any]:
        """The ``metrics.json`` document."""
        return self.result.to_metrics_json(library_version=self.library_version, dataset=self.dataset)

    def write_metrics(self, path: str | Path) -> Path:
        """Write ``metrics.json`` (indented, NaN-free) and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.metrics, indent=2) + "\n")
        return path


def evaluate(
    train: Any,
    test: Any,
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
    """
    sizes = sizes or [20, 50, 100, 200]
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
        **(dataset_info or {}),
    }
    return EvaluationRun(result=result, pool=pool, test=held, library_version=version, dataset=info)
