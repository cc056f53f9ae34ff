"""Engineer runs that go through the real sandbox battery, criterion tests, usefulness and library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.engineer.usefulness import UsefulnessSettings
from scafe.library import Library
from tests.agents.scripted import (
    PIGMENT,
    REDNESS,
    REDNESS_AUGASSIGN,
    WRONG_MEASURE,
    Router,
    code_reply,
    plan_json,
    run_engineer,
)

SMALL = UsefulnessSettings(n=40, size=96, repeats=2, folds=2)


def _user_text(request: dict) -> str:
    return request["messages"][-1]["content"]


def test_broken_code_repaired_then_accepted_and_registered_with_provenance(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": plan_json(("redness_contrast", "redness_delta_a"))},
                    writes={"redness_contrast": code_reply(REDNESS_AUGASSIGN)},
                    repairs={"redness_contrast": code_reply(REDNESS)})  # fmt: skip
    summary, server, client = run_engineer(tmp_path, router, ["vascularity"], usefulness=SMALL, temperature=0.1)
    assert summary.exit_code == 0
    [row] = summary.rows
    assert (row["outcome"], row["attempts"], row["name"], row["version"], row["activated"]) == (
        "accepted", 2, "redness_contrast", 1, False)
    assert row["rho"] > 0.5
    assert row["delta_auc"] is not None
    low, high = row["delta_auc_ci"]
    assert low <= row["delta_auc"] <= high
    # the repair request carries the failing check and the previous code
    repair = next(r for r in server.requests if "Your extractor for the feature" in _user_text(r))
    text = _user_text(repair)
    assert "totals[0] += " in text
    assert "static_policy" in text or "restricted" in text.lower()
    # registered inactive, with full provenance, in the temporary library only
    library = Library.open(tmp_path / "library")
    [entry] = library.entries()
    assert entry.status != "active"
    assert library.source(entry) == REDNESS
    assert entry.origin == "generated"
    gen = entry.generator
    assert (gen["provider"], gen["model"], gen["temperature"], gen["attempts"]) == ("openai-compatible", "fake-model", 0.1, 2)
    assert gen["run_id"] == summary.run_id
    assert len(gen["prompt_sha256"]) == 64
    assert gen["tokens"] > 0
    assert entry.validation["contract"]["status"] == "ok"
    assert entry.validation["criterion"]["output_key"] == "redness_delta_a"
    assert entry.validation["criterion"]["passed"] is True
    assert "delta_auc_ci" in entry.validation["usefulness"]
    assert summary.to_activate == [f"scafe library activate redness_contrast@v1 --library {tmp_path / 'library'}"]


def test_code_that_measures_the_wrong_thing_is_rejected_by_criterion_tests(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": plan_json(("redness_contrast", "redness_delta_a"))},
                    writes={"redness_contrast": code_reply(WRONG_MEASURE)})  # fmt: skip
    summary, _, _ = run_engineer(tmp_path, router, ["vascularity"], attempts=1, usefulness=SMALL)
    [row] = summary.rows
    assert (row["outcome"], row["last_check"]) == ("rejected", "criterion")
    assert "tracking the haemoglobin excess of the scar" in row["reason"]
    assert "latent_" not in row["reason"]
    report = json.loads((summary.directory / "vascularity/redness_contrast/attempt1.report.json").read_text())
    assert report["contract"]["status"] == "ok"  # it ran fine: only the criterion tests caught it
    assert Library.open(tmp_path / "library").entries() == []


@pytest.mark.slow
def test_two_items_in_parallel_with_activate(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": plan_json(("redness_contrast", "redness_delta_a")),
                           "pigmentation": plan_json(("melanin_contrast", "melanin_shift"))},
                    writes={"redness_contrast": code_reply(REDNESS), "melanin_contrast": code_reply(PIGMENT)})  # fmt: skip
    summary, server, _ = run_engineer(tmp_path, router, ["vascularity", "pigmentation"], usefulness=SMALL, activate=True)
    assert summary.exit_code == 0
    assert [(r["item"], r["outcome"], r["activated"]) for r in summary.rows] == [
        ("vascularity", "accepted", True), ("pigmentation", "accepted", True)]
    assert len(server.requests) == 4
    # both specs were in flight together: each write arrived before either was registered
    events = [json.loads(line) for line in (summary.directory / "events.jsonl").read_text().splitlines()]
    kinds = [(e["event"], e.get("spec")) for e in events]
    first_registered = kinds.index(next(k for k in kinds if k[0] == "registered"))
    asked = {k[1] for k in kinds[:first_registered] if k[0] == "asking"}
    assert asked == {"redness_contrast", "melanin_contrast"}
    assert {e.name for e in Library.open(tmp_path / "library").active()} == {"redness_contrast", "melanin_contrast"}
