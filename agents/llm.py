"""The one place that talks to an LLM endpoint: any OpenAI-compatible chat-completions server.

Configuration is :class:`LLMConfig` (``agents/llm_config.py``: flags > environment > config file).

Behaviour: the SDK's own retries are disabled (``max_retries=0``) and replaced by a bounded loop
with exponential backoff ``delay_k = min(backoff_max_s, backoff_base_s * 2**k)`` on 429, 5xx,
408/409, timeouts and connection errors; a ``Retry-After`` header is honoured up to
``retry_after_cap_s``. A reply cut at the token limit (``finish_reason == "length"``) raises
:class:`LLMTruncated` (never trimmed). Calls and tokens are counted in :attr:`LLMClient.usage`;
optional budgets (``max_calls``, ``max_total_tokens``) raise :class:`LLMBudgetExceeded`. A
semaphore bounds concurrent requests. With ``record`` every exchange is appended to a JSONL file;
with ``replay`` the client answers from such a file and never opens a socket.

Bounds (issue 12): ``timeout_s`` is the wall clock of one HTTP request *including the reply*
(a server trickling bytes cannot hold it longer); one call, retries and waits included, ends by
``call_deadline`` and every call of the client by ``run_deadline_s``; waiting between retries is
capped per wait (``retry_after_cap_s``) and in total (``retry_wait_total_s``); bodies above
``max_reply_bytes`` are refused while reading. Token counts the server reports that no tokenizer
could produce (0, or more tokens than characters) are replaced by a local estimate (4 characters
per token) and counted in ``usage.estimated_token_counts``. The API key (and any URL password) is
redacted from reply texts, model names and error messages before anything else sees them.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from agents.llm_config import SETUP_HELP, LLMConfig
from agents.recording import Recorder, Replayer, ReplayMissError, canonical_request, request_key
from agents.redaction import redact, redact_url, register_secret, register_url
from scafe.errors import ConfigError, LLMError

__all__ = [
    "ChatReply",
    "LLMBudgetExceeded",
    "LLMClient",
    "LLMConfig",
    "LLMTruncated",
    "ReplayMissError",
    "Usage",
    "SETUP_HELP",
]

_RETRYABLE_STATUS = {408, 409, 429}


class LLMTruncated(LLMError):
    """The reply stopped at the token limit (``finish_reason == "length"``); it is rejected, not trimmed.

    ``reply`` holds the cut reply so callers can log it (never use it as a result).
    """

    def __init__(self, message: str, reply: ChatReply | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class LLMBudgetExceeded(LLMError):
    """The run's call or token budget is spent."""


@dataclass(frozen=True)
class ChatReply:
    """One assistant reply. ``seconds`` is wall time including retries; ``replayed`` if from a recording."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    seconds: float = 0.0
    replayed: bool = False
    key: str = ""
    tokens_estimated: bool = False


@dataclass
class Usage:
    """Running totals for one client (thread-safe through the client's lock)."""

    calls: int = 0
    http_requests: int = 0
    retries: int = 0
    replayed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_seconds: float = 0.0
    estimated_token_counts: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        """Plain dict including ``total_tokens``."""
        return {**asdict(self), "total_tokens": self.total_tokens}


def image_parts(images: Sequence[bytes]) -> list[dict[str, Any]]:
    """PNG/JPEG bytes → chat ``image_url`` parts with base64 data URLs."""
    parts = []
    for index, blob in enumerate(images):
        if blob[:8] == b"\x89PNG\r\n\x1a\n":
            mime = "image/png"
        elif blob[:3] == b"\xff\xd8\xff":
            mime = "image/jpeg"
        else:
            raise LLMError(f"Image #{index} passed to the LLM is neither PNG nor JPEG; encode it as PNG first.")
        url = f"data:{mime};base64,{base64.b64encode(blob).decode('ascii')}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


class LLMClient:
    """Chat with one configured endpoint (or a recording). See the module docstring."""

    def __init__(self, config: LLMConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.usage = Usage()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._semaphore = threading.BoundedSemaphore(config.concurrency)
        self._replayer = Replayer(config.replay) if config.replay is not None else None
        self._recorder = Recorder(config.record) if config.record is not None else None
        self._sdk: Any = None
        self._started = time.monotonic()
        register_secret(config.api_key)  # never written anywhere, even when a server echoes it
        register_url(config.base_url)
        if self._replayer is None and not config.base_url:
            raise ConfigError(SETUP_HELP)

    def _client(self) -> Any:
        if self._sdk is None:
            import openai

            self._sdk = openai.OpenAI(
                base_url=self.config.base_url, api_key=self.config.api_key or "not-needed",
                timeout=self.config.timeout_s, max_retries=0,  # our own bounded, testable loop
            )
        return self._sdk

    def provenance(self) -> dict[str, Any]:
        """What a generated artefact records about its generator."""
        return {"provider": self.config.provider, "model": self.config.model, "temperature": self.config.temperature}

    def _check_budget(self) -> None:
        with self._lock:
            if self.config.max_calls is not None and self.usage.calls >= self.config.max_calls:
                raise LLMBudgetExceeded(
                    f"The call budget of {self.config.max_calls} LLM calls is spent; raise --max-calls to continue."
                )
            if self.config.max_total_tokens is not None and self.usage.total_tokens >= self.config.max_total_tokens:
                raise LLMBudgetExceeded(
                    f"The token budget of {self.config.max_total_tokens} tokens is spent "
                    f"({self.usage.total_tokens} used); raise --max-tokens to continue."
                )

    def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        images: Sequence[bytes] | None = None,
    ) -> ChatReply:
        """Send one chat completion and return the reply text.

        Raises
        ------
        LLMTruncated
            ``finish_reason == "length"``.
        LLMBudgetExceeded
            ``max_calls`` / ``max_total_tokens`` spent.
        ReplayMissError
            In replay mode, a request the recording does not hold.
        LLMError
            The endpoint failed after the retries, or refused the request.
        """
        messages = [dict(m) for m in messages]
        if images:
            if not messages or messages[-1].get("role") != "user":
                raise LLMError("images= needs the last message to be a user message to attach them to.")
            text = messages[-1]["content"]
            messages[-1]["content"] = [{"type": "text", "text": text}, *image_parts(images)]
        request = canonical_request(
            self.config.model, messages,
            self.config.temperature if temperature is None else temperature,
            self.config.max_tokens if max_tokens is None else max_tokens,
        )
        key = request_key(request)
        self._check_budget()
        started = time.perf_counter()
        if self._replayer is not None:
            reply = self._replayer.answer(key, request)
            replayed = True
        else:
            deadline = time.monotonic() + self.config.call_deadline
            if self.config.run_deadline_s is not None:
                run_end = self._started + self.config.run_deadline_s
                if time.monotonic() >= run_end:
                    raise LLMBudgetExceeded(
                        f"The run's LLM deadline of {self.config.run_deadline_s:g} s is spent; raise --run-deadline "
                        "or resume the run later."
                    )
                deadline = min(deadline, run_end)
            with self._semaphore:
                reply = self._send_with_retries(request, deadline)
            replayed = False
            if self._recorder is not None:
                self._recorder.write(key, request, reply)
        seconds = time.perf_counter() - started
        fields = {k: reply[k] for k in ("text", "finish_reason", "prompt_tokens", "completion_tokens", "model")}
        result = ChatReply(seconds=seconds, replayed=replayed, key=key,
                           tokens_estimated=bool(reply.get("tokens_estimated")), **fields)
        with self._lock:
            self.usage.calls += 1
            self.usage.estimated_token_counts += int(result.tokens_estimated)
            self.usage.replayed += int(replayed)
            self.usage.prompt_tokens += result.prompt_tokens
            self.usage.completion_tokens += result.completion_tokens
            self.usage.llm_seconds += seconds
        if result.finish_reason == "length":
            raise LLMTruncated(
                f"The reply from {result.model!r} was cut at the token limit ({request['max_tokens']} completion "
                "tokens) and is rejected; raise max_tokens or ask for shorter code.",
                reply=result,
            )
        return result

    def _send_with_retries(self, request: dict[str, Any], deadline: float) -> dict[str, Any]:
        import openai

        cfg = self.config
        last_problem = ""
        waited = 0.0
        attempts = 0
        for attempt in range(cfg.max_retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                last_problem = last_problem or "no time left"
                break
            attempts += 1
            with self._lock:
                self.usage.http_requests += 1
                self.usage.retries += int(attempt > 0)
            retry_after: float | None = None
            try:
                return self._send_once(request, min(cfg.timeout_s, remaining))
            except _DeadlineHit as exc:
                last_problem = str(exc)
            except openai.APITimeoutError:
                last_problem = f"timed out after {cfg.timeout_s:g} s"
            except openai.APIConnectionError as exc:
                last_problem = redact(f"connection failed ({exc.__cause__ or exc})")
            except openai.APIStatusError as exc:
                status = exc.status_code
                if status not in _RETRYABLE_STATUS and status < 500:
                    raise LLMError(_status_help(status, cfg, exc)) from None
                last_problem = f"HTTP {status}: {_short(exc)}"
                retry_after = _parse_retry_after(exc.response.headers.get("retry-after"))
            except (openai.APIResponseValidationError, ValueError, TypeError, AttributeError, KeyError) as exc:
                raise LLMError(
                    f"The endpoint {redact_url(cfg.base_url)!r} answered with a body that is not a chat completion "
                    f"({redact(str(exc))[:200]}); check that the base URL points at an OpenAI-compatible /v1 API."
                ) from None
            if attempt == cfg.max_retries:
                break
            delay = min(cfg.backoff_max_s, cfg.backoff_base_s * 2**attempt)
            if retry_after is not None:
                delay = max(delay, min(retry_after, cfg.retry_after_cap_s))
            # waiting is bounded in total per call, and by the call's deadline
            delay = min(delay, cfg.retry_wait_total_s - waited, deadline - time.monotonic())
            if delay < 0 or (delay == 0 and retry_after):
                last_problem += " (no waiting time left for another retry)"
                break
            waited += delay
            self._sleep(delay)
        raise LLMError(
            f"The LLM endpoint {redact_url(cfg.base_url)!r} failed {attempts} times within the call deadline of "
            f"{cfg.call_deadline:g} s (last: {last_problem}); check that the server is up, or raise "
            "max_retries/timeout_s in scafe.toml."
        )

    def _send_once(self, request: dict[str, Any], seconds: float) -> dict[str, Any]:
        """One HTTP request with a wall-clock limit on the whole exchange and a cap on the reply size.

        The SDK's timeout bounds each socket read only, so a server trickling one byte at a time
        could hold a call forever; here the request runs in a worker thread that is abandoned at
        the deadline (it stops at its next read: it checks a flag between chunks).
        """
        cap = self.config.max_reply_bytes
        outcome: dict[str, Any] = {}
        cancelled = threading.Event()

        def work() -> None:
            try:
                api = self._client().chat.completions.with_streaming_response
                with api.create(**request) as response:
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in response.iter_bytes():
                        if cancelled.is_set():
                            return
                        size += len(chunk)
                        if size > cap:
                            outcome["error"] = LLMError(
                                f"The reply from {redact_url(self.config.base_url)!r} is larger than max_reply_bytes "
                                f"= {cap} bytes and was refused unread (a chat reply with code is a few kB)."
                            )
                            return
                        chunks.append(chunk)
                outcome["body"] = b"".join(chunks)
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="scafe-llm-request", daemon=True)
        worker.start()
        worker.join(seconds)
        if worker.is_alive():
            cancelled.set()
            raise _DeadlineHit(f"timed out after {seconds:g} s (wall clock: no complete reply; the server is "
                               "too slow or trickling)")
        if "error" in outcome:
            error = outcome["error"]
            if isinstance(error, LLMError):
                raise LLMError(str(error)) from None
            raise error
        return _reply_dict(json.loads(outcome["body"].decode("utf-8")), request)


class _DeadlineHit(Exception):
    """One request ran past its wall-clock limit (retried like a timeout)."""


def _plausible(reported: int, text: str, extra: int = 64) -> bool:
    """Can a tokenizer have made ``reported`` tokens of ``text``? (1..16 bytes per token, plus framing.)"""
    size = len(text.encode("utf-8"))
    return (size == 0 or reported * 16 >= size) and reported <= len(text) + extra


def estimate_tokens(text: str) -> int:
    """A local count when the server's is missing or implausible: about 4 characters per token."""
    return max(1, (len(text) + 3) // 4) if text else 0


def _reply_dict(body: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The fields of a chat completion body, with secrets redacted and token counts checked."""
    if not isinstance(body, dict):
        raise ValueError("the reply is not a JSON object")
    choices = body.get("choices")
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise ValueError("the reply has no choices")
    choice = choices[0]
    message = choice.get("message") or {}
    if not isinstance(message, dict):
        raise ValueError("choices[0].message is not an object")
    text = message.get("content") or ""
    if not isinstance(text, str):
        raise ValueError("choices[0].message.content is not text")
    usage: dict[str, Any] = body["usage"] if isinstance(body.get("usage"), dict) else {}
    prompt_text = "\n".join(_message_text(m) for m in request.get("messages", []))
    has_images = any(isinstance(m.get("content"), list) for m in request.get("messages", []))

    def count(name: str, reference: str, extra: int) -> tuple[int, bool]:
        try:
            reported = int(usage.get(name) or 0)
        except (TypeError, ValueError):
            reported = 0
        if reported > 0 and (_plausible(reported, reference, extra) or (name == "prompt_tokens" and has_images
                                                                        and reported * 16 >= len(reference))):
            return reported, False
        return estimate_tokens(reference), True

    extra = 64 * (len(request.get("messages", [])) + 1)
    prompt_tokens, prompt_estimated = count("prompt_tokens", prompt_text, extra)
    completion_tokens, completion_estimated = count("completion_tokens", text, 64)
    model = body.get("model") if isinstance(body.get("model"), str) and body.get("model") else request["model"]
    return {
        "text": redact(text),
        "finish_reason": str(choice.get("finish_reason") or "stop"),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "model": redact(str(model))[:200],
        "tokens_estimated": prompt_estimated or completion_estimated,
    }


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _short(exc: Exception) -> str:
    text = redact(str(exc))
    return text.splitlines()[0][:200] if text.strip() else type(exc).__name__


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _status_help(status: int, cfg: LLMConfig, exc: Exception) -> str:
    hints = {
        401: "the API key was refused; check OPENAI_API_KEY",
        403: "access denied; check the key's permissions for this model",
        404: f"not found; check the base URL {redact_url(cfg.base_url)!r} (usually ends in /v1) and the model {cfg.model!r}",
        400: "the request was refused (prompt too long for the model's context?)",
    }
    return f"The LLM endpoint answered HTTP {status} ({_short(exc)}): {hints.get(status, 'not retryable')}."
