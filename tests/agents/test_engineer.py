"""Engineer graph paths that need no validation run: plan failures, no code, truncation, malice, HTTP errors, budgets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.engineer.run import RunOptions, generate
from agents.llm import LLMClient, LLMConfig
from scafe.errors import UsageError
from scafe.library import Library
from tests.agents.scripted import MALICIOUS, VSS, Router, code_reply, plan_json, run_engineer
from tests.support.fake_llm import FakeLLMServer, Reply

PLAN = plan_json(("redness_contrast", "redness_delta_a"))


def _user_text(request: dict) -> str:
    return request["messages"][-1]["content"]


def test_unparseable_plan_is_retried_with_the_problem_then_fails(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": ["I would measure redness.", '{"features": [{"name": "Bad Name"}]}']}, writes={})
    summary, server, _ = run_engineer(tmp_path, router, ["vascularity"])
    assert summary.exit_code == 3
    assert summary.missing_items == ["vascularity"]
    [row] = summary.rows
    assert row["outcome"] == "plan_failed"
    assert "snake_case" in row["reason"]
    assert len(server.requests) == 2
    retry = server.requests[1]["messages"]
    assert retry[2] == {"role": "assistant", "content": "I would measure redness."}
    assert "no JSON object" in retry[3]["content"]


def test_reply_without_code_is_explained_in_the_repair_prompt(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": PLAN}, writes={"redness_contrast": "I cannot write code, sorry."},
                    repairs={"redness_contrast": "Still no code."})  # fmt: skip
    summary, server, _ = run_engineer(tmp_path, router, ["vascularity"], attempts=3)
    [row] = summary.rows
    assert (row["outcome"], row["attempts"], row["last_check"]) == ("rejected", 3, "no_code")
    assert router.count("repair", "redness_contrast") == 2
    repair = next(r for r in server.requests if "Your extractor for the feature" in _user_text(r))
    assert "contained no ```python fenced code block" in _user_text(repair)
    assert Library.open(tmp_path / "library").entries() == []


def test_truncated_reply_is_rejected_and_the_repair_asks_for_shorter_code(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": PLAN},
                    writes={"redness_contrast": Reply(content="```python\ndef extract(image, mask):\n    value = (", finish_reason="length")},
                    repairs={"redness_contrast": "no code"})  # fmt: skip
    summary, server, _ = run_engineer(tmp_path, router, ["vascularity"], attempts=2)
    assert summary.rows[0]["outcome"] == "rejected"
    repair = [r for r in server.requests if "Your extractor for the feature" in _user_text(r)]
    assert len(repair) == 1
    assert "cut off at the token limit" in _user_text(repair[0])
    run_dir = summary.directory / "vascularity" / "redness_contrast"
    assert (run_dir / "attempt1.reply.md").read_text().startswith("```python")  # logged, never used
    assert not (run_dir / "attempt1.code.py").exists()


def test_malicious_code_is_rejected_never_registered_and_has_no_effect(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    bad = MALICIOUS.format(marker=marker)
    router = Router(plans={"vascularity": PLAN}, writes={"redness_contrast": code_reply(bad)},
                    repairs={"redness_contrast": code_reply(bad)})  # fmt: skip
    summary, server, _ = run_engineer(tmp_path, router, ["vascularity"], attempts=2)
    [row] = summary.rows
    assert (row["outcome"], row["last_check"]) == ("rejected", "contract")
    assert "'os' is not available" in row["reason"]
    repair = [r for r in server.requests if "Your extractor for the feature" in _user_text(r)]
    assert "'os' is not available" in _user_text(repair[0])
    assert not marker.exists()
    assert Library.open(tmp_path / "library").entries() == []
    report = json.loads((summary.directory / "vascularity/redness_contrast/attempt1.report.json").read_text())
    assert report["contract"]["status"] == "rejected"


def test_429_then_success(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": [Reply(status=429, retry_after=0), "not json"]}, writes={})
    summary, server, client = run_engineer(tmp_path, router, ["vascularity"])
    assert client.usage.retries == 1
    assert summary.rows[0]["outcome"] == "plan_failed"  # got past the 429 to the (bad) plan
    assert len(server.requests) == 3


def test_500s_exhausting_retries_end_the_item_cleanly(tmp_path: Path) -> None:
    summary, server, client = run_engineer(tmp_path, [Reply(status=500)] * 3, ["vascularity"], max_retries=2)
    [row] = summary.rows
    assert row["outcome"] == "llm_error"
    assert "failed 3 times" in row["reason"]
    assert len(server.requests) == 3
    assert summary.exit_code == 3


def test_call_budget_stops_before_writing(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": PLAN}, writes={"redness_contrast": "unused"})
    summary, server, _ = run_engineer(tmp_path, router, ["vascularity"], max_calls=1)
    [row] = summary.rows
    assert row["outcome"] == "budget"
    assert "--max-calls" in row["reason"]
    assert len(server.requests) == 1


def test_unobservable_item_is_reported_not_planned(tmp_path: Path) -> None:
    summary, server, _ = run_engineer(tmp_path, Router(plans={}, writes={}), ["pliability"])
    assert summary.rows[0]["outcome"] == "unobservable"
    assert "palpation" in summary.rows[0]["reason"]
    assert server.requests == []
    assert summary.exit_code == 3


def test_run_directory_holds_prompts_replies_and_summary(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": PLAN}, writes={"redness_contrast": "no code"})
    summary, _, _ = run_engineer(tmp_path, router, ["vascularity"], attempts=1)
    names = {p.relative_to(summary.directory).as_posix() for p in summary.directory.rglob("*") if p.is_file()}
    assert {"run.json", "checkpoint.sqlite", "events.jsonl", "summary.json", "summary.md", "vascularity/plan.prompt.md",
            "vascularity/plan.reply.md", "vascularity/plan.json", "vascularity/redness_contrast/attempt1.prompt.md",
            "vascularity/redness_contrast/attempt1.reply.md", "vascularity/redness_contrast/gave_up.md"} <= names
    saved = json.loads((summary.directory / "summary.json").read_text())
    assert saved["exit_code"] == 3
    assert saved["results"][0]["spec"] == "redness_contrast"
    assert "| vascularity | redness_contrast | 1 | rejected |" in (summary.directory / "summary.md").read_text()


def test_resuming_a_finished_run_asks_nothing_and_unknown_runs_are_refused(tmp_path: Path) -> None:
    router = Router(plans={"vascularity": PLAN}, writes={"redness_contrast": "no code"})
    first, _, _ = run_engineer(tmp_path, router, ["vascularity"], attempts=1)
    with FakeLLMServer([]) as server:
        client = LLMClient(LLMConfig(base_url=server.url, model="fake-model"))
        again = generate(None, client, runs_dir=tmp_path / "runs", resume=first.run_id)
        assert server.requests == []
    assert again.rows == first.rows
    with pytest.raises(UsageError, match="No run 'nope'"):
        generate(None, client, runs_dir=tmp_path / "runs", resume="nope")
    with pytest.raises(UsageError, match="already exists"):
        generate(RunOptions(criteria_path=VSS, items=["vascularity"]), client, runs_dir=tmp_path / "runs",
                 run_id=first.run_id)  # fmt: skip
