"""Issue 11: feature-table columns are ``<extractor>.<key>``; shared keys coexist; old tables are refused."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scafe.errors import DataError
from scafe.extraction import extract
from scafe.extraction.table import FeatureTable, column_name, is_namespaced, split_column
from tests.extraction.conftest import MEAN_RED


def test_column_name_and_split_column_round_trip() -> None:
    assert column_name("rim_erythema", "delta_a") == "rim_erythema.delta_a"
    assert split_column("rim_erythema.delta_a") == ("rim_erythema", "delta_a")
    assert is_namespaced("a.b")
    assert not is_namespaced("delta_a")
    for bad in ("delta_a", ".delta_a", "rim.", "a.b.c"):
        with pytest.raises(DataError, match="re-extract"):
            split_column(bad)
    with pytest.raises(DataError, match="free of '.'"):
        column_name("rim.erythema", "delta_a")


def test_two_active_extractors_with_the_same_key_are_two_columns(dataset_dir, tiny_library) -> None:
    """The run of issue 11: two accepted extractors both emitted a key; both stay active now."""
    tiny_library.register(MEAN_RED.replace("Mean red", "Mean red, again"), name="t_mean_red_copy",
                          criterion="vss/vascularity", origin="reference", validation={},
                          outputs=["t_mean_red", "t_area_px"])
    table = extract(dataset_dir, library=tiny_library.reload(), progress=False)
    red, copy = table.frame["t_mean_red.t_mean_red"], table.frame["t_mean_red_copy.t_mean_red"]
    assert red.notna().all()
    assert np.allclose(red, copy)
    assert table.meta["features"]["t_mean_red_copy.t_mean_red"]["key"] == "t_mean_red"
    assert table.meta["columns"] == "extractor.key"


def test_feature_table_from_before_namespacing_is_refused_with_the_fix(tmp_path) -> None:
    old = tmp_path / "old.csv"
    pd.DataFrame({"id": ["a", "b"], "rim_erythema_delta_a": [1.0, 2.0]}).to_csv(old, index=False)
    (tmp_path / "old.meta.json").write_text(json.dumps({"features": {"rim_erythema_delta_a": {}}}))
    with pytest.raises(DataError, match=r"rim_erythema_delta_a.*scafe extract"):
        FeatureTable.load(old)
    frame = pd.DataFrame({"rim_erythema.rim_erythema_delta_a": [1.0]}, index=pd.Index(["a"], name="id"))
    path = FeatureTable(frame=frame).save(tmp_path / "new.csv")
    assert list(FeatureTable.load(path).frame.columns) == ["rim_erythema.rim_erythema_delta_a"]
