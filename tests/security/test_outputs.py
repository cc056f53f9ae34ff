"""Issue 12 item 15: the table set is written atomically; formula-like ids are neutralised."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scafe.extraction import FeatureTable
from scafe.extraction.outputs import neutralise_cell, restore_cell

from .conftest import make_dataset

EVIL = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3", "@SUM(A1)", "'quoted", "plain", "\tTab"]


def _table(ids: list[str], value: float = 1.0) -> FeatureTable:
    frame = pd.DataFrame({"t_f.f": [value] * len(ids)}, index=pd.Index(ids, name="id"))
    errors = pd.DataFrame([{"id": ids[0], "extractor": "x@v1", "outcome": "failed", "reason": "=cmd|' /C calc'!A0"}])
    return FeatureTable(frame=frame, errors=errors, meta={"library_version": "v", "marker": value})


def test_formula_ids_are_neutralised_in_every_csv_and_round_trip(tmp_path):
    path = _table(EVIL).save(tmp_path / "t.csv")
    for name in ("t.csv", "t.errors.csv"):
        with open(tmp_path / name, newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not cell or cell[0] not in "=+-@\t\r", (name, cell)
    loaded = FeatureTable.load(path)
    assert list(loaded.frame.index) == EVIL
    assert loaded.errors.loc[0, "reason"] == "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("value", EVIL + ["", "'", "''=x", "-"])
def test_neutralise_is_reversible(value):
    assert restore_cell(neutralise_cell(value)) == value


def test_failed_write_leaves_previous_set_intact(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    _table(["a", "b"], 1.0).save(path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    import scafe.extraction.outputs as outputs

    real = outputs._write_tmp
    calls = []

    def failing(target: Path, text: str, token: str) -> Path:
        calls.append(target.name)
        if target.name.endswith(".meta.json"):  # the last file of the set: disk full
            raise OSError(28, "No space left on device")
        return real(target, text, token)

    monkeypatch.setattr(outputs, "_write_tmp", failing)
    with pytest.raises(OSError):
        _table(["a", "b", "c"], 2.0).save(path)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # old set intact, no temporaries left
    assert len(calls) == 3


def test_extract_cli_writes_neutralised_ids(tmp_path, sec_cache, const_library):
    from scafe.cli import main

    data = make_dataset(tmp_path / "evil", ids=["=1+1", "@x", "ok"])
    out = tmp_path / "f.csv"
    assert main(["extract", "--data", str(data), "--out", str(out), "--library", str(const_library.path)]) == 0
    text = out.read_text()
    assert "\n'=1+1," in text
    assert "\n'@x," in text
    assert list(FeatureTable.load(out).frame.index) == ["=1+1", "@x", "ok"]
    assert np.all(FeatureTable.load(out).frame["t_const.t_const"] == 1.0)
