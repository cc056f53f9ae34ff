"""Record/replay of LLM exchanges as JSONL keyed by a hash of the canonical request.

A generation run recorded with ``--record FILE`` can be reproduced with ``--replay FILE`` with no
network: every request is hashed (``request_key``) and answered from the file. One line per
exchange::

    {"key": "<sha256>", "request": {...canonical request...}, "reply": {"text": ..., "finish_reason": ...,
     "prompt_tokens": ..., "completion_tokens": ..., "model": ...}, "digest": "<sha256>"}

``digest`` is the SHA-256 of the canonical JSON of ``{key, request, reply}``: a replay refuses a
line whose digest does not match (a reply edited after recording is never presented as the
recorded model's output), a line whose ``key`` is not the hash of its request, and a line without
a digest (recorded before digests existed: re-record it). Secrets registered in
``agents.redaction`` are masked before a line is written.

The same request may legitimately occur several times in one run (e.g. a retried plan); replay
answers the n-th occurrence of a key with the n-th recorded reply for it, and the last one after
that, so the replayed run follows the recorded one exactly.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from agents.redaction import redact_obj
from scafe.errors import ConfigError, LLMError

__all__ = ["ReplayMissError", "Recorder", "Replayer", "canonical_request", "exchange_digest", "request_key"]


class ReplayMissError(LLMError):
    """A replayed run asked for a request that the recording does not hold."""


def canonical_request(
    model: str, messages: list[dict[str, Any]], temperature: float, max_tokens: int
) -> dict[str, Any]:
    """The request fields that determine a reply (and nothing else: no keys, no timeouts)."""
    return {"model": model, "messages": messages, "temperature": float(temperature), "max_tokens": int(max_tokens)}


def request_key(request: dict[str, Any]) -> str:
    """``sha256`` hex digest of the request as sorted, compact, UTF-8 JSON."""
    blob = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def exchange_digest(key: str, request: dict[str, Any], reply: dict[str, Any]) -> str:
    """``sha256`` of the canonical JSON of one exchange (what a cassette line's ``digest`` holds)."""
    blob = json.dumps({"key": key, "request": request, "reply": reply}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Recorder:
    """Append exchanges to a JSONL file, one flushed line each (safe across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, key: str, request: dict[str, Any], reply: dict[str, Any]) -> None:
        """Append one exchange (secrets masked, digest added)."""
        request, reply = redact_obj(request), redact_obj(reply)
        digest = exchange_digest(key, request, reply)
        line = json.dumps({"key": key, "request": request, "reply": reply, "digest": digest}, sort_keys=True,
                          ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class Replayer:
    """Answer requests from a recording made by :class:`Recorder`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ConfigError(
                f"The replay file {str(self.path)!r} does not exist; record one first with "
                "`scafe generate ... --record FILE`."
            )
        self._replies: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._served: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.models: set[str] = set()
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                key, request, reply = entry["key"], entry["request"], entry["reply"]
                model = request["model"]
                digest = entry.get("digest")
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ConfigError(
                    f"Line {number} of the replay file {str(self.path)!r} is not a recorded exchange ({exc}); "
                    "use a file written by --record."
                ) from exc
            where = f"Line {number} of the replay file {str(self.path)!r}"
            if not isinstance(digest, str):
                raise ConfigError(f"{where} has no digest (recorded before digests existed, or hand-made); "
                                  "re-record it with --record.")
            if digest != exchange_digest(key, request, reply) or key != request_key(request):
                raise ConfigError(f"{where} was edited after it was recorded (its digest does not match); "
                                  "a replay must reproduce the recorded model's output, so it is refused. "
                                  "Re-record it with --record.")
            self._replies[key].append(reply)
            self.models.add(model)

    def __len__(self) -> int:
        return sum(len(v) for v in self._replies.values())

    def answer(self, key: str, request: dict[str, Any]) -> dict[str, Any]:
        """The recorded reply for this request; ``ReplayMissError`` if there is none."""
        with self._lock:
            replies = self._replies.get(key)
            if not replies:
                last_user = next(
                    (m.get("content") for m in reversed(request["messages"]) if m.get("role") == "user"), ""
                )
                preview = (last_user if isinstance(last_user, str) else json.dumps(last_user))[:120]
                raise ReplayMissError(
                    f"The replay file {str(self.path)!r} has no reply for request {key[:12]} "
                    f"(model {request['model']!r}, prompt starting {preview!r}). The prompts, templates, "
                    "criteria or model changed since it was recorded; re-record with --record."
                )
            index = min(self._served[key], len(replies) - 1)
            self._served[key] += 1
            return dict(replies[index])
