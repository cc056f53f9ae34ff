"""The keloid-vs-hypertrophic classifier: XGBoost on library features, with TreeSHAP explanations.

Defaults are chosen for tens to hundreds of cases (seed 000's regime):

- shallow trees (``max_depth=3``), learning rate 0.1, row/column subsampling 0.8: little variance;
- class weights: ``scale_pos_weight = n_hypertrophic / n_keloid`` so both classes weigh the same;
- early stopping on an inner stratified 20% split (patience 20 rounds) picks the number of
  rounds, then the model is refitted on *all* training cases with that many rounds (with 20 cases
  a held-out 20% is too precious to leave unused). Below ``MIN_INNER`` cases per class in the
  inner split the fixed default ``n_estimators`` is used instead;
- fixed seed, ``n_jobs=1`` (results do not depend on the machine's core count).

Explanations are exact TreeSHAP values from XGBoost's ``pred_contribs``: for case ``x``,
``logit p(keloid | x) = bias + sum_j phi_j(x)``; a positive ``phi_j`` pushes towards keloid.
Each is named by its feature *and* its criterion item, from the feature table's meta, e.g.
``rim_erythema.rim_erythema_delta_a: rim erythema (JSW) +0.31 → keloid`` (library columns are
namespaced ``<extractor>.<key>``, see ``scafe.extraction.table``).

A saved model directory holds ``model.json`` (the booster) and ``meta.json`` (library version,
feature names and their extractor versions and criterion items, parameters; format
``scafe-classifier/2``: a ``/1`` model predates namespaced columns and is refused with the fix,
retrain). A feature table from
an incompatible library (a feature missing, or computed by another extractor version) is refused
with a clear message unless ``allow_missing`` is set, in which case the missing columns are NaN
(XGBoost's learned default direction) and listed in the returned report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from scafe.errors import ModelError

LABELS = ("hypertrophic", "keloid")  # index = encoded class; 1 = keloid is the positive class
MIN_INNER = 2  # cases per class needed in the inner split before early stopping is trusted
DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 200,
    "learning_rate": 0.1,
    "max_depth": 3,
    "min_child_weight": 1.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "tree_method": "hist",
    "n_jobs": 1,
    "random_state": 0,
}
EARLY_STOPPING_ROUNDS = 20
MODEL_FORMAT = "scafe-classifier/2"  # /2: library feature columns are namespaced <extractor>.<key>
INNER_FRACTION = 0.2


def encode_labels(labels: pd.Series | np.ndarray | list[str]) -> np.ndarray:
    """Map ``keloid``/``hypertrophic`` (or 1/0) to 1/0; raise ``ModelError`` naming bad values."""
    arr = np.asarray(labels)
    if arr.dtype.kind in "iub":
        bad = set(np.unique(arr)) - {0, 1}
        if bad:
            raise ModelError(f"Numeric labels must be 0 (hypertrophic) or 1 (keloid); got {sorted(bad)}.")
        return arr.astype(int)
    low = np.char.lower(arr.astype(str))
    bad = set(np.unique(low)) - set(LABELS)
    if bad:
        raise ModelError(
            f"Labels must be 'keloid' or 'hypertrophic'; got {sorted(bad)[:5]}. Fix the manifest's label column."
        )
    return (low == "keloid").astype(int)


def training_rows(frame: pd.DataFrame, labels: pd.Series) -> tuple[pd.DataFrame, pd.Series, list[tuple[int, str, str]]]:
    """The rows of a feature table that can be trained on, their labels, and every other row.

    ``labels`` maps id -> label (a manifest's ``label`` column indexed by ``id``; ids may repeat).
    Returns ``(X, y, bad)`` where ``bad`` holds ``(row, id, reason)`` (``row``: 1-based data row of
    the feature table) for rows with no label, an empty or unknown label (not keloid/hypertrophic,
    0/1), or an id listed with two different labels. Nothing is dropped silently: the caller
    refuses ``bad`` or writes it down (``scafe train --skip-bad``).
    """
    clean = labels.dropna().astype(str).str.strip()
    by_id: dict[str, set[str]] = {}
    for case_id, label in clean.items():
        by_id.setdefault(str(case_id), set()).add(label)
    bad: list[tuple[int, str, str]] = []
    keep: list[str] = []
    values: list[str] = []
    allowed = {*LABELS, "0", "1"}
    for row, case_id in enumerate(frame.index, start=1):
        found = by_id.get(str(case_id))
        if not found:
            bad.append((row, str(case_id), "no label in the manifest (no row with this id, or an empty label)"))
        elif len(found) > 1:
            bad.append((row, str(case_id), f"listed with different labels {sorted(found)}"))
        elif next(iter(found)).lower() not in allowed:
            bad.append((row, str(case_id), f"unknown label {next(iter(found))!r}; allowed: keloid, hypertrophic"))
        else:
            keep.append(case_id)
            values.append(next(iter(found)).lower())
    y = pd.Series(values, index=pd.Index(keep, name=frame.index.name), name="label")
    y = y.replace({"1": "keloid", "0": "hypertrophic"})
    return frame.loc[keep], y, bad


def _xgb(params: dict[str, Any]):
    import xgboost as xgb

    return xgb.XGBClassifier(objective="binary:logistic", eval_metric="logloss", **params)


@dataclass
class Compatibility:
    """What a feature table lacks relative to a trained model."""

    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # same column, other extractor version
    library_version_differs: bool = False

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed


class ScarClassifier(ClassifierMixin, BaseEstimator):
    """XGBoost keloid classifier with class weights, inner early stopping and TreeSHAP.

    Parameters
    ----------
    params : overrides of :data:`DEFAULT_PARAMS` (XGBoost keyword arguments).
    early_stopping : pick the number of rounds on an inner split (see module docstring).
    """

    def __init__(self, params: dict[str, Any] | None = None, early_stopping: bool = True) -> None:
        self.params = params
        self.early_stopping = early_stopping

    # ----------------------------------------------------------------- fitting
    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray | pd.Series,
        *,
        feature_meta: dict[str, dict[str, Any]] | None = None,
        library_version: str | None = None,
    ) -> ScarClassifier:
        """Fit on a feature frame (one column per feature) and 0/1 or string labels."""
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X), columns=[f"f{i}" for i in range(np.shape(X)[1])])
        y_raw = np.asarray(y)
        y_enc = encode_labels(y_raw)
        # predict() answers in the caller's vocabulary: 0/1 in, 0/1 out; strings in, strings out
        self.classes_ = np.array([0, 1]) if y_raw.dtype.kind in "iub" else np.array(LABELS)
        if len(X) != len(y_enc):
            raise ModelError(f"The feature table has {len(X)} rows but there are {len(y_enc)} labels.")
        counts = np.bincount(y_enc, minlength=2)
        if counts.min() == 0:
            raise ModelError(
                f"Training needs both classes; got {counts[1]} keloid and {counts[0]} hypertrophic cases."
            )
        params = {**DEFAULT_PARAMS, **(self.params or {})}
        params["scale_pos_weight"] = float(counts[0] / counts[1])
        Xv = X.to_numpy(dtype=float)
        self.n_rounds_ = int(params["n_estimators"])
        if self.early_stopping:
            self.n_rounds_ = self._rounds_by_early_stopping(Xv, y_enc, params)
        params["n_estimators"] = self.n_rounds_
        self.model_ = _xgb(params).fit(Xv, y_enc)
        self.params_ = params
        self.feature_names_ = [str(c) for c in X.columns]
        self.feature_meta_ = {c: dict((feature_meta or {}).get(c, {})) for c in self.feature_names_}
        self.library_version_ = library_version
        self.n_train_ = {"keloid": int(counts[1]), "hypertrophic": int(counts[0])}
        return self

    def _rounds_by_early_stopping(self, X: np.ndarray, y: np.ndarray, params: dict[str, Any]) -> int:
        from sklearn.model_selection import train_test_split

        n_inner = int(round(INNER_FRACTION * len(y)))
        if min(np.bincount(y, minlength=2)) < 2 * MIN_INNER or n_inner < 2 * MIN_INNER:
            return int(params["n_estimators"])
        tr, va = train_test_split(
            np.arange(len(y)), test_size=n_inner, stratify=y, random_state=params["random_state"]
        )
        if min(np.bincount(y[va], minlength=2)) < MIN_INNER:
            return int(params["n_estimators"])
        model = _xgb({**params, "early_stopping_rounds": EARLY_STOPPING_ROUNDS})
        model.fit(X[tr], y[tr], eval_set=[(X[va], y[va])], verbose=False)
        # best_iteration is 0-based; a floor of 10 rounds avoids a degenerate stump model
        return max(10, int(model.best_iteration) + 1)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ModelError("This ScarClassifier is not fitted yet: call fit() or ScarClassifier.load(dir).")

    # -------------------------------------------------------------- prediction
    def align(self, X: pd.DataFrame, *, feature_meta: dict | None = None, library_version: str | None = None,
              allow_missing: bool = False) -> tuple[pd.DataFrame, Compatibility]:
        """Reorder ``X`` to the training features; refuse or NaN-fill an incompatible table."""
        self._check_fitted()
        comp = Compatibility(
            library_version_differs=bool(library_version and self.library_version_
                                         and library_version != self.library_version_)
        )
        comp.missing = [c for c in self.feature_names_ if c not in X.columns]
        if feature_meta:
            for c in self.feature_names_:
                ours, theirs = self.feature_meta_.get(c, {}), feature_meta.get(c, {})
                keys = ("extractor", "version")
                if c in X.columns and all(k in ours and k in theirs for k in keys) and any(
                    ours[k] != theirs[k] for k in keys
                ):
                    comp.changed.append(c)
        if not comp.ok and not allow_missing:
            detail = []
            if comp.missing:
                detail.append(f"missing features {comp.missing[:8]}")
            if comp.changed:
                detail.append(f"features computed by another extractor version {comp.changed[:8]}")
            raise ModelError(
                f"The feature table (library {library_version or 'unknown'}) is incompatible with the model "
                f"(trained on library {self.library_version_ or 'unknown'}): {'; '.join(detail)}. "
                "Re-extract with the model's library, retrain, or pass --allow-missing to continue with NaN."
            )
        out = X.reindex(columns=self.feature_names_).astype(float)
        if comp.changed:
            out[comp.changed] = np.nan  # a changed extractor's numbers mean something else
        return out, comp

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``(n, 2)`` probabilities, columns ordered as :data:`LABELS` (hypertrophic, keloid)."""
        self._check_fitted()
        Xa = X.reindex(columns=self.feature_names_) if isinstance(X, pd.DataFrame) else X
        return self.model_.predict_proba(np.asarray(Xa, dtype=float))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted labels (keloid when p(keloid) >= 0.5), in the label form ``fit`` was given."""
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """TreeSHAP contributions to the keloid log-odds, one column per feature plus ``bias``."""
        import xgboost as xgb

        self._check_fitted()
        Xa = X.reindex(columns=self.feature_names_) if isinstance(X, pd.DataFrame) else X
        dm = xgb.DMatrix(np.asarray(Xa, dtype=float), feature_names=None)
        phi = self.model_.get_booster().predict(dm, pred_contribs=True)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(phi, columns=[*self.feature_names_, "bias"], index=index)

    def describe_feature(self, name: str) -> str:
        """``feature: item name (SCALE)`` when the meta knows the criterion item, else the name."""
        meta = self.feature_meta_.get(name, {})
        item = meta.get("item_name") or meta.get("item")
        scale = meta.get("scale")
        if item and scale:
            return f"{name}: {item} ({str(scale).upper()})"
        return f"{name}: {item}" if item else name

    def explain(self, X: pd.DataFrame, top: int = 3) -> list[list[str]]:
        """Per case, the ``top`` largest |contribution| phrased as ``'<feature: item (SCALE)> +0.31 → keloid'``."""
        phi = self.contributions(X).drop(columns="bias")
        out: list[list[str]] = []
        for _, row in phi.iterrows():
            order = np.argsort(-np.abs(row.to_numpy()))[:top]
            lines = []
            for j in order:
                v = float(row.iloc[j])
                lines.append(f"{self.describe_feature(phi.columns[j])} {v:+.2f} → {LABELS[int(v > 0)]}")
            out.append(lines)
        return out

    def importances(self, X: pd.DataFrame) -> pd.Series:
        """Mean |TreeSHAP| per feature over ``X`` (log-odds units), largest first."""
        phi = self.contributions(X).drop(columns="bias")
        return phi.abs().mean().sort_values(ascending=False)

    # --------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> Path:
        """Write ``model.json`` and ``meta.json`` into ``directory`` (created)."""
        self._check_fitted()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.model_.save_model(d / "model.json")
        meta = {
            "format": MODEL_FORMAT,
            "library_version": self.library_version_,
            "feature_names": self.feature_names_,
            "features": self.feature_meta_,
            "labels": list(LABELS),
            "params": self.params_,
            "n_rounds": self.n_rounds_,
            "n_train": self.n_train_,
        }
        (d / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
        return d

    @classmethod
    def load(cls, directory: str | Path) -> ScarClassifier:
        """Load a directory written by :meth:`save`; ``ModelError`` if it is not one."""
        d = Path(directory)
        meta_path, model_path = d / "meta.json", d / "model.json"
        if not meta_path.is_file() or not model_path.is_file():
            raise ModelError(
                f"{str(d)!r} is not a model directory (needs model.json and meta.json); create one with `scafe train`."
            )
        meta = json.loads(meta_path.read_text())
        if meta.get("format") == "scafe-classifier/1":
            names = ", ".join(str(n) for n in meta.get("feature_names", [])[:3])
            raise ModelError(f"{str(d)!r} was trained before feature columns became '<extractor>.<key>' "
                             f"(its features: {names}, ...). Re-extract the training data (`scafe extract`) "
                             "and retrain (`scafe train`).")
        if meta.get("format") != MODEL_FORMAT:
            raise ModelError(f"{str(meta_path)!r} has format {meta.get('format')!r}; expected {MODEL_FORMAT!r}.")
        obj = cls(params=meta["params"], early_stopping=False)
        obj.model_ = _xgb({k: v for k, v in meta["params"].items() if k != "scale_pos_weight"})
        obj.model_.load_model(model_path)
        obj.params_ = meta["params"]
        obj.n_rounds_ = meta["n_rounds"]
        obj.feature_names_ = meta["feature_names"]
        obj.feature_meta_ = meta["features"]
        obj.library_version_ = meta["library_version"]
        obj.n_train_ = meta["n_train"]
        obj.classes_ = np.array(LABELS)
        return obj
