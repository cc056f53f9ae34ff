r"""Usefulness of an accepted extractor on *training* phantoms (never the test split).

Two numbers, both reported and used to rank, neither used to reject:

1. **ΔAUC with a confidence interval** from paired repeated stratified cross-validation: on the
   same splits, an XGBoost classifier (keloid vs hypertrophic) is trained on the active library's
   features *without* and *with* the new extractor's outputs; the per-split difference
   :math:`d_j = \mathrm{AUC}^{with}_j - \mathrm{AUC}^{without}_j` over :math:`J = R \cdot K`
   splits (``repeats`` × ``folds``) gives :math:`\bar d` and, with the Nadeau–Bengio correction
   for overlapping training sets,

   .. math:: \hat\sigma^2 = \left(\frac{1}{J} + \frac{n_{test}}{n_{train}}\right) s_d^2,\qquad
             \mathrm{CI}_{95} = \bar d \pm t_{J-1,\,0.975}\,\hat\sigma .

   With no active features the baseline is a constant predictor (AUC 0.5).
   ``new_feature_gain_share`` (mean share of the with-model's gain on the new columns) tells a
   ΔAUC of exactly 0 because the trees never used the feature apart from one that did not help.
2. **Redundancy**: :math:`\max_c |\rho_S(f, c)|` over the active features' columns ``c`` (Spearman),
   and which column it is.

Training phantoms use their own seed (``TRAIN_SEED``), distinct from the criterion tests'
validation set. Active features are computed once per (active set, phantom set) and cached.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scafe.errors import ScafeError
from scafe.paths import cache_dir

TRAIN_SEED = 2026_1122  # differs from scafe.criterion_tests.VALIDATION_SEED on purpose


@dataclass(frozen=True)
class UsefulnessSettings:
    """Size of the usefulness estimate: ``n`` phantoms of ``size`` px, ``repeats`` × ``folds`` CV."""

    n: int = 100
    size: int = 128
    seed: int = TRAIN_SEED
    repeats: int = 5
    folds: int = 2


@dataclass(frozen=True)
class TrainingSet:
    """Training phantoms as arrays plus their labels (1 = keloid)."""

    ids: list[str]
    images: list[np.ndarray]
    masks: list[np.ndarray]
    y: np.ndarray


@lru_cache(maxsize=2)
def training_set(settings: UsefulnessSettings) -> TrainingSet:
    """Render (or load from ``cache_dir()``) the training phantoms for ``settings``."""
    path = cache_dir() / f"usefulness-train-n{settings.n}-s{settings.seed}-px{settings.size}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                return TrainingSet([str(i) for i in data["ids"]], list(data["images"]), list(data["masks"]),
                                   data["y"].astype(int))  # fmt: skip
        except (OSError, KeyError, ValueError):
            path.unlink(missing_ok=True)  # corrupt: render again
    from scafe.data.phantoms import render_phantom

    phantoms = [render_phantom(i, seed=settings.seed, size=settings.size) for i in range(settings.n)]
    ids = [p.id for p in phantoms]
    images = [np.ascontiguousarray(p.image, dtype=np.uint8) for p in phantoms]
    masks = [np.ascontiguousarray(p.mask, dtype=bool) for p in phantoms]
    y = np.array([1 if p.label == "keloid" else 0 for p in phantoms])
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, ids=np.array(ids), images=np.stack(images), masks=np.stack(masks), y=y)
    tmp.replace(path)
    return TrainingSet(ids, images, masks, y)


def run_extractor(source: str, data: TrainingSet) -> pd.DataFrame:
    """All outputs of one extractor on the training set (failed cells are NaN), in the sandbox."""
    from sandbox import ExtractorRunner, Outcome

    rows: list[dict[str, float]] = []
    with ExtractorRunner(source) as runner:
        for result in runner.run_many(list(zip(data.images, data.masks, strict=True))):
            ok = result.outcome == Outcome.ok and result.features is not None
            rows.append(dict(result.features) if ok else {})  # type: ignore[arg-type]
    return pd.DataFrame(rows, index=pd.Index(data.ids, name="id")).astype(float)


def active_identity(library: Any, settings: UsefulnessSettings) -> str:
    """Digest of the active set (names, versions, source hashes) and the phantom settings."""
    active = sorted(library.active(), key=lambda e: (e.name, e.version))
    identity = "|".join(f"{e.name}:{e.version}:{e.sha256}" for e in active)
    return hashlib.sha256(f"{identity}|{settings}".encode()).hexdigest()[:20]


def active_features(library: Any, settings: UsefulnessSettings) -> pd.DataFrame:
    """Outputs of every active library entry on the training set, cached by the active set's identity."""
    active = sorted(library.active(), key=lambda e: (e.name, e.version))
    if not active:
        return pd.DataFrame(index=pd.Index(training_set(settings).ids, name="id"))
    for entry in active:  # refuse tampered files even when the values would come from the cache (issue 12)
        library.read_checked(entry)
    digest = active_identity(library, settings)
    path = cache_dir() / "usefulness" / f"active-{digest}.csv"
    if path.is_file():
        return pd.read_csv(path, index_col="id")
    data = training_set(settings)
    frames = []
    for entry in active:
        frame = run_extractor(library.source(entry), data)
        frames.append(frame[[c for c in entry.outputs if c in frame.columns]])
    table = pd.concat(frames, axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.csv")
    table.to_csv(tmp)
    tmp.replace(path)
    return table


def _model() -> Any:
    from xgboost import XGBClassifier

    # small, fixed, single-threaded: the estimate must be cheap and reproducible, not optimal
    return XGBClassifier(n_estimators=40, max_depth=2, learning_rate=0.2, n_jobs=1, verbosity=0,
                         random_state=0, tree_method="hist", max_bin=64)  # fmt: skip


# Baseline AUCs per split depend only on the base features and the splits, not on the candidate:
# computed once per (base identity, settings) and reused for every candidate of a run.
_BASE_AUC_CACHE: dict[tuple[str, UsefulnessSettings], list[float]] = {}


def paired_cv_delta_auc(base: np.ndarray | None, new: np.ndarray, y: np.ndarray,
                        settings: UsefulnessSettings, *, base_key: str | None = None) -> dict[str, Any]:
    """ΔAUC of ``[base, new]`` over ``base`` on the same repeated stratified splits (module docstring).

    ``base_key`` identifies ``base`` (e.g. :func:`active_identity`) so its per-split AUCs are
    computed once and reused; ``None`` disables the reuse.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import RepeatedStratifiedKFold

    if len(np.unique(y)) < 2:
        raise ScafeError("usefulness needs both classes among the training phantoms; raise UsefulnessSettings.n")
    with_new = new if base is None or base.shape[1] == 0 else np.hstack([base, new])
    splitter = RepeatedStratifiedKFold(n_splits=settings.folds, n_repeats=settings.repeats, random_state=0)
    cached = _BASE_AUC_CACHE.get((base_key, settings)) if base_key is not None else None
    deltas, auc_with, auc_without, n_train, n_test = [], [], [], 0, 0
    new_share = []  # share of the with-model's total gain on the new columns (0 = never used)
    for split, (train, test) in enumerate(splitter.split(with_new, y)):
        n_train, n_test = len(train), len(test)
        model = _model().fit(with_new[train], y[train])
        a_with = roc_auc_score(y[test], model.predict_proba(with_new[test])[:, 1])
        importances = np.nan_to_num(model.feature_importances_)
        new_share.append(float(importances[-new.shape[1]:].sum() / max(importances.sum(), 1e-12)))
        if base is None or base.shape[1] == 0:
            a_without = 0.5  # no features: a constant predictor
        elif cached is not None:
            a_without = cached[split]
        else:
            model = _model().fit(base[train], y[train])
            a_without = roc_auc_score(y[test], model.predict_proba(base[test])[:, 1])
        auc_with.append(a_with)
        auc_without.append(a_without)
        deltas.append(a_with - a_without)
    if base_key is not None and cached is None:
        _BASE_AUC_CACHE[(base_key, settings)] = auc_without
    d = np.asarray(deltas)
    j = len(d)
    variance = (1.0 / j + n_test / n_train) * d.var(ddof=1) if j > 1 else 0.0
    half = float(stats.t.ppf(0.975, j - 1) * np.sqrt(variance)) if j > 1 else float("nan")
    return {
        "delta_auc": float(d.mean()),
        "delta_auc_ci": [float(d.mean() - half), float(d.mean() + half)],
        "auc_with": float(np.mean(auc_with)),
        "auc_without": float(np.mean(auc_without)),
        "new_feature_gain_share": float(np.mean(new_share)),
        "splits": j,
    }


def redundancy(values: pd.Series, active: pd.DataFrame) -> tuple[float | None, str | None]:
    """``(max |Spearman|, column)`` of ``values`` against the active columns; ``(None, None)`` if none."""
    best, best_col = None, None
    for column in active.columns:
        pair = pd.concat([values, active[column]], axis=1).dropna()
        if len(pair) < 5 or pair.iloc[:, 0].nunique() < 2 or pair.iloc[:, 1].nunique() < 2:
            continue
        rho = abs(float(stats.spearmanr(pair.iloc[:, 0], pair.iloc[:, 1]).statistic))
        if best is None or rho > best:
            best, best_col = rho, str(column)
    return best, best_col


def evaluate_usefulness(source: str, output_key: str, library: Any,
                        settings: UsefulnessSettings | None = None) -> dict[str, Any]:
    """Score one extractor: ΔAUC (with CI) over the active library and redundancy with it."""
    settings = settings or UsefulnessSettings()
    started = time.perf_counter()
    data = training_set(settings)
    new = run_extractor(source, data)
    if output_key not in new.columns:
        raise ScafeError(f"output {output_key!r} missing on the training phantoms; got {list(new.columns)}")
    active = active_features(library, settings).reindex(new.index)
    overlap = [c for c in active.columns if c in new.columns]
    active = active.drop(columns=overlap)  # a new version of an active extractor replaces its old self
    base_key = active_identity(library, settings) + "|-" + ",".join(sorted(overlap))
    cv = paired_cv_delta_auc(active.to_numpy(float) if active.shape[1] else None, new.to_numpy(float), data.y,
                             settings, base_key=base_key)  # fmt: skip
    max_rho, with_column = redundancy(new[output_key], active)
    return {
        **cv,
        "redundancy_max_abs_rho": max_rho,
        "redundant_with": with_column,
        "n_active_features": int(active.shape[1]),
        "n_phantoms": settings.n,
        "phantom_size": settings.size,
        "seconds": round(time.perf_counter() - started, 3),
    }
