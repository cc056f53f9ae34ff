"""Issue 12 items 8-12: endpoint on resume, key redaction, deadlines and caps, verified replays, escaping."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from agents.llm import LLMBudgetExceeded, LLMClient, LLMConfig
from agents.redaction import clear_secrets, redact_url
from scafe.cli import main
from scafe.errors import ConfigError, LLMError
from tests.agents.scripted import VSS, Router, plan_json
from tests.support.fake_llm import FakeLLMServer, Reply

KEY = "sk-test-SECRET-0123456789abcdef"
USER = [{"role": "user", "content": "Say something."}]


@pytest.fixture(autouse=True)
def _forget_secrets():
    clear_secrets()
    yield
    clear_secrets()


def _client(server: FakeLLMServer, sleeps: list[float] | None = None, **overrides) -> LLMClient:
    settings = {"base_url": server.url, "model": "fake-model", "backoff_base_s": 0.01, "max_retries": 0}
    settings.update(overrides)
    return LLMClient(LLMConfig(**settings), sleep=(sleeps.append if sleeps is not None else time.sleep))


# ---------------------------------------------------------------- item 8: endpoint and run ids on resume

def _stored_run(runs: Path, run_id: str, base_url: str, checkpoint: bool = True) -> None:
    directory = runs / run_id
    directory.mkdir(parents=True)
    options = {"criteria_path": str(VSS), "items": ["vascularity"], "library_dir": None, "attempts": 1,
               "plan_attempts": 1, "activate": False, "usefulness": None}
    (directory / "run.json").write_text(json.dumps({"options": options, "llm": {"model": "fake-model"},
                                                    "base_url": base_url}))
    if checkpoint:
        (directory / "checkpoint.sqlite").write_bytes(b"")


def test_resume_never_sends_the_key_to_the_stored_url(tmp_path, monkeypatch, capsys):
    with FakeLLMServer([]) as attacker, FakeLLMServer([]) as configured:
        _stored_run(tmp_path / "runs", "r1", attacker.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", configured.url)
        code = main(["generate", "--resume", "r1", "--runs-dir", str(tmp_path / "runs")])
        err = " ".join(capsys.readouterr().err.split())
        assert code == 2
        assert "--allow-endpoint-change" in err
        # nothing configured but a key: the stored URL is not used either
        monkeypatch.delenv("OPENAI_BASE_URL")
        monkeypatch.setenv("SCAFE_CONFIG", str(tmp_path / "empty.toml"))
        (tmp_path / "empty.toml").write_text("")
        code = main(["generate", "--resume", "r1", "--runs-dir", str(tmp_path / "runs")])
        assert code == 2
        assert "never sent to an address read from run.json" in " ".join(capsys.readouterr().err.split())
        assert attacker.requests == []
        assert configured.requests == []


@pytest.mark.parametrize("flag", ["--resume", "--run-id"])
@pytest.mark.parametrize("bad", ["../outside", "a/b", "..", "/etc", "x\\y"])
def test_run_ids_with_paths_are_refused(tmp_path, capsys, flag, bad):
    args = ["generate", flag, bad, "--runs-dir", str(tmp_path / "runs"), "--base-url", "http://127.0.0.1:9/v1",
            "--model", "m"] + (["--criteria", "vss"] if flag == "--run-id" else [])
    assert main(args) == 2
    assert "no '..', no path separators" in " ".join(capsys.readouterr().err.split())


def test_resume_without_checkpoint_is_a_clear_message(tmp_path, capsys):
    with FakeLLMServer([]) as server:
        _stored_run(tmp_path / "runs", "r2", server.url, checkpoint=False)
        code = main(["generate", "--resume", "r2", "--runs-dir", str(tmp_path / "runs"), "--base-url", server.url])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "no checkpoint" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- item 9: the key is never written

def test_key_echoed_by_the_server_is_written_nowhere(tmp_path, monkeypatch, capsys):
    plan = plan_json(("redness_contrast", "redness_delta_a")) + f"\n(by the way your key is {KEY})"
    router = Router(plans={"vascularity": plan},
                    writes={"redness_contrast": [Reply(status=500, content=f"upstream rejected key {KEY}"),
                                                 f"no code here, {KEY} [/] \x1b]0;owned\x07"]})
    record = tmp_path / "cassette.jsonl"
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeLLMServer(router) as server:
        code = main(["generate", "--criteria", "vss", "--items", "vascularity", "--library", str(tmp_path / "lib"),
                     "--runs-dir", str(tmp_path / "runs"), "--base-url", server.url, "--model", "fake-model",
                     "--attempts", "1", "--no-usefulness", "--run-id", "leak", "--record", str(record)])
        assert server.headers[0]["authorization"] == f"Bearer {KEY}"  # the key was really used
    captured = capsys.readouterr()
    assert code == 3
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert record in written
    assert (tmp_path / "runs" / "leak" / "checkpoint.sqlite") in written
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in captured.out + captured.err
    assert "[REDACTED]" in record.read_text()
    assert "\x1b" not in captured.out + captured.err


def test_url_password_is_redacted():
    url = "http://alice:pa55-word-long@127.0.0.1:8000/v1"
    assert redact_url(url) == "http://[REDACTED]@127.0.0.1:8000/v1"


# ---------------------------------------------------------------- item 10: deadlines and caps

def test_trickling_server_is_cut_at_the_wall_clock_timeout():
    body = Reply(content="x" * 400, trickle=0.25)  # ~600 bytes at 4 per second: minutes if waited for
    with FakeLLMServer([body]) as server:
        client = _client(server, timeout_s=1.0)
        started = time.monotonic()
        with pytest.raises(LLMError, match="wall clock"):
            client.chat(USER)
        assert time.monotonic() - started < 100  # cut at 1 s; per-read timeouts alone would wait ~150 s


def test_run_deadline_stops_further_calls():
    with FakeLLMServer([Reply(content="slow", delay=3.0), "never"]) as server:
        client = _client(server, timeout_s=30, run_deadline_s=1.0)
        with pytest.raises(LLMError):
            client.chat(USER)
        with pytest.raises(LLMBudgetExceeded, match="deadline"):
            client.chat(USER)
        assert len(server.requests) == 1


def test_retry_after_total_wait_is_capped():
    sleeps: list[float] = []
    with FakeLLMServer([Reply(status=429, retry_after=50)] * 5 + ["ok"]) as server:
        client = _client(server, sleeps, max_retries=5, retry_after_cap_s=60, retry_wait_total_s=100)
        with pytest.raises(LLMError, match="failed"):
            client.chat(USER)
    assert sum(sleeps) <= 100
    assert sleeps == [50, 50]


def test_oversized_reply_is_refused_and_not_recorded(tmp_path):
    record = tmp_path / "rec.jsonl"
    with FakeLLMServer([Reply(content="y" * 50_000)]) as server:
        client = _client(server, max_reply_bytes=10_000, record=record)
        with pytest.raises(LLMError, match="max_reply_bytes"):
            client.chat(USER)
    assert not record.exists() or "yyyy" not in record.read_text()


@pytest.mark.parametrize(("prompt", "completion"), [(7, 0), (7, 1), (10**9, 500), (0, 10**9)])
def test_implausible_token_counts_are_replaced_by_a_local_count(prompt, completion):
    with FakeLLMServer([Reply(content="z" * 4000, prompt_tokens=prompt, completion_tokens=completion)]) as server:
        client = _client(server)
        reply = client.chat(USER)
    assert reply.tokens_estimated
    assert reply.completion_tokens == 1000 or reply.completion_tokens == completion
    assert client.usage.total_tokens < 10**6
    assert client.usage.estimated_token_counts == 1


def test_plausible_token_counts_are_kept():
    with FakeLLMServer([Reply(content="z" * 4000, prompt_tokens=5, completion_tokens=900)]) as server:
        reply = _client(server).chat(USER)
    assert (reply.prompt_tokens, reply.completion_tokens, reply.tokens_estimated) == (5, 900, False)


# ---------------------------------------------------------------- item 11: verified replays

def _recorded(tmp_path: Path) -> Path:
    record = tmp_path / "rec.jsonl"
    with FakeLLMServer(["the recorded answer"]) as server:
        _client(server, record=record).chat(USER)
    return record


def test_untouched_cassette_replays(tmp_path):
    record = _recorded(tmp_path)
    client = LLMClient(LLMConfig(model="fake-model", replay=record))
    assert client.chat(USER).text == "the recorded answer"


@pytest.mark.parametrize("edit", ["reply", "request", "digest"])
def test_edited_cassette_is_refused(tmp_path, edit):
    record = _recorded(tmp_path)
    entry = json.loads(record.read_text())
    if edit == "reply":
        entry["reply"]["text"] = "an answer the model never gave"
    elif edit == "request":
        entry["request"]["temperature"] = 1.5
    else:
        del entry["digest"]
    record.write_text(json.dumps(entry) + "\n")
    with pytest.raises(ConfigError, match="edited|digest"):
        LLMClient(LLMConfig(model="fake-model", replay=record))


# ---------------------------------------------------------------- item 12: untrusted text reaches rich escaped

def test_progress_printer_survives_markup_and_escapes():
    from rich.console import Console
    from rich.progress import Progress

    from scafe.cli.cmd_generate import _progress_printer

    buffer = io.StringIO()
    with Progress(console=Console(file=buffer, width=200)) as bar:
        progress = _progress_printer(bar)
        progress("plan_failed", {"item": "vascularity", "reason": "HTTP 500: [/] [bold red]boom\x1b[2J\x1b]0;t\x07"})
        progress("planned", {"item": "x[/b]", "specs": ["[/]", "ok"]})
        progress("gave_up", {"item": "v", "spec": "s", "outcome": "[/]"})
    text = buffer.getvalue()
    assert "[/] [bold red]boom" in text
    assert "x[/b]" in text
    assert "\x1b[2J" not in text
    assert "\x1b]0" not in text


def test_error_with_markup_prints_literally(tmp_path, capsys):
    # a file name with markup and an escape sequence in an error message
    bad = tmp_path / "[/]\x1b[31m.csv"
    assert main(["extract", "--data", str(bad), "--out", str(tmp_path / "o.csv")]) != 0
    err = capsys.readouterr().err
    assert "[/]" in err
    assert "\x1b[31m" not in err


def test_textsafe_strips_and_escapes():
    from scafe.textsafe import escape_markup, safe_text, strip_control

    assert strip_control("a\x1b[1;31mb\x1b]2;title\x07c\x07d\u202ee\r") == "abcde\n"
    assert escape_markup("[b]x[/b]") == "\\[b]x\\[/b]"
    assert safe_text("[/]\x1b[0mxyz", limit=3) == "\\[/]…"
