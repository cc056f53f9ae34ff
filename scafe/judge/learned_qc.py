"""The learned QC (``descriptors+xgboost``) and the ensemble's notion of "unsure".

Gradient-boosted trees on the trusted descriptors, trained on the benchmark's train split; the
decision threshold is calibrated on that split too (grouped cross-validation, see
:meth:`LearnedQC.fit`), never on the test split.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np

from scafe.judge.descriptors import DESCRIPTOR_NAMES

CALIBRATION_FOLDS = 5
ENSEMBLE_BAND = 0.3  # the ensemble asks the LLM when |P(unacceptable) - threshold| < this
Verdict = dict[str, Any]


class _Case(Protocol):
    descriptors: dict[str, float]
    label: str
    phantom: int


def descriptor_matrix(cases: Iterable[_Case]) -> np.ndarray:
    """Cases x descriptors float matrix in :data:`DESCRIPTOR_NAMES` order (NaN kept)."""
    return np.array([[c.descriptors[k] for k in DESCRIPTOR_NAMES] for c in cases], dtype=np.float64)


class LearnedQC:
    """``descriptors+xgboost``: gradient-boosted trees on the trusted descriptors.

    Trees split on raw descriptor values, so no scaling is needed and NaN (undefined
    descriptors, e.g. the ring of an empty mask) is routed by XGBoost's learned default.
    """

    def __init__(self, *, n_estimators: int = 300, max_depth: int = 4, learning_rate: float = 0.08, seed: int = 0):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.seed = seed

    threshold: float = 0.5  # P(unacceptable) at or above which the verdict is unacceptable (see fit)

    def _model(self) -> Any:
        from xgboost import XGBClassifier

        return XGBClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=0.9,
            colsample_bytree=0.9,
            random_state=self.seed,
            n_jobs=1,  # deterministic and polite on shared cores
            eval_metric="logloss",
        )

    def fit(self, cases: Sequence[_Case], *, calibrate: bool = True) -> LearnedQC:
        """Train on labelled cases; returns ``self``.

        ``calibrate``: choose :attr:`threshold` on the training cases only, from out-of-fold
        probabilities of a 5-fold cross-validation grouped by phantom (cases of one phantom never
        straddle folds): the grid value in 0.20..0.80 (step 0.01) with the best out-of-fold
        accuracy, ties to the one nearest 0.5. ``oof_accuracy_`` and ``oof_accuracy_at_half_``
        record the two accuracies.
        """
        y = np.array([c.label == "unacceptable" for c in cases], dtype=int)
        x = descriptor_matrix(cases)
        self.threshold = 0.5
        groups = np.array([c.phantom for c in cases])
        if calibrate and len(np.unique(groups)) >= CALIBRATION_FOLDS and 0 < y.sum() < len(y):
            from sklearn.model_selection import GroupKFold

            oof = np.zeros(len(y))
            for fit_idx, held in GroupKFold(CALIBRATION_FOLDS).split(x, y, groups):
                oof[held] = self._model().fit(x[fit_idx], y[fit_idx]).predict_proba(x[held])[:, 1]
            grid = np.round(np.arange(0.20, 0.8001, 0.01), 2)
            accs = np.array([np.mean((oof >= t) == y) for t in grid])
            best = np.flatnonzero(accs >= accs.max() - 1e-12)
            self.threshold = float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]])
            self.oof_accuracy_ = float(accs.max())
            self.oof_accuracy_at_half_ = float(np.mean((oof >= 0.5) == y))
            self.oof_proba_ = oof
        self.model_ = self._model().fit(x, y)
        return self

    def predict_proba(self, descriptors: list[dict[str, float]]) -> np.ndarray:
        """P(unacceptable) for each descriptor dict."""
        if not hasattr(self, "model_"):
            from scafe.errors import ModelError

            raise ModelError("LearnedQC is not fitted; call fit(train_cases) first.")
        x = np.array([[d[k] for k in DESCRIPTOR_NAMES] for d in descriptors], dtype=np.float64)
        return self.model_.predict_proba(x)[:, 1]

    def judge(self, descriptors: dict[str, float]) -> Verdict:
        """A verdict dict in the judge's output shape."""
        return qc_verdict(float(self.predict_proba([descriptors])[0]), self.threshold)


def qc_verdict(p: float, threshold: float = 0.5) -> Verdict:
    """The learned QC's verdict for ``P(unacceptable) = p`` at the calibrated ``threshold``."""
    verdict = "unacceptable" if p >= threshold else "acceptable"
    return {"verdict": verdict, "confidence": float(max(p, 1 - p)), "failure_modes": [], "p_unacceptable": float(p)}


def unsure(p: float, threshold: float, band: float) -> bool:
    """Whether the learned QC is unsure: ``|p - threshold| < band`` (the ensemble asks the LLM then)."""
    return abs(p - threshold) < band


