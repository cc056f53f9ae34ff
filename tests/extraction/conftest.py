"""Fixtures for extraction tests: a tiny on-disk dataset and a tiny library of fast extractors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from scafe.library import Library

MEAN_RED = '''"""Mean red of the lesion (test extractor).

Criterion: VSS / vascularity - test only.
Measures: mean R (0..255) inside the mask and the lesion area in px. Empty mask: NaN.
"""
import numpy as np


def extract(image, mask):
    if not mask.any():
        return {"t_mean_red": float("nan"), "t_area_px": 0.0}
    return {"t_mean_red": float(image[..., 0][mask].mean()), "t_area_px": float(mask.sum())}
'''

# Fails (raises) on lesions larger than 150 px: a per-cell failure the table must survive.
FRAGILE = '''"""Lesion green, but raises on big lesions (test extractor).

Criterion: VSS / vascularity - test only.
Measures: mean G inside the mask. Empty mask: NaN.
"""
import numpy as np


def extract(image, mask):
    if mask.sum() > 150:
        raise ValueError("lesion too big for this test extractor")
    if not mask.any():
        return {"t_mean_green": float("nan")}
    return {"t_mean_green": float(image[..., 1][mask].mean())}
'''


def make_dataset(root: Path, n: int = 6, size: int = 24) -> Path:
    """Write ``n`` images with square lesions of growing size and a manifest; return the folder."""
    rng = np.random.default_rng(0)
    rows = []
    (root / "images").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        mask = np.zeros((size, size), bool)
        side = 4 + 2 * i  # areas 16, 36, 64, 100, 144, 196, ... px
        mask[2:2 + side, 3:3 + side] = True
        Image.fromarray(image).save(root / "images" / f"c{i}.png")
        Image.fromarray((mask * 255).astype(np.uint8)).save(root / "images" / f"c{i}_mask.png")
        rows.append({"id": f"c{i}", "image": f"images/c{i}.png", "mask": f"images/c{i}_mask.png",
                     "label": "keloid" if i % 2 else "hypertrophic"})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    """Six 24x24 cases; lesion areas 16..196 px (the last one trips ``FRAGILE``)."""
    return make_dataset(tmp_path / "data")


@pytest.fixture
def tiny_library(tmp_path: Path) -> Library:
    """A library with two active test extractors (no validation: speed)."""
    lib = Library.open(tmp_path / "lib")
    lib.register(MEAN_RED, name="t_mean_red", criterion="vss/vascularity", origin="reference",
                 validation={}, outputs=["t_mean_red", "t_area_px"])
    lib = lib.reload()
    lib.register(FRAGILE, name="t_fragile", criterion="vss/vascularity", origin="reference",
                 validation={}, outputs=["t_mean_green"])
    return lib.reload()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets an empty extraction cache."""
    monkeypatch.setenv("SCAFE_CACHE", str(tmp_path / "cache"))
