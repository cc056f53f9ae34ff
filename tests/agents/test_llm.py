"""LLM client against the scripted HTTP server: retries, truncation, budgets, record/replay, images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.llm import LLMBudgetExceeded, LLMClient, LLMConfig, LLMTruncated
from agents.recording import ReplayMissError
from scafe.errors import ConfigError, LLMError
from tests.support.fake_llm import FakeLLMServer, Reply

USER = [{"role": "user", "content": "Say something."}]


def _client(server: FakeLLMServer, **overrides) -> tuple[LLMClient, list[float]]:
    sleeps: list[float] = []
    settings = {"base_url": server.url, "model": "fake-model", "backoff_base_s": 0.01, "max_retries": 2}
    settings.update(overrides)
    return LLMClient(LLMConfig(**settings), sleep=sleeps.append), sleeps


def test_plain_reply_and_usage() -> None:
    with FakeLLMServer([Reply(content="hello", prompt_tokens=7, completion_tokens=3)]) as server:
        client, _ = _client(server)
        reply = client.chat(USER, temperature=0.0, max_tokens=50)
    assert reply.text == "hello"
    assert reply.finish_reason == "stop"
    assert (client.usage.calls, client.usage.prompt_tokens, client.usage.completion_tokens) == (1, 7, 3)
    body = server.requests[0]
    assert body["model"] == "fake-model"
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 50
    assert body["messages"] == USER


def test_429_then_success_honours_retry_after() -> None:
    with FakeLLMServer([Reply(status=429, retry_after=7), "fine"]) as server:
        client, sleeps = _client(server, retry_after_cap_s=5)
        assert client.chat(USER).text == "fine"
    assert len(server.requests) == 2
    assert sleeps == [5]  # Retry-After 7 s honoured but capped at 5 s
    assert client.usage.retries == 1


def test_500s_exhaust_retries_with_exponential_backoff() -> None:
    with FakeLLMServer([Reply(status=500)] * 3) as server:
        client, sleeps = _client(server, backoff_base_s=1.0, backoff_max_s=30)
        with pytest.raises(LLMError, match="failed 3 times"):
            client.chat(USER)
    assert len(server.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_timeout_is_retried() -> None:
    with FakeLLMServer([Reply(content="slow", delay=1.5), "quick"]) as server:
        client, sleeps = _client(server, timeout_s=0.3)
        assert client.chat(USER).text == "quick"
    assert len(sleeps) == 1


def test_truncated_reply_rejected_not_trimmed() -> None:
    with FakeLLMServer([Reply(content="def extract(image, mask):\n    return {", finish_reason="length")]) as server:
        client, _ = _client(server)
        with pytest.raises(LLMTruncated, match="token limit"):
            client.chat(USER)
    assert client.usage.calls == 1  # tokens were spent and are counted


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_not_retried(status: int) -> None:
    with FakeLLMServer([Reply(status=status)]) as server:
        client, sleeps = _client(server)
        with pytest.raises(LLMError, match=f"HTTP {status}"):
            client.chat(USER)
    assert len(server.requests) == 1
    assert sleeps == []


def test_garbage_body_is_a_clear_error() -> None:
    with FakeLLMServer([Reply(raw=b"<html>proxy error</html>")]) as server:
        client, _ = _client(server)
        with pytest.raises(LLMError, match="not a chat completion"):
            client.chat(USER)


def test_call_and_token_budgets() -> None:
    with FakeLLMServer([Reply(content="a", prompt_tokens=60, completion_tokens=50), "b"]) as server:
        client, _ = _client(server, max_calls=5, max_total_tokens=100)
        client.chat(USER)
        with pytest.raises(LLMBudgetExceeded, match="token budget of 100"):
            client.chat(USER)
        assert len(server.requests) == 1
    with FakeLLMServer(["a", "b"]) as server:
        client, _ = _client(server, max_calls=1)
        client.chat(USER)
        with pytest.raises(LLMBudgetExceeded, match="--max-calls"):
            client.chat(USER)


def test_images_become_data_url_parts() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    with FakeLLMServer(["seen"]) as server:
        client, _ = _client(server)
        client.chat(USER, images=[png])
    content = server.requests[0]["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "Say something."}
    assert content[1]["type"] == "image_url"
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")
    with pytest.raises(LLMError, match="neither PNG nor JPEG"):
        client.chat(USER, images=[b"GIF89a"])


def test_record_then_replay_offline(tmp_path: Path) -> None:
    record = tmp_path / "rec.jsonl"
    prompts = [[{"role": "user", "content": f"q{i}"}] for i in range(3)]
    with FakeLLMServer(["r0", "r1", Reply(content="r2", finish_reason="length")]) as server:
        client, _ = _client(server, record=record)
        texts = [client.chat(p).text for p in prompts[:2]]
        with pytest.raises(LLMTruncated):
            client.chat(prompts[2])
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [line["reply"]["text"] for line in lines] == ["r0", "r1", "r2"]
    # the server is gone: replay must not need it, and must reproduce the truncation too
    replay = LLMClient(LLMConfig.from_env(replay=record))
    assert replay.config.model == "fake-model"
    assert [replay.chat(p).text for p in prompts[:2]] == texts
    with pytest.raises(LLMTruncated):
        replay.chat(prompts[2])
    assert replay.usage.replayed == 3
    with pytest.raises(ReplayMissError, match="no reply for request"):
        replay.chat([{"role": "user", "content": "never asked"}])


def test_no_endpoint_explains_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCAFE_ROOT", str(tmp_path))
    with pytest.raises(ConfigError) as info:
        LLMConfig.from_env()
    text = str(info.value)
    for needle in ("OPENAI_BASE_URL", "Ollama", "http://localhost:11434/v1", "llama.cpp", "http://localhost:8080/v1", "vLLM"):
        assert needle in text
    with pytest.raises(ConfigError, match="No model"):
        LLMConfig.from_env(base_url="http://localhost:11434/v1")


def test_env_and_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "scafe.toml").write_text('[llm]\nbase_url = "http://localhost:8080/v1"\nmodel = "from-file"\ntimeout_s = 9\n')
    monkeypatch.setenv("SCAFE_ROOT", str(tmp_path))
    config = LLMConfig.from_env()
    assert (config.model, config.timeout_s, config.provider) == ("from-file", 9, "llama.cpp")
    monkeypatch.setenv("SCAFE_MODEL", "from-env")
    assert LLMConfig.from_env().model == "from-env"
    assert LLMConfig.from_env(model="from-flag").model == "from-flag"
    assert LLMConfig.from_env(base_url="http://localhost:11434/v1").provider == "ollama"


def test_routed_script_answers_by_prompt(tmp_path: Path) -> None:
    from tests.support.fake_llm import load_script

    script = tmp_path / "script.json"
    script.write_text(json.dumps({"routes": [{"match": "apples", "replies": ["red", "green"]},
                                             {"match": "sky", "replies": [{"content": "blue", "finish_reason": "stop"}]}]}))  # fmt: skip
    with FakeLLMServer(load_script(str(script))) as server:
        client, _ = _client(server)
        ask = lambda text: client.chat([{"role": "user", "content": text}]).text  # noqa: E731
        assert [ask("sky?"), ask("apples?"), ask("apples?"), ask("apples?")] == ["blue", "red", "green", "green"]
        with pytest.raises(LLMError, match="HTTP 400"):
            ask("pears?")


def test_api_key_is_sent_but_never_recorded(tmp_path: Path) -> None:
    record = tmp_path / "rec.jsonl"
    with FakeLLMServer(["ok"]) as server:
        client, _ = _client(server, api_key="sk-test-secret-123", record=record)
        client.chat(USER)
    assert server.headers[0]["authorization"] == "Bearer sk-test-secret-123"
    assert "sk-test-secret-123" not in record.read_text()
    assert "sk-test-secret-123" not in repr(client.config)
