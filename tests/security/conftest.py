"""Fixtures for the security regression tests: a tiny library and dataset in tmp."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from scafe.library import Library

CONST = '''"""Constant test extractor (security tests).

Criterion: VSS / vascularity - test only. Measures nothing: returns {key: value}.
"""
import numpy as np


def extract(image, mask):
    return {"KEY": float(VALUE)}
'''


def const_source(key: str = "t_const", value: float = 1.0) -> str:
    """A tiny valid extractor returning ``{key: value}``."""
    return CONST.replace("KEY", key).replace("VALUE", repr(value))


def make_dataset(root: Path, n: int = 3, size: int = 16, ids: list[str] | None = None) -> Path:
    """``n`` small PNG cases plus ``manifest.csv``; return the folder."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i, case in enumerate(ids or [f"c{k}" for k in range(n)]):
        image = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        mask = np.zeros((size, size), np.uint8)
        mask[2:8 + i, 3:9] = 255
        Image.fromarray(image).save(root / "images" / f"i{i}.png")
        Image.fromarray(mask).save(root / "images" / f"i{i}_mask.png")
        rows.append({"id": case, "image": f"images/i{i}.png", "mask": f"images/i{i}_mask.png",
                     "label": "keloid" if i % 2 else "hypertrophic"})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


@pytest.fixture
def sec_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private extraction cache directory (SCAFE_CACHE) for this test."""
    path = tmp_path / "cache"
    monkeypatch.setenv("SCAFE_CACHE", str(path))
    return path


@pytest.fixture
def const_library(tmp_path: Path) -> Library:
    """A library with one active constant extractor ``t_const`` (value 1.0)."""
    lib = Library.open(tmp_path / "lib")
    lib.register(const_source(), name="t_const", criterion="vss/vascularity", origin="reference",
                 validation={}, outputs=["t_const"])
    return lib.reload()


@pytest.fixture
def small_dataset(tmp_path: Path) -> Path:
    """Three 16x16 cases."""
    return make_dataset(tmp_path / "data")
