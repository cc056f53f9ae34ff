"""Repair feedback through the real engineer graph, sandbox and criterion tests (scripted LLM).

Issue 11 item 4: the repair prompt shows every failing check with found vs required, every passing
check, the figures of earlier attempts, and advice keyed to the failure and to the code.
"""

from __future__ import annotations

from pathlib import Path

from tests.agents.scripted import (
    REDNESS,
    WRONG_MEASURE,
    Router,
    code_reply,
    plan_json,
    run_engineer,
)


def _user_text(request: dict) -> str:
    return request["messages"][-1]["content"]


def test_second_repair_shows_history_checks_and_keyed_advice(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": plan_json(("redness_contrast", "redness_delta_a"))},
                    writes={"redness_contrast": code_reply(WRONG_MEASURE)},
                    repairs={"redness_contrast": [code_reply(WRONG_MEASURE), code_reply(REDNESS)]})  # fmt: skip
    summary, server, _ = run_engineer(tmp_path, router, ["vascularity"], attempts=3)
    [row] = summary.rows
    assert (row["outcome"], row["attempts"]) == ("accepted", 3)
    repairs = [_user_text(r) for r in server.requests if "Your extractor for the feature" in _user_text(r)]
    assert len(repairs) == 2
    first, second = repairs
    for text in (first, second):
        assert "Failing checks (found vs required):" in text
        assert "Passing checks (keep these):" in text
        assert "tracking the haemoglobin excess of the scar over the surrounding skin: rank correlation" in text
        assert "required >= +0.40" in text  # vascularity min_rho (prompts/criteria/vss.yaml)
        assert "Advice for this failure, given what your code already does:" in text
        assert "validation phantoms per family" in text
        # the scripted code reads L* for a redness item: the advice says so instead of "flip the sign"
        assert "L* (lightness)" in text
        assert "flipping the sign will not make it a measure of this item" in text
        assert "latent_" not in text
        assert "nuisance_" not in text
        # the code already compares with a ring: the advice must not tell it to do so again
        assert "compare the lesion with a ring of skin just outside it" not in text
    assert "Earlier attempts" not in first  # nothing earlier than the failing attempt yet
    history = second.split("Earlier attempts (figures as measured; do not lose what already passed):")[1]
    assert "attempt 1: criterion tests failed; family a: rho " in history.splitlines()[1]
