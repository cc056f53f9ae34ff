"""Baselines: radiomics families, the seed-002 model set with mRMR, the CNN, the LLM methods."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from scafe.baselines.models import MODEL_NAMES, fit_predict, mrmr_select
from scafe.baselines.radiomics import make_computer, radiomics_backend, skimage_features
from scafe.evaluation.metrics import binary_metrics


def _disc(size: int = 96, radius: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size]
    mask = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < radius**2
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(120, 30, (size, size, 3)), 0, 255).astype(np.uint8)
    return image, mask


def test_skimage_shape_features_on_a_disc() -> None:
    image, mask = _disc()
    f = skimage_features(image, mask)
    assert f["shape2D_PixelSurface"] == mask.sum()
    assert f["shape2D_Sphericity"] == pytest.approx(1.0, abs=0.08)
    assert f["shape2D_Elongation"] == pytest.approx(1.0, abs=0.03)
    assert f["shape2D_MaximumDiameter"] == pytest.approx(59, abs=2)
    assert {k.split("_")[0] for k in f} == {"shape2D", "firstorder", "glcm", "glszm"}
    assert all(math.isfinite(v) for v in f.values())


def test_skimage_texture_reacts_to_texture() -> None:
    image, mask = _disc()
    flat = np.full_like(image, 120)
    coarse = skimage_features(image, mask)
    smooth = skimage_features(flat, mask)
    assert smooth["glcm_Contrast"] == 0.0
    assert coarse["glcm_Contrast"] > 0.5
    assert smooth["glszm_ZonePercentage"] < coarse["glszm_ZonePercentage"]


def test_empty_mask_gives_an_empty_row_not_an_error() -> None:
    image, mask = _disc()
    assert make_computer("scikit-image")(image, np.zeros_like(mask)) == {}


@pytest.mark.skipif(radiomics_backend() != "pyradiomics", reason="PyRadiomics 3.0.1 is not installed")
def test_skimage_backend_agrees_with_pyradiomics() -> None:
    from skimage import data, transform

    image = transform.resize(data.astronaut(), (128, 128), preserve_range=True).astype(np.uint8)
    yy, xx = np.mgrid[:128, :128]
    mask = ((yy - 64) / 30) ** 2 + ((xx - 60) / 45) ** 2 < 1
    ours = skimage_features(image, mask)
    ref = make_computer("pyradiomics")(image, mask)
    assert set(ours) == set(ref)
    for key in ref:
        if key.startswith("shape2D_") and key in ("shape2D_Perimeter", "shape2D_PerimeterSurfaceRatio",
                                                  "shape2D_Sphericity", "shape2D_MaximumDiameter",
                                                  "shape2D_MeshSurface"):
            assert ours[key] == pytest.approx(ref[key], rel=0.05), key  # mesh vs pixel perimeter
        else:
            assert ours[key] == pytest.approx(ref[key], rel=1e-3, abs=1e-6), key


def _separable(n: int, seed: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = pd.DataFrame(rng.normal(0, 1, (n, 20)), columns=[f"f{i}" for i in range(20)])
    X["f4"] += 2.5 * y
    X["f13"] -= 1.5 * y
    return X, y


def test_mrmr_selects_relevant_non_redundant_features() -> None:
    X, y = _separable(120, 0)
    X["const"] = 1.0  # constant columns are dropped before mRMR
    chosen = mrmr_select(X, y, k=3)
    assert len(chosen) == 3
    assert chosen[0] == "f4"
    assert "f13" in chosen
    assert "const" not in chosen
    assert set(mrmr_select(X[["f4", "const"]], y, k=3)) == {"f4"}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_seed002_model_learns(name: str) -> None:
    X, y = _separable(80, 1)
    Xt, yt = _separable(100, 2)
    X.iloc[3, 2] = np.nan  # the imputer handles missing values
    p = fit_predict(name, X, y, Xt)
    assert p.shape == (100,)
    assert binary_metrics(yt, p)["auc"] > 0.85


def test_cnn_is_skipped_with_a_reason_or_learns() -> None:
    from scafe.baselines.cnn import cnn_unavailable_reason, fit_predict_cnn, prepare_inputs

    reason = cnn_unavailable_reason()
    if reason is not None:
        assert "pip install" in reason
        pytest.skip(reason)
    rng = np.random.default_rng(0)
    xs, ys = [], []
    for i in range(48):  # big bright disc = keloid, small one = hypertrophic
        image, mask = _disc(64, radius=22 if i % 2 else 9)
        xs.append(prepare_inputs(image, mask, size=32))
        ys.append(i % 2)
    X, y = np.stack(xs), np.array(ys)
    assert X.shape == (48, 4, 32, 32)
    assert X.dtype == np.uint8
    p = fit_predict_cnn(X[:32], y[:32], X[32:], steps=40)
    assert binary_metrics(y[32:], p)["auc"] > 0.9
    assert rng is not None


def test_llm_reply_parsing() -> None:
    from scafe.baselines.llm import parse_reply

    assert parse_reply('{"label": "keloid", "confidence": 0.8, "reason": "x"}') == 0.8
    assert parse_reply('Sure!\n```json\n{"label": "hypertrophic", "confidence": 0.7}\n```') == pytest.approx(0.3)
    for bad in (None, "", "keloid", '{"label": "scar", "confidence": 0.5}', '{"label": "keloid", "confidence": 7}'):
        assert math.isnan(parse_reply(bad))


def test_llm_groups_against_the_scripted_server(tiny_phantoms) -> None:
    """Scripted replies (not a model): checks the prompts, the image attachment and the parsing."""
    from agents.llm import LLMClient, LLMConfig
    from scafe.baselines.llm import LLMFeaturesGroup, LLMImageGroup
    from scafe.data.dataset import load_dataset
    from tests.support.fake_llm import FakeLLMServer

    cases = load_dataset(tiny_phantoms).cases[:3]
    replies = ['{"label": "keloid", "confidence": 0.9}', "I cannot tell.",
               '{"label": "hypertrophic", "confidence": 0.6}'] * 2
    with FakeLLMServer(replies) as srv:
        client = LLMClient(LLMConfig(base_url=srv.url, model="fake", api_key="x"))
        p_img = LLMImageGroup(client, cases, max_cases=3).run(np.arange(0), 0)["llm-image"]
        feats = pd.DataFrame({"rim_delta_a": [4.0, 1.0, np.nan]}, index=[c.id for c in cases])
        meta = {"rim_delta_a": {"scale": "jsw", "item": "erythema", "item_name": "rim erythema"}}
        p_feat = LLMFeaturesGroup(client, feats, meta).run(np.arange(0), 0)["llm-features"]
        requests = srv.requests
    assert p_img[0] == 0.9
    assert math.isnan(p_img[1])
    assert p_img[2] == pytest.approx(0.4)
    assert p_feat[0] == 0.9
    assert math.isnan(p_feat[1])
    first = requests[0]["messages"][-1]["content"]
    assert any(part.get("type") == "image_url" for part in first)
    text = json.dumps(requests[3]["messages"])
    assert "rim_delta_a" in text
    assert "rim erythema (JSW)" in text


def test_without_pyradiomics_the_skimage_backend_is_chosen(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_radiomics(name, *args, **kwargs):
        if name in ("radiomics", "SimpleITK"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_radiomics)
    assert radiomics_backend() == "scikit-image"
    image, mask = _disc()
    assert len(make_computer()(image, mask)) == 67  # the same 67 features as PyRadiomics' four classes
