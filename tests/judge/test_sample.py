"""The stratified LLM sample and cases.csv of judge-bench (issue 16 items 1 and 5)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from scafe.judge.sample import CASES_COLUMNS, stratified_sample, write_cases_csv


@dataclass
class _C:
    case_id: str
    phantom: int
    mode: str
    severity: float
    dice: float
    label: str
    split: str = "test"


def _cases() -> list[_C]:
    modes = ["near_correct", "erosion", "dilation", "holes", "fragmentation", "rotation", "leakage"]
    out = []
    for phantom in range(4):
        for mode in modes:  # in order: the first 16 cases come from one phantom and few modes
            for severity in (0.1, 0.3, 0.6):
                label = "acceptable" if mode == "near_correct" else "unacceptable"
                out.append(_C(f"p{phantom}-{mode}-{severity}", phantom, mode, severity, 0.9, label))
    return out


def test_sample_is_deterministic_and_covers_every_mode_and_several_phantoms() -> None:
    cases = _cases()
    modes = {c.mode for c in cases}
    first = stratified_sample(cases, len(modes), seed=0)
    assert first == stratified_sample(cases, len(modes), seed=0)
    assert {cases[k].mode for k in first} == modes
    sixteen = stratified_sample(cases, 16, seed=0)
    assert len(sixteen) == len(set(sixteen)) == 16
    assert {cases[k].mode for k in sixteen} == modes
    assert len({cases[k].phantom for k in sixteen}) >= 3
    assert len({cases[k].severity for k in sixteen}) == 3
    assert stratified_sample(cases, 16, seed=1) != sixteen
    # the first-N subset the old --llm-limit took covers one phantom only
    assert len({c.phantom for c in cases[:16]}) == 1


def test_sample_edge_sizes() -> None:
    cases = _cases()
    assert stratified_sample(cases, 0) == []
    assert stratified_sample(cases, 10_000) == list(range(len(cases)))


def test_cases_csv_has_one_row_per_case_and_method(tmp_path: Path) -> None:
    cases = _cases()[:5]
    cases[0].case_id = "=HYPERLINK(1)"
    predictions = {
        "rules": [{"verdict": "unacceptable", "confidence": 0.8, "p_unacceptable": 0.8}] * 5,
        "llm": [{"verdict": "uncertain", "confidence": 0.0}, {"verdict": "acceptable", "confidence": 0.7}],
    }
    path = write_cases_csv(tmp_path / "cases.csv", cases, predictions,
                           {"rules": list(range(5)), "llm": [1, 3]}, sample=[1, 3])
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert tuple(rows[0]) == CASES_COLUMNS
    assert {"case_id", "mode", "severity", "dice", "label", "verdict", "confidence"} <= set(CASES_COLUMNS)
    assert len(rows) == 7
    llm = [r for r in rows if r["method"] == "llm"]
    assert [r["case_id"] for r in llm] == [cases[1].case_id, cases[3].case_id]
    assert llm[0]["verdict"] == "uncertain"
    assert llm[0]["correct"] == "0"
    assert all(r["in_llm_sample"] == "1" for r in llm)
    assert rows[0]["case_id"] == "'=HYPERLINK(1)"
