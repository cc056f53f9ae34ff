"""Sanity of the phantom dataset: the class lives in the lesion, not in the nuisance variables.

* a classifier on the ``latent_*`` columns reaches >= 0.90 balanced accuracy (the ceiling);
* one on the ``nuisance_*`` columns is at chance (<= 0.60);
* one on whole-image global colour statistics stays clearly below the latent one (no shortcut
  that bypasses the lesion).

The full-size check (400 phantoms at 128 px, as the issue asks) is ``slow``; the default run does
the same on 200 phantoms at 96 px.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from skimage import color
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from scafe.data.dataset import read_image
from scafe.data.phantoms import LATENT_COLUMNS, NUISANCE_COLUMNS, cached_phantom_set


def _balanced_accuracies(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """5-fold stratified CV balanced accuracy of a random forest and a logistic regression."""
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    models = {
        "forest": RandomForestClassifier(200, random_state=0, n_jobs=1),
        "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    }
    return {name: float(cross_val_score(m, x, y, cv=cv, scoring="balanced_accuracy").mean())
            for name, m in models.items()}


def global_colour_stats(image: np.ndarray) -> np.ndarray:
    """Whole-image colour statistics: RGB and CIELAB means, standard deviations, percentiles."""
    rgb = image.reshape(-1, 3) / 255.0
    lab = color.rgb2lab(image).reshape(-1, 3)
    return np.concatenate([rgb.mean(0), rgb.std(0), lab.mean(0), lab.std(0),
                           np.percentile(lab, [5, 25, 50, 75, 95], axis=0).ravel()])


def _check(folder: Path) -> dict[str, dict[str, float]]:
    frame = pd.read_csv(folder / "manifest.csv")
    y = (frame["label"] == "keloid").to_numpy()
    assert 0.35 < y.mean() < 0.65
    stats = np.stack([global_colour_stats(read_image(folder / p)) for p in frame["image"]])
    result = {
        "latent": _balanced_accuracies(frame[list(LATENT_COLUMNS)].to_numpy(), y),
        "nuisance": _balanced_accuracies(frame[list(NUISANCE_COLUMNS)].to_numpy(), y),
        "global": _balanced_accuracies(stats, y),
    }
    best_latent = max(result["latent"].values())
    assert best_latent >= 0.90, result
    assert max(result["nuisance"].values()) <= 0.60, result
    assert max(result["global"].values()) <= best_latent - 0.10, result
    return result


def test_ground_truth_is_observable_in_the_pixels() -> None:
    """Plain pixel measures track the exported latents and not the skin tone.

    Inside = the mask eroded by 1 px; skin = a ring 6-12 px outside (beyond most of the rim).
    """
    from scipy import ndimage, stats

    from scafe.data.dataset import read_mask

    folder = cached_phantom_set(200, 2024, 96)
    frame = pd.read_csv(folder / "manifest.csv")
    measured: dict[str, list[float]] = {"da": [], "de": [], "dl": []}
    for image_path, mask_path in zip(frame["image"], frame["mask"], strict=True):
        lab = color.rgb2lab(read_image(folder / image_path))
        mask = read_mask(folder / mask_path)
        inner = ndimage.binary_erosion(mask)
        inner = inner if inner.sum() > 5 else mask
        skin = ndimage.binary_dilation(mask, iterations=12) & ~ndimage.binary_dilation(mask, iterations=6)
        diff = lab[inner].mean(0) - lab[skin].mean(0)
        measured["da"].append(diff[1])
        measured["de"].append(float(np.linalg.norm(diff)))
        measured["dl"].append(diff[0])

    def rho(key: str, column: str) -> float:
        return float(stats.spearmanr(measured[key], frame[column]).statistic)

    assert rho("da", "latent_central_delta_a") > 0.6
    assert rho("de", "latent_color_delta_e") > 0.6
    assert rho("dl", "latent_melanin_scale") < -0.5  # more melanin, darker lesion
    assert abs(rho("da", "nuisance_ita")) < 0.3
    assert abs(rho("de", "nuisance_color_temp_k")) < 0.3


def test_class_signal_lives_in_the_lesion_small() -> None:
    _check(cached_phantom_set(200, 2024, 96))


@pytest.mark.slow
def test_class_signal_lives_in_the_lesion_400_phantoms() -> None:
    result = _check(cached_phantom_set(400, 123, 128))
    print(result)  # the figures quoted on the issue
