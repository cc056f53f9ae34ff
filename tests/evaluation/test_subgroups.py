"""Subgroups: ITA bands, groupings from manifest columns, per-group metrics by hand."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from scafe.evaluation.subgroups import MISSING, groupings, ita_band, subgroup_metrics


@pytest.mark.parametrize(("ita", "band"), [(70, "very light"), (55.0, "light"), (41, "intermediate"),
                                           (28, "tan"), (10, "brown"), (-29.9, "brown"), (-30, "dark"),
                                           (-55, "dark")])
def test_ita_bands(ita: float, band: str) -> None:
    assert ita_band(ita).startswith(band)


def test_ita_band_missing_values() -> None:
    assert ita_band(None) == MISSING
    assert ita_band(float("nan")) == MISSING
    assert ita_band("n/a") == MISSING


def _case(**extra):
    return SimpleNamespace(patient_id=extra.pop("patient_id", None), split=None, extra=extra)


def test_groupings_from_columns() -> None:
    cases = [_case(nuisance_ita=60, family="a", group_site="north", fitzpatrick="II"),
             _case(nuisance_ita=-40, family="b", group_site="", fitzpatrick="VI", camera="x")]
    g = groupings(cases, declared=["camera"])
    assert g["skin tone (ITA band, nuisance_ita)"] == ["very light (ITA > 55°)", "dark (≤ −30°)"]
    assert g["skin tone (fitzpatrick)"] == ["II", "VI"]
    assert g["phantom family"] == ["a", "b"]
    assert g["group_site"] == ["north", MISSING]
    assert g["camera"] == [MISSING, "x"]
    with pytest.raises(KeyError, match="scanner"):
        groupings(cases, declared=["scanner"])
    assert groupings([_case(other=1)]) == {}


def test_subgroup_metrics_by_hand() -> None:
    y = np.array([1, 0, 1, 0, 1, 1])
    labels = ["A", "A", "A", "A", "B", "B"]
    rep1 = np.array([0.9, 0.2, 0.4, 0.6, 0.7, 0.8])
    rep2 = np.array([0.9, 0.1, 0.8, 0.3, 0.2, 0.8])
    rows = {r["group"]: r for r in subgroup_metrics(y, [rep1, rep2], labels)}
    a = rows["A"]
    # repeat 1 on A: sens 1/2, spec 1/2; repeat 2: sens 1, spec 1 -> means 0.75, 0.75
    assert (a["n"], a["n_keloid"]) == (4, 2)
    assert a["sensitivity"] == pytest.approx(0.75)
    assert a["specificity"] == pytest.approx(0.75)
    assert a["balanced_accuracy"] == pytest.approx(0.75)
    # AUC repeat 1: pairs (0.9>0.2, 0.9>0.6, 0.4>0.2, 0.4<0.6) = 3/4; repeat 2: 1 -> 0.875
    assert a["auc"] == pytest.approx(0.875)
    assert a["too_few"] is True  # 4 < 10 cases
    b = rows["B"]  # keloids only: specificity and AUC undefined
    assert b["sensitivity"] == pytest.approx(0.75)
    assert math.isnan(b["specificity"])
    assert math.isnan(b["auc"])
    assert b["too_few"] is True
    with pytest.raises(ValueError, match="3 group labels for 6"):
        subgroup_metrics(y, [rep1], labels[:3])
