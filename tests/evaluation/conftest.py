"""Fixtures of the evaluation tests: a tiny phantom folder and synthetic feature tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def tiny_phantoms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 phantoms at 64 px (about a second to render), as a dataset folder."""
    from scafe.data.phantoms import generate_phantoms

    out = tmp_path_factory.mktemp("phantoms")
    generate_phantoms(out, n=24, seed=7, size=64, workers=1)
    return out


def separable_table(n: int, seed: int = 0, *, ids_prefix: str = "c") -> tuple[pd.DataFrame, np.ndarray, dict]:
    """A feature frame where ``rim_delta_a`` carries the class, ``noise`` does not."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n // 2 + 1)[:n]
    rng.shuffle(y)
    ids = [f"{ids_prefix}{i:04d}" for i in range(n)]
    frame = pd.DataFrame(
        {"rim_delta_a": rng.normal(3.0 * y, 1.0), "noise": rng.normal(0, 1, n), "solidity": rng.normal(-1.0 * y, 1.0)},
        index=pd.Index(ids, name="id"),
    )
    meta = {
        "rim_delta_a": {"extractor": "rim_erythema", "version": 1, "scale": "jsw", "item": "erythema",
                        "item_name": "rim erythema"},
        "noise": {"extractor": "noise", "version": 1, "scale": "vss", "item": "pliability", "item_name": ""},
        "solidity": {"extractor": "shape", "version": 2, "scale": "jsw", "item": "shape", "item_name": "shape"},
    }
    return frame, y, meta
