r"""Usefulness of an accepted extractor on *training* phantoms (never the test split).

Reported and used to rank, never used to reject. The default training task is the ``hard``
phantom profile (wider skin-tone, illumination and camera ranges) of family A; ``family="b"``
uses the independent renderer. Measured (``benchmarks/usefulness.py``, leave-one-out over the 9
active entries, n=160 at 128 px): the rest of the library reaches AUC 0.94-0.95 on family A and
about 0.70 on family B, so ΔAUC is no longer exactly 0 (it was +0.000 for 27 of 28 features in
issue 11; now 0 of 9 on family A, 1 of 9 on family B hard), but no single entry's 95% interval
excludes 0 at this n: the entries are largely redundant with one another (max |rho| 0.27-0.97).
Where a base leaves clear headroom (true lesion height alone, AUC ~0.6) the estimate separates a
useful feature from noise and from a near-duplicate (``tests/agents/test_usefulness.py``).

1. **Nested repeated cross-validation.** Outer loop: ``repeats`` × ``folds`` stratified splits.
   In each outer training part an inner ``inner_folds``-fold CV picks the XGBoost capacity from
   :data:`GRID` by log-loss, the picked model is refitted on the whole outer training part and
   scored on the outer test part -- once with the active library's features (*without*) and once
   with the candidate's outputs added (*with*), on the same splits. Per split ``j``:
   :math:`d^{AUC}_j = \mathrm{AUC}^{with}_j - \mathrm{AUC}^{without}_j` and
   :math:`d^{LL}_j = \mathrm{LL}^{with}_j - \mathrm{LL}^{without}_j` (log-loss, nats; *negative*
   is better). Over :math:`J = R \cdot K` splits the mean :math:`\bar d` gets a 95% interval with
   the Nadeau–Bengio correction for overlapping training sets,

   .. math:: \hat\sigma^2 = \left(\frac{1}{J} + \frac{n_{test}}{n_{train}}\right) s_d^2,\qquad
             \mathrm{CI}_{95} = \bar d \pm t_{J-1,\,0.975}\,\hat\sigma .

   Log-loss still moves when AUC is saturated (better-calibrated, more confident correct
   predictions), so ``delta_log_loss`` is informative where ΔAUC is not. With no active feature
   the *without* model is the training prevalence (AUC 0.5).
2. **Redundancy**: :math:`\max_c |\rho_S(f, c)|` over the active features' columns ``c`` (Spearman),
   and which column it is.

:func:`usefulness_score` (``-delta_log_loss``, information gained in nats per case) orders
candidates; :func:`rank_candidates` sorts a batch by it.

Training phantoms use their own seed (``TRAIN_SEED``), distinct from the criterion tests'
validation set. Active features are computed once per (active set, phantom set) and cached.
Feature columns are namespaced ``<extractor>.<key>`` (``scafe.extraction.table.column_name``).
"""

from __future__ import annotations

import hashlib
import inspect
import io
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scafe.errors import ScafeError
from scafe.extraction.table import column_name, split_column
from scafe.library.store import atomic_write
from scafe.paths import cache_dir

TRAIN_SEED = 2026_1122  # differs from scafe.criterion_tests.VALIDATION_SEED on purpose
CANDIDATE = "candidate"  # namespace of the candidate's columns when its name is not known
#: XGBoost capacities the inner CV chooses from: (max_depth, n_estimators), learning rate 0.15.
GRID = ((1, 30), (2, 30), (2, 80))
EPS = 1e-6  # probabilities are clipped to [EPS, 1 - EPS] before the log-loss


@dataclass(frozen=True)
class UsefulnessSettings:
    """The training task and the CV design (see the module docstring).

    ``n`` phantoms of ``size`` px from ``profile`` and phantom ``family``; ``repeats`` × ``folds``
    outer splits, ``inner_folds`` inner splits for the capacity choice.
    """

    n: int = 160
    size: int = 128
    seed: int = TRAIN_SEED
    repeats: int = 5
    folds: int = 2
    profile: str = "hard"
    family: str = "a"
    inner_folds: int = 3


@dataclass(frozen=True)
class TrainingSet:
    """Training phantoms as arrays, their labels (1 = keloid) and their true latent variables."""

    ids: list[str]
    images: list[np.ndarray]
    masks: list[np.ndarray]
    y: np.ndarray
    latents: pd.DataFrame


def _render(index: int, settings: UsefulnessSettings) -> Any:
    from scafe.data.phantoms import render_phantom

    kwargs: dict[str, Any] = {"seed": settings.seed, "size": settings.size, "profile": settings.profile}
    if "family" in inspect.signature(render_phantom).parameters:
        kwargs["family"] = settings.family
    elif settings.family != "a":
        raise ScafeError(f"phantom family {settings.family!r} is not available in this version of "
                         "scafe.data.phantoms (only family 'a'); use family='a'")
    return render_phantom(index, **kwargs)


def _phantom_tag(settings: UsefulnessSettings) -> str:
    """The phantom cache key (includes a hash of the rendering code): a renderer change re-renders."""
    from scafe.data import phantoms

    if "family" not in inspect.signature(phantoms.cache_key).parameters:
        if settings.family != "a":
            raise ScafeError(f"phantom family {settings.family!r} is not available in this version of "
                             "scafe.data.phantoms (only family 'a'); use family='a'")
        return str(phantoms.cache_key(settings.n, settings.seed, settings.size, settings.profile, 0.5))
    extra = {"family": settings.family}
    return str(phantoms.cache_key(settings.n, settings.seed, settings.size, settings.profile, 0.5, **extra))


@lru_cache(maxsize=2)
def training_set(settings: UsefulnessSettings) -> TrainingSet:
    """Render (or load from ``cache_dir()``) the training phantoms for ``settings``."""
    path = cache_dir() / f"usefulness-train-{_phantom_tag(settings)}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                latents = pd.DataFrame(data["latents"], columns=[str(c) for c in data["latent_names"]],
                                       index=pd.Index([str(i) for i in data["ids"]], name="id"))
                return TrainingSet([str(i) for i in data["ids"]], list(data["images"]), list(data["masks"]),
                                   data["y"].astype(int), latents)  # fmt: skip
        except (OSError, KeyError, ValueError):
            path.unlink(missing_ok=True)  # corrupt or from an older layout: render again
    phantoms = [_render(i, settings) for i in range(settings.n)]
    ids = [p.id for p in phantoms]
    images = [np.ascontiguousarray(p.image, dtype=np.uint8) for p in phantoms]
    masks = [np.ascontiguousarray(p.mask, dtype=bool) for p in phantoms]
    y = np.array([1 if p.label == "keloid" else 0 for p in phantoms])
    latents = pd.DataFrame([p.latents for p in phantoms], index=pd.Index(ids, name="id")).astype(float)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, ids=np.array(ids), images=np.stack(images), masks=np.stack(masks), y=y,
                        latents=latents.to_numpy(), latent_names=np.array(list(latents.columns)))
    atomic_write(path, buffer.getvalue())  # items evaluated in parallel may render the same set at once
    return TrainingSet(ids, images, masks, y, latents)


def run_extractor(source: str, data: TrainingSet) -> pd.DataFrame:
    """All outputs of one extractor on the training set (bare keys; failed cells NaN), in the sandbox."""
    from sandbox import ExtractorRunner, Outcome

    rows: list[dict[str, float]] = []
    with ExtractorRunner(source) as runner:
        for result in runner.run_many(list(zip(data.images, data.masks, strict=True))):
            ok = result.outcome == Outcome.ok and result.features is not None
            rows.append(dict(result.features) if ok else {})  # type: ignore[arg-type]
    return pd.DataFrame(rows, index=pd.Index(data.ids, name="id")).astype(float)


def active_identity(library: Any, settings: UsefulnessSettings) -> str:
    """Digest of the active set (names, versions, source hashes), the settings and the renderer code."""
    active = sorted(library.active(), key=lambda e: (e.name, e.version))
    identity = "|".join(f"{e.name}:{e.version}:{e.sha256}" for e in active)
    return hashlib.sha256(f"{identity}|{settings}|{_phantom_tag(settings)}".encode()).hexdigest()[:20]


def active_features(library: Any, settings: UsefulnessSettings) -> pd.DataFrame:
    """Outputs of every active entry on the training set, columns ``<extractor>.<key>``, cached."""
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
        frame = frame[[c for c in entry.outputs if c in frame.columns]]
        frames.append(frame.rename(columns={k: column_name(entry.name, k) for k in frame.columns}))
    table = pd.concat(frames, axis=1)
    atomic_write(path, table.to_csv().encode("utf-8"))
    return table


def _model(depth: int, rounds: int) -> Any:
    from xgboost import XGBClassifier

    # small, fixed, single-threaded: the estimate must be cheap and reproducible, not optimal
    return XGBClassifier(n_estimators=rounds, max_depth=depth, learning_rate=0.15, n_jobs=1, verbosity=0,
                         random_state=0, tree_method="hist", max_bin=64)  # fmt: skip


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _fit_nested(X: np.ndarray, y: np.ndarray, inner_folds: int, seed: int) -> Any:
    """The :data:`GRID` capacity with the lowest inner-CV log-loss, refitted on all of ``X``."""
    from sklearn.model_selection import StratifiedKFold

    folds = min(inner_folds, int(np.bincount(y, minlength=2).min()))
    best, best_loss = GRID[0], np.inf
    if folds >= 2:
        inner = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, y))
        for depth, rounds in GRID:
            losses = [_log_loss(y[te], _model(depth, rounds).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1])
                      for tr, te in inner]
            if float(np.mean(losses)) < best_loss - 1e-12:
                best, best_loss = (depth, rounds), float(np.mean(losses))
    return _model(*best).fit(X, y)


def _interval(d: np.ndarray, n_train: int, n_test: int) -> tuple[float, list[float]]:
    """Mean and Nadeau–Bengio-corrected 95% t-interval of per-split differences ``d``."""
    j = len(d)
    if j < 2:
        return float(d.mean()), [float("nan"), float("nan")]
    variance = (1.0 / j + n_test / n_train) * d.var(ddof=1)
    half = float(stats.t.ppf(0.975, j - 1) * np.sqrt(variance))
    return float(d.mean()), [float(d.mean() - half), float(d.mean() + half)]


# The *without* arm depends only on the base features and the splits, not on the candidate:
# computed once per (base identity, settings) and reused for every candidate of a run.
_BASE_CACHE: dict[tuple[str, UsefulnessSettings], list[tuple[float, float]]] = {}


def nested_cv_delta(base: np.ndarray | None, new: np.ndarray, y: np.ndarray, settings: UsefulnessSettings,
                    *, base_key: str | None = None) -> dict[str, Any]:
    """ΔAUC and Δlog-loss of ``[base, new]`` over ``base`` by nested repeated CV (module docstring).

    ``base_key`` identifies ``base`` (e.g. :func:`active_identity`) so its per-split scores are
    computed once and reused; ``None`` disables the reuse.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import RepeatedStratifiedKFold

    y = np.asarray(y).astype(int)
    if len(np.unique(y)) < 2:
        raise ScafeError("usefulness needs both classes among the training phantoms; raise UsefulnessSettings.n")
    no_base = base is None or base.shape[1] == 0
    with_new = new if no_base else np.hstack([base, new])  # type: ignore[list-item]
    splitter = RepeatedStratifiedKFold(n_splits=settings.folds, n_repeats=settings.repeats, random_state=0)
    cached = _BASE_CACHE.get((base_key, settings)) if base_key is not None else None
    rows, without, n_train, n_test = [], [], 0, 0
    new_share = []  # share of the with-model's total gain on the new columns (0 = never used)
    for split, (train, test) in enumerate(splitter.split(with_new, y)):
        n_train, n_test = len(train), len(test)
        model = _fit_nested(with_new[train], y[train], settings.inner_folds, seed=split)
        p_with = model.predict_proba(with_new[test])[:, 1]
        importances = np.nan_to_num(model.feature_importances_)
        new_share.append(float(importances[-new.shape[1]:].sum() / max(importances.sum(), 1e-12)))
        if cached is not None:
            auc_without, ll_without = cached[split]
        elif no_base:
            auc_without, ll_without = 0.5, _log_loss(y[test], np.full(len(test), y[train].mean()))
        else:
            base_model = _fit_nested(base[train], y[train], settings.inner_folds, seed=split)  # type: ignore[index]
            p_without = base_model.predict_proba(base[test])[:, 1]  # type: ignore[index]
            auc_without, ll_without = float(roc_auc_score(y[test], p_without)), _log_loss(y[test], p_without)
        without.append((auc_without, ll_without))
        rows.append((float(roc_auc_score(y[test], p_with)), _log_loss(y[test], p_with), auc_without, ll_without))
    if base_key is not None and cached is None:
        _BASE_CACHE[(base_key, settings)] = without
    scores = np.asarray(rows)
    delta_auc, auc_ci = _interval(scores[:, 0] - scores[:, 2], n_train, n_test)
    delta_ll, ll_ci = _interval(scores[:, 1] - scores[:, 3], n_train, n_test)
    return {
        "delta_auc": delta_auc,
        "delta_auc_ci": auc_ci,
        "delta_log_loss": delta_ll,
        "delta_log_loss_ci": ll_ci,
        "auc_with": float(scores[:, 0].mean()),
        "auc_without": float(scores[:, 2].mean()),
        "log_loss_with": float(scores[:, 1].mean()),
        "log_loss_without": float(scores[:, 3].mean()),
        "new_feature_gain_share": float(np.mean(new_share)),
        "splits": len(rows),
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


def score_columns(active: pd.DataFrame, new: pd.DataFrame, y: np.ndarray, main: str,
                  settings: UsefulnessSettings, *, base_key: str | None = None) -> dict[str, Any]:
    """Usefulness of the columns ``new`` over ``active`` (same index) for labels ``y``.

    ``main`` is the column of ``new`` whose redundancy is reported. The engine behind
    :func:`evaluate_usefulness`, usable on any feature frames (the tests use phantom latents).
    """
    if main not in new.columns:
        raise ScafeError(f"output {main!r} missing on the training phantoms; got {list(new.columns)}")
    cv = nested_cv_delta(active.to_numpy(float) if active.shape[1] else None, new.to_numpy(float), y, settings,
                         base_key=base_key)  # fmt: skip
    max_rho, with_column = redundancy(new[main], active)
    return {**cv, "redundancy_max_abs_rho": max_rho, "redundant_with": with_column,
            "n_active_features": int(active.shape[1])}


def usefulness_score(result: dict[str, Any]) -> float:
    """Information a candidate adds: ``-delta_log_loss`` (nats per case; > 0 helps, <= 0 does not)."""
    value = result.get("delta_log_loss")
    return -float(value) if value is not None and np.isfinite(value) else float("-inf")


def rank_candidates(results: dict[str, dict[str, Any]]) -> list[str]:
    """Names of ``results`` from most to least useful (:func:`usefulness_score`, then ΔAUC)."""
    return sorted(results, key=lambda k: (usefulness_score(results[k]), results[k].get("delta_auc") or 0.0),
                  reverse=True)


def evaluate_usefulness(source: str, output_key: str, library: Any, settings: UsefulnessSettings | None = None,
                        *, name: str | None = None) -> dict[str, Any]:
    """Score one extractor: ΔAUC and Δlog-loss (with CIs) over the active library, and redundancy.

    ``name`` is the extractor's library name: its active version's columns are left out of the
    base (a new version replaces its old self).
    """
    settings = settings or UsefulnessSettings()
    started = time.perf_counter()
    data = training_set(settings)
    raw = run_extractor(source, data)
    namespace = name or CANDIDATE
    new = raw.rename(columns={k: column_name(namespace, k) for k in raw.columns})
    active = active_features(library, settings).reindex(new.index)
    replaced = sorted(c for c in active.columns if split_column(c)[0] == namespace)
    active = active.drop(columns=replaced)
    base_key = active_identity(library, settings) + "|-" + ",".join(replaced)
    if output_key not in raw.columns:
        raise ScafeError(f"output {output_key!r} missing on the training phantoms; got {list(raw.columns)}")
    scores = score_columns(active, new, data.y, column_name(namespace, output_key), settings, base_key=base_key)
    return {
        **scores,
        "usefulness_score": usefulness_score(scores),
        "n_phantoms": settings.n,
        "phantom_size": settings.size,
        "profile": settings.profile,
        "family": settings.family,
        "seconds": round(time.perf_counter() - started, 3),
    }
