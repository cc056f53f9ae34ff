"""judge-bench's ensemble and --concurrency against the local scripted server (tests/support/fake_llm.py).

Every reply below is a fixture written for these tests, not model output.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from scafe.cli import main
from tests.support.fake_llm import FakeLLMServer


def _user_text(request: dict) -> str:
    content = request["messages"][-1]["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


def _case_router(request: dict) -> str:
    """Replies by stage; the stage-4 verdict is a fixed function of the case's descriptors in the prompt,
    so a case gets the same reply whatever order the requests arrive in."""
    text = _user_text(request)
    if "Stage 1 of 4" in text:
        return json.dumps({"structure": "scar", "expected_properties": ["one region"], "failure_signs": {}})
    if "Stage 2 of 4" in text:
        return json.dumps({"observations": [{"descriptor": "solidity", "value": 0.9, "assessment": "normal"}], "summary": "s"})
    if "Stage 3 of 4" in text:
        return json.dumps({"covers": "scar", "plausible_anatomy": True, "suspected_failure_modes": [], "reasoning": "r"})
    found = re.search(r"- self_consistency_dice = ([0-9.]+)", text)
    value = float(found.group(1)) if found else 0.0
    verdict = "acceptable" if value >= 0.8 else "unacceptable"
    return json.dumps({"verdict": verdict, "confidence": round(0.5 + abs(value - 0.8) / 2, 3), "failure_modes": [],
                       "rationale": f"scripted on {value}"})


def _bench(tmp_path: Path, *extra: str) -> tuple[dict, list[dict], int]:
    with FakeLLMServer(_case_router) as srv:
        code = main(["judge-bench", "--out", str(tmp_path), "--n", "2", "--size", "96", "--base-url", srv.url,
                     "--model", "scripted", "--llm-sample", "10", "--timeout", "20", "--max-retries", "0", *extra])
        n_requests = len(srv.requests)
    assert code == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    rows = list(csv.DictReader((tmp_path / "cases.csv").open(encoding="utf-8")))
    return metrics, rows, n_requests


@pytest.mark.parametrize("band", [0.0, 0.45, 1.0])
def test_ensemble_asks_the_llm_only_where_the_learned_qc_is_unsure(tmp_path: Path, band: float) -> None:
    metrics, rows, n_requests = _bench(tmp_path, "--ensemble-only", "--ensemble-band", str(band))
    assert "llm" not in metrics["methods"]  # --ensemble-only: the LLM is not scored on its own
    threshold = metrics["calibration"]["threshold"]
    qc = {r["case_id"]: float(r["p_unacceptable"]) for r in rows
          if r["method"] == "descriptors+xgboost" and r["in_llm_sample"] in ("1", "True", "true")}
    assert len(qc) == 10
    unsure = {case for case, p in qc.items() if abs(p - threshold) < band}
    assert metrics["ensemble"]["n_llm"] == len(unsure)
    assert metrics["ensemble"]["band"] == band
    # stage 1 once per run (only if any case was asked), stages 2-4 once per unsure case
    assert n_requests == (1 + 3 * len(unsure) if unsure else 0)
    ensemble = {r["case_id"]: r for r in rows if r["method"] == "ensemble"}
    assert set(ensemble) == set(qc)
    for case, p in qc.items():
        if case not in unsure:  # sure cases keep the learned QC's verdict
            assert ensemble[case]["verdict"] == ("unacceptable" if p >= threshold else "acceptable")
    if band == 1.0:
        assert len(unsure) == 10


def test_concurrency_does_not_change_results(tmp_path: Path) -> None:
    one, rows_one, calls_one = _bench(tmp_path / "c1", "--concurrency", "1")
    four, rows_four, calls_four = _bench(tmp_path / "c4", "--concurrency", "4")
    assert calls_one == calls_four == 1 + 3 * 10  # stage 1 asked once even with 4 judgements in flight
    assert rows_one == rows_four
    assert one["methods"] == four["methods"]
    assert {r["verdict"] for r in rows_one if r["method"] == "llm"} <= {"acceptable", "unacceptable"}
