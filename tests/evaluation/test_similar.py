"""Nearest-case retrieval on standardised features, overall and per criterion item."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scafe.errors import UsageError
from scafe.similar import item_columns, nearest_cases, standardise

META = {
    "area_px": {"scale": "jsw", "item": "size"},
    "rim_delta_a": {"scale": "jsw", "item": "erythema"},
    "rim_width": {"scale": "jsw", "item": "erythema"},
}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"area_px": [1000.0, 1010.0, 5000.0, 1005.0, 9000.0],
         "rim_delta_a": [2.0, 9.0, 2.1, 2.05, 8.8],
         "rim_width": [1.0, 4.0, 1.1, 1.0, 3.9]},
        index=pd.Index(["a", "b", "c", "d", "e"], name="id"),
    )


def test_units_do_not_dominate() -> None:
    z = standardise(_frame())
    assert z.median().abs().max() < 1e-12
    # without standardising, area (thousands of px²) would decide everything; here d matches a on all three
    near = nearest_cases(_frame(), "a", k=2)
    assert list(near.index) == ["d", "b"]
    assert near["distance"].is_monotonic_increasing


def test_per_item_uses_only_that_items_features() -> None:
    near = nearest_cases(_frame(), "b", k=1, item="jsw/erythema", feature_meta=META)
    assert list(near.index) == ["e"]  # same rim erythema, very different area
    assert set(near.columns) == {"distance", "shared", "rim_delta_a", "rim_width"}
    overall = nearest_cases(_frame(), "b", k=1)
    assert overall.index[0] != "e"  # overall, e's far larger area pushes it away


def test_missing_values_compare_on_shared_features() -> None:
    frame = _frame()
    frame.loc["d", "area_px"] = np.nan
    near = nearest_cases(frame, "a", k=4, labels=pd.Series({"a": "keloid", "d": "hypertrophic"}))
    assert near.loc["d", "shared"] == 2
    assert near.loc["d", "label"] == "hypertrophic"


def test_errors_name_the_bad_value() -> None:
    with pytest.raises(UsageError, match="'zz' is not in the feature table"):
        nearest_cases(_frame(), "zz")
    with pytest.raises(UsageError, match=r"jsw/erythema"):
        item_columns(META, "vss/height")
    with pytest.raises(UsageError, match="k must be"):
        nearest_cases(_frame(), "a", k=0)
