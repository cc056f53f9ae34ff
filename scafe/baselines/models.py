"""The seed-002 model set and mRMR(8) feature selection for the radiomics baselines.

Seed 002 (LLM-enhanced radiomics) compared, on 8 mRMR-selected radiomics features:
RF (100 trees), GB (learning rate 0.1, depth 3), SVM (RBF kernel), NB (Gaussian), LR (L2),
MLP (one hidden layer of 1024 ReLU units; we train it with L-BFGS, suited to small data) and
XGBoost. We keep those settings; every model except
the trees sees standardised features (an SVM/LR/MLP on raw radiomics scales is a strawman), and
missing values are imputed by the training median. XGBoost uses the same defaults and inner early
stopping as our own classifier (:class:`scafe.classifier.ScarClassifier`), so the comparison
isolates the features.

mRMR (minimum redundancy, maximum relevance; ``mrmr_selection.mrmr_classif`` with F-statistic
relevance and correlation redundancy) is refitted on every training subset so the test set never
influences the selection. ``n_jobs=1``: its default of all cores is ~30x slower on a small box.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

MODEL_NAMES: tuple[str, ...] = ("xgboost", "rf", "gb", "svm", "nb", "lr", "mlp")
MRMR_K = 8


def _pipeline(estimator, scale: bool):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [SimpleImputer(strategy="median", keep_empty_features=True)]
    if scale:
        steps.append(StandardScaler())
    return make_pipeline(*steps, estimator)


def make_model(name: str, seed: int = 0):
    """A fresh, unfitted estimator of the seed-002 set with ``fit``/``predict_proba``."""
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    from scafe.classifier import ScarClassifier

    if name == "xgboost":
        return ScarClassifier(params={"random_state": seed})
    factories: dict[str, Callable[[], object]] = {
        "rf": lambda: _pipeline(
            RandomForestClassifier(n_estimators=100, class_weight="balanced", random_state=seed, n_jobs=1), False
        ),
        "gb": lambda: _pipeline(GradientBoostingClassifier(learning_rate=0.1, max_depth=3, random_state=seed), False),
        "svm": lambda: _pipeline(SVC(kernel="rbf", probability=True, class_weight="balanced", random_state=seed), True),
        "nb": lambda: _pipeline(GaussianNB(), True),
        "lr": lambda: _pipeline(LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000), True),
        "mlp": lambda: _pipeline(
            # lbfgs: scikit-learn's advice for small data sets (converges in a fraction of adam's time)
            MLPClassifier(hidden_layer_sizes=(1024,), activation="relu", solver="lbfgs", max_iter=300,
                          random_state=seed),
            True,
        ),
    }
    if name not in factories:
        raise ValueError(f"Unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}.")
    return factories[name]()


def fit_predict(name: str, X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """Fit model ``name`` and return the keloid probability of each test row."""
    model = make_model(name, seed)
    with warnings.catch_warnings():
        # MLP convergence and SVC probability-calibration warnings at n = 20 are expected noise
        warnings.simplefilter("ignore")
        model.fit(X_train, np.asarray(y_train).astype(int))
        proba = model.predict_proba(X_test)
    return np.asarray(proba)[:, 1]


def mrmr_select(X: pd.DataFrame, y: np.ndarray, k: int = MRMR_K) -> list[str]:
    """mRMR(k) on training data only; constant/all-NaN columns are dropped first.

    NaNs are filled with the column median for the selection only (mRMR's F-test needs finite
    values); the models then see the original columns.
    """
    from mrmr import mrmr_classif

    X = X.replace([np.inf, -np.inf], np.nan)
    usable = X.loc[:, X.notna().any() & (X.nunique(dropna=True) > 1)]
    if usable.shape[1] <= k:
        return list(usable.columns)
    filled = usable.fillna(usable.median())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(mrmr_classif(X=filled, y=pd.Series(np.asarray(y).astype(int), index=filled.index),
                                 K=k, n_jobs=1, show_progress=False))
