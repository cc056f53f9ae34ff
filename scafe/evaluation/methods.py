"""The methods of the evaluation, grouped so work shared between methods is done once.

Method names are fixed (they are the keys of ``metrics.json``)::

    library+xgboost                      ours: the feature library + ScarClassifier
    radiomics+mrmr+{xgboost,rf,gb,svm,nb,lr,mlp}   seed 002: radiomics, mRMR(8), seven models
    cnn                                  a small CNN from scratch (torch extra)
    oracle                               XGBoost on the true latent_* columns (the ceiling)
    nuisance-only                        XGBoost on the nuisance_* columns (must be chance)
    llm-image, llm-features              an LLM as classifier (only with an endpoint)

A *group* maps one training subset (row indices into the pool) to keloid probabilities on the
whole test set for each of its methods; the radiomics group runs mRMR once per subset and feeds
the same 8 features to all seven models, so they differ only by the model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

OURS = "library+xgboost"
RADIOMICS_PREFIX = "radiomics+mrmr+"
ORACLE = "oracle"
NUISANCE = "nuisance-only"
CNN = "cnn"
LLM_IMAGE = "llm-image"
LLM_FEATURES = "llm-features"
NO_ENDPOINT = "no LLM endpoint configured (set OPENAI_BASE_URL, OPENAI_API_KEY and SCAFE_MODEL to run it)"


def method_names() -> list[str]:
    """Every method name, in report order."""
    from scafe.baselines.models import MODEL_NAMES

    return [OURS, *(RADIOMICS_PREFIX + m for m in MODEL_NAMES), CNN, LLM_IMAGE, LLM_FEATURES, ORACLE, NUISANCE]


@dataclass
class CaseSet:
    """One side of an evaluation (the training pool or the fixed test set), rows aligned by ``ids``.

    ``library``/``radiomics``/``latent``/``nuisance`` are DataFrames indexed by id (``None`` when
    unavailable); ``cnn`` is an ``(n, 4, S, S)`` uint8 array or ``None``; ``y`` is 1 for keloid.
    """

    ids: list[str]
    y: np.ndarray
    library: pd.DataFrame | None = None
    radiomics: pd.DataFrame | None = None
    latent: pd.DataFrame | None = None
    nuisance: pd.DataFrame | None = None
    cnn: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.y = np.asarray(self.y).astype(int)
        for name in ("library", "radiomics", "latent", "nuisance"):
            frame = getattr(self, name)
            if frame is not None:
                setattr(self, name, frame.reindex(self.ids))


class Group(Protocol):
    """Produces test-set probabilities for its methods from one training subset."""

    names: list[str]
    zero_shot: bool  # True: does not learn from the training subset (evaluated once)

    def run(self, train_idx: np.ndarray, seed: int) -> dict[str, np.ndarray]: ...


class XGBoostGroup:
    """``ScarClassifier`` on one table (library, latent or nuisance columns)."""

    zero_shot = False

    def __init__(self, name: str, pool: pd.DataFrame, test: pd.DataFrame, y_pool: np.ndarray) -> None:
        self.names = [name]
        self.pool, self.test, self.y_pool = pool, test.reindex(columns=pool.columns), y_pool

    def run(self, train_idx: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        from scafe.classifier import ScarClassifier

        model = ScarClassifier(params={"random_state": seed}).fit(self.pool.iloc[train_idx], self.y_pool[train_idx])
        return {self.names[0]: model.predict_proba(self.test)[:, 1]}


class RadiomicsGroup:
    """mRMR(8) on the training subset, then each model of the seed-002 set."""

    zero_shot = False

    def __init__(self, pool: pd.DataFrame, test: pd.DataFrame, y_pool: np.ndarray, models: list[str]) -> None:
        self.names = [RADIOMICS_PREFIX + m for m in models]
        self.models = models
        self.pool, self.test, self.y_pool = pool, test.reindex(columns=pool.columns), y_pool
        self.selected: Counter[str] = Counter()  # how often mRMR picked each feature (for the report)

    def run(self, train_idx: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        from scafe.baselines.models import fit_predict, mrmr_select

        X = self.pool.iloc[train_idx]
        y = self.y_pool[train_idx]
        cols = mrmr_select(X, y)
        self.selected.update(cols)
        return {
            RADIOMICS_PREFIX + m: fit_predict(m, X[cols], y, self.test[cols], seed=seed) for m in self.models
        }


class CNNGroup:
    """The from-scratch CNN on the ``(n, 4, S, S)`` image+mask arrays."""

    zero_shot = False
    names = [CNN]

    def __init__(self, pool: np.ndarray, test: np.ndarray, y_pool: np.ndarray) -> None:
        self.pool, self.test, self.y_pool = pool, test, y_pool

    def run(self, train_idx: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        from scafe.baselines.cnn import fit_predict_cnn

        return {CNN: fit_predict_cnn(self.pool[train_idx], self.y_pool[train_idx], self.test, seed=seed)}


def build_groups(
    pool: CaseSet,
    test: CaseSet,
    *,
    methods: list[str] | None = None,
    llm_groups: list[Group] | None = None,
    llm_unavailable: str = NO_ENDPOINT,
    library_unavailable: str = "no library feature table (run extraction with an active library)",
) -> tuple[list[Group], list[dict[str, str]]]:
    """The groups that can run on these inputs, and ``skipped`` entries (method, reason) for the rest.

    ``methods`` restricts to a subset of :func:`method_names` (``None`` = all). LLM groups are
    built by the caller (the core never imports ``agents``) and passed in; ``llm_unavailable`` is
    the reason recorded when none is given.
    """
    from scafe.baselines.cnn import cnn_unavailable_reason
    from scafe.baselines.models import MODEL_NAMES

    wanted = set(methods or method_names())
    unknown = wanted - set(method_names())
    if unknown:
        raise ValueError(f"Unknown method(s) {sorted(unknown)}; choose from {method_names()}.")
    groups: list[Group] = []
    skipped: list[dict[str, str]] = []

    def skip(name: str, reason: str) -> None:
        if name in wanted:
            skipped.append({"method": name, "reason": reason})

    tables = [(OURS, pool.library, test.library, library_unavailable),
              (ORACLE, pool.latent, test.latent, "the manifest has no latent_* columns (not a phantom set)"),
              (NUISANCE, pool.nuisance, test.nuisance, "the manifest has no nuisance_* columns (not a phantom set)")]
    for name, p, t, reason in tables:
        if name not in wanted:
            continue
        if p is None or t is None or p.shape[1] == 0:
            skip(name, reason)
        else:
            groups.append(XGBoostGroup(name, p, t, pool.y))
    rad_models = [m for m in MODEL_NAMES if RADIOMICS_PREFIX + m in wanted]
    if rad_models:
        if pool.radiomics is None or test.radiomics is None:
            for m in rad_models:
                skip(RADIOMICS_PREFIX + m, "radiomics features were not computed")
        else:
            groups.append(RadiomicsGroup(pool.radiomics, test.radiomics, pool.y, rad_models))
    if CNN in wanted:
        cnn_reason = cnn_unavailable_reason()
        if cnn_reason:
            skip(CNN, cnn_reason)
        elif pool.cnn is None or test.cnn is None:
            skip(CNN, "no image arrays were prepared for the CNN")
        else:
            groups.append(CNNGroup(pool.cnn, test.cnn, pool.y))
    llm_names = {n for g in (llm_groups or []) for n in g.names}
    groups.extend(g for g in (llm_groups or []) if set(g.names) & wanted)
    for name in (LLM_IMAGE, LLM_FEATURES):
        if name not in llm_names:
            skip(name, llm_unavailable)
    order = method_names()
    groups.sort(key=lambda g: order.index(g.names[0]))  # report order: ours, baselines, references
    return groups, skipped
