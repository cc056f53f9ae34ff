"""ScarClassifier: fit/predict, explanations named by criterion item, model directory checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scafe.classifier import ScarClassifier, encode_labels
from scafe.errors import ModelError
from scafe.evaluation.metrics import binary_metrics
from tests.evaluation.conftest import separable_table


@pytest.fixture(scope="module")
def trained():
    X, y, meta = separable_table(240)
    model = ScarClassifier().fit(X.iloc[:120], y[:120], feature_meta=meta, library_version="lib-1")
    return model, X, y, meta


def test_learns_the_informative_feature(trained) -> None:
    model, X, y, _ = trained
    p = model.predict_proba(X.iloc[120:])[:, 1]
    assert binary_metrics(y[120:], p)["auc"] > 0.9
    imp = model.importances(X.iloc[120:])
    assert imp.index[0] == "rim_delta_a"
    assert imp["noise"] < imp["rim_delta_a"] / 3


def test_contributions_sum_to_the_logit(trained) -> None:
    model, X, _, _ = trained
    phi = model.contributions(X.iloc[:10])
    p = model.predict_proba(X.iloc[:10])[:, 1]
    assert np.allclose(1 / (1 + np.exp(-phi.sum(axis=1))), p, atol=1e-5)


def test_explanations_name_feature_and_criterion_item(trained) -> None:
    model, X, y, _ = trained
    case = int(np.flatnonzero(y[120:] == 1)[0]) + 120
    lines = model.explain(X.iloc[[case]], top=2)[0]
    assert len(lines) == 2
    assert lines[0].startswith("rim_delta_a: rim erythema (JSW) +")
    assert lines[0].endswith("→ keloid")


def test_class_weights_balance_an_imbalanced_pool() -> None:
    X, y, meta = separable_table(400, seed=1)
    keep = np.flatnonzero(y == 0).tolist() + np.flatnonzero(y == 1)[:25].tolist()
    model = ScarClassifier().fit(X.iloc[keep], y[keep])
    assert model.params_["scale_pos_weight"] == pytest.approx((y[keep] == 0).sum() / 25)
    m = binary_metrics(y, model.predict_proba(X)[:, 1])
    assert m["sensitivity"] > 0.75  # without weights the minority class is mostly missed


def test_early_stopping_picks_rounds_and_small_n_uses_default() -> None:
    X, y, _ = separable_table(200, seed=2)
    assert ScarClassifier().fit(X, y).n_rounds_ < 200  # easy problem: stops early
    assert ScarClassifier().fit(X.iloc[:8], y[:8]).n_rounds_ == 200  # inner split too small


def test_save_load_round_trip(trained, tmp_path) -> None:
    model, X, _, _ = trained
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["library_version"] == "lib-1"
    assert meta["feature_names"] == ["rim_delta_a", "noise", "solidity"]
    again = ScarClassifier.load(tmp_path / "m")
    assert np.allclose(again.predict_proba(X)[:, 1], model.predict_proba(X)[:, 1])
    assert again.explain(X.iloc[:3]) == model.explain(X.iloc[:3])


def test_incompatible_table_is_refused_then_allowed(trained) -> None:
    model, X, _, meta = trained
    with pytest.raises(ModelError, match=r"missing features \['solidity'\].*--allow-missing"):
        model.align(X.drop(columns="solidity"), feature_meta=meta, library_version="lib-2")
    aligned, comp = model.align(X.drop(columns="solidity"), allow_missing=True)
    assert comp.missing == ["solidity"]
    assert aligned["solidity"].isna().all()
    assert np.isfinite(model.predict_proba(aligned)).all()


def test_other_extractor_version_is_incompatible(trained) -> None:
    model, X, _, meta = trained
    changed = {**meta, "rim_delta_a": {**meta["rim_delta_a"], "version": 2}}
    with pytest.raises(ModelError, match="another extractor version"):
        model.align(X, feature_meta=changed)
    aligned, comp = model.align(X, feature_meta=changed, allow_missing=True)
    assert comp.changed == ["rim_delta_a"]
    assert aligned["rim_delta_a"].isna().all()


def test_same_features_from_a_newer_library_are_accepted(trained) -> None:
    model, X, _, meta = trained
    _, comp = model.align(X, feature_meta=meta, library_version="lib-9")
    assert comp.ok
    assert comp.library_version_differs


def test_label_errors_name_the_bad_values() -> None:
    assert encode_labels(["Keloid", "hypertrophic"]).tolist() == [1, 0]
    with pytest.raises(ModelError, match="'scar'"):
        encode_labels(["keloid", "scar"])
    X, y, _ = separable_table(10)
    with pytest.raises(ModelError, match="both classes"):
        ScarClassifier().fit(X, np.zeros(10, int))


def test_unfitted_and_bad_directory(tmp_path) -> None:
    with pytest.raises(ModelError, match="not fitted"):
        ScarClassifier().predict_proba(separable_table(4)[0])
    with pytest.raises(ModelError, match="scafe train"):
        ScarClassifier.load(tmp_path)


def test_scikit_learn_conventions() -> None:
    """clone(), get_params() and cross-validation work like any scikit-learn classifier."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    X, y, _ = separable_table(120, seed=5)
    model = ScarClassifier(params={"max_depth": 2})
    assert clone(model).get_params() == {"early_stopping": True, "params": {"max_depth": 2}}
    assert not hasattr(model, "model_")  # __init__ only stores parameters
    scores = cross_val_score(model, X, y, cv=3, scoring="roc_auc")
    assert scores.min() > 0.85
    assert set(ScarClassifier().fit(X, y).predict(X)) <= {0, 1}
    labels = np.where(y == 1, "keloid", "hypertrophic")
    assert set(ScarClassifier().fit(X, labels).predict(X)) <= {"keloid", "hypertrophic"}


def test_model_from_before_namespaced_columns_is_refused_with_the_fix(trained, tmp_path) -> None:
    model, _, _, _ = trained
    model.save(tmp_path / "old")
    meta_path = tmp_path / "old" / "meta.json"
    meta = json.loads(meta_path.read_text())
    assert meta["format"] == "scafe-classifier/2"
    meta["format"] = "scafe-classifier/1"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"before feature columns became '<extractor>.<key>'.*retrain \(`scafe train`\)"):
        ScarClassifier.load(tmp_path / "old")
