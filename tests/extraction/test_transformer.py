"""FeatureLibraryTransformer follows scikit-learn conventions and works in a Pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from scafe.errors import UsageError
from scafe.transformer import FeatureLibraryTransformer


def _pairs(n: int, seed: int = 0) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Class 1 lesions are redder than class 0 ones; sizes vary but stay <= 150 px."""
    rng = np.random.default_rng(seed)
    pairs, labels = [], []
    for i in range(n):
        label = i % 2
        image = rng.integers(60, 120, (20, 20, 3), dtype=np.uint8)
        mask = np.zeros((20, 20), bool)
        side = int(rng.integers(4, 12))
        mask[3:3 + side, 4:4 + side] = True
        image[mask, 0] = 200 if label else 90
        pairs.append((image, mask))
        labels.append(label)
    return pairs, np.array(labels)


def test_init_stores_params_only(tiny_library):
    est = FeatureLibraryTransformer(library=tiny_library.path, workers=2)
    assert est.get_params() == {"library": tiny_library.path, "extractors": None, "workers": 2,
                                "cache": True}
    assert not hasattr(est, "specs_")


def test_clone_and_set_params(tiny_library):
    est = FeatureLibraryTransformer(library=tiny_library.path)
    est.set_params(workers=3, extractors=["t_mean_red"])
    twin = clone(est)
    assert twin is not est
    assert twin.get_params() == est.get_params()


def test_transform_before_fit_raises(tiny_library):
    with pytest.raises(NotFittedError):
        FeatureLibraryTransformer(library=tiny_library.path).transform(_pairs(2)[0])
    with pytest.raises(NotFittedError):
        FeatureLibraryTransformer(library=tiny_library.path).get_feature_names_out()


def test_fit_returns_self_and_pins_features(tiny_library):
    est = FeatureLibraryTransformer(library=tiny_library.path)
    assert est.fit(_pairs(2)[0]) is est
    assert set(est.get_feature_names_out()) == {"t_mean_red.t_mean_red", "t_mean_red.t_area_px", "t_fragile.t_mean_green"}
    assert est.n_features_out_ == 3
    assert est.library_version_ == tiny_library.version_id


def test_transform_values_and_subset(tiny_library):
    pairs, _ = _pairs(4)
    est = FeatureLibraryTransformer(library=tiny_library.path, extractors=["t_mean_red"]).fit(pairs)
    out = est.transform(pairs)
    assert out.shape == (4, 2)
    names = list(est.get_feature_names_out())
    image, mask = pairs[1]
    assert out[1, names.index("t_mean_red.t_mean_red")] == pytest.approx(image[..., 0][mask].mean())
    assert out[1, names.index("t_mean_red.t_area_px")] == mask.sum()


def test_bad_params_rejected_at_fit(tiny_library):
    with pytest.raises(UsageError, match="'workers' parameter"):
        FeatureLibraryTransformer(library=tiny_library.path, workers=0).fit(None)
    with pytest.raises(UsageError, match="not active"):
        FeatureLibraryTransformer(library=tiny_library.path, extractors=["nope"]).fit(None)


def test_bad_inputs_rejected_with_the_fix(tiny_library):
    est = FeatureLibraryTransformer(library=tiny_library.path).fit(None)
    with pytest.raises(UsageError, match="sequence of"):
        est.transform(np.zeros((3, 4)))
    with pytest.raises(UsageError, match="uint8"):
        est.transform([(np.zeros((5, 5, 3)), np.zeros((5, 5), bool))])
    with pytest.raises(UsageError, match="mask shape"):
        est.transform([(np.zeros((5, 5, 3), np.uint8), np.zeros((4, 5), bool))])


def test_pipeline_with_xgboost_fits_and_predicts(tiny_library):
    from xgboost import XGBClassifier

    train, y = _pairs(16, seed=1)
    test, y_test = _pairs(8, seed=2)
    pipe = make_pipeline(FeatureLibraryTransformer(library=tiny_library.path),
                         XGBClassifier(n_estimators=20, max_depth=2, n_jobs=1))
    pipe.fit(train, y)
    pred = pipe.predict(test)
    assert pred.shape == (8,)
    assert (pred == y_test).mean() == 1.0  # redness separates the classes perfectly
    assert pipe[:-1].get_feature_names_out().tolist() == \
        pipe[0].get_feature_names_out().tolist()


def test_set_output_pandas(tiny_library):
    pairs, _ = _pairs(3)
    est = FeatureLibraryTransformer(library=tiny_library.path).set_output(transform="pandas")
    frame = est.fit_transform(pairs)
    assert list(frame.columns) == list(est.get_feature_names_out())
    assert frame.shape == (3, 3)


def test_cases_are_accepted(dataset_dir, tiny_library):
    from scafe.data.dataset import load_dataset

    cases = load_dataset(dataset_dir).cases
    est = FeatureLibraryTransformer(library=tiny_library.path).fit(cases)
    out = est.transform(cases)
    assert out.shape == (6, 3)
    assert np.isnan(out[5, list(est.get_feature_names_out()).index("t_fragile.t_mean_green")])
    assert est.errors_["id"].tolist() == ["c5"]
