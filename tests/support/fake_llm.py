"""A scripted OpenAI-compatible chat-completions server for tests (real HTTP on 127.0.0.1).

Nothing here is a language model: every reply is a fixture written by a test author. The server
exists so the LLM client and the agents are exercised through the real SDK, real sockets and real
HTTP status codes (429 with ``Retry-After``, 500, slow replies for timeouts, garbage bodies).

Usage::

    with FakeLLMServer(["```python\\n...\\n```", Reply(status=429, retry_after=0.1), "ok"]) as srv:
        client = LLMClient(LLMConfig(base_url=srv.url, model="fake"))
        ...
        srv.requests  # parsed JSON bodies, in arrival order

``replies`` is either a list consumed in order (one entry per HTTP request, retries included) or a
callable ``(request_json) -> reply spec`` (``request_json`` is the parsed body). A reply spec is a
``str`` (the assistant content, finish reason ``stop``), a :class:`Reply`, or a ``dict`` with
:class:`Reply`'s field names. When a list runs out the server answers HTTP 500 with a message that
says so (and counts it in ``.exhausted``), so a test that under-scripts fails loudly.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

__all__ = ["FakeLLMServer", "Reply", "fake_llm_server", "routed"]


@dataclass
class Reply:
    """One scripted HTTP answer.

    Parameters
    ----------
    content : str or None
        Assistant message content (``None`` sends ``"content": null``).
    finish_reason : str
        ``"stop"``, ``"length"`` (truncated), ...
    status : int
        HTTP status; non-200 sends an OpenAI-style error body.
    retry_after : float or None
        Seconds for the ``Retry-After`` header (429/503 responses).
    delay : float
        Seconds to sleep before answering (to provoke client timeouts).
    raw : bytes or None
        Send these bytes verbatim as the body instead of JSON (garbage replies).
    prompt_tokens, completion_tokens : int or None
        Usage figures; default to a rough 4-characters-per-token estimate.
    model : str or None
        Model name echoed in the reply (default: the requested model).
    trickle : float
        Send the body one byte every ``trickle`` seconds (after the headers): every socket read
        succeeds quickly, so only a wall-clock deadline stops such a server.
    """

    content: str | None = ""
    finish_reason: str = "stop"
    status: int = 200
    retry_after: float | None = None
    delay: float = 0.0
    raw: bytes | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None
    trickle: float = 0.0


ReplySpec = str | Reply | dict[str, Any]
Script = Sequence[ReplySpec] | Callable[[dict[str, Any]], ReplySpec]


def _as_reply(spec: ReplySpec) -> Reply:
    if isinstance(spec, Reply):
        return spec
    if isinstance(spec, str):
        return Reply(content=spec)
    if isinstance(spec, dict):
        known = {f.name for f in fields(Reply)}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"FakeLLMServer reply dict has unknown keys {sorted(unknown)}; use {sorted(known)}")
        return Reply(**spec)
    raise TypeError(f"FakeLLMServer reply must be str, Reply or dict; got {type(spec).__name__}")


def _text_of(messages: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
    return "\n".join(parts)


@dataclass
class _State:
    script: Script
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    position: int = 0
    exhausted: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeLLM/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    @property
    def _state(self) -> _State:
        return self.server.fake_state  # type: ignore[attr-defined]

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, trickle: float = 0.0) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        try:
            if trickle > 0:
                self.wfile.flush()
                for index in range(len(body)):
                    self.wfile.write(body[index:index + 1])
                    self.wfile.flush()
                    time.sleep(trickle)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, json.dumps({"object": "list", "data": [{"id": "fake-model", "object": "model"}]}).encode())
        else:
            self._send(404, b'{"error": {"message": "not found"}}')

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        length = int(self.headers.get("Content-Length", "0"))
        raw_body = self.rfile.read(length)
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send(404, json.dumps({"error": {"message": f"unknown path {self.path}"}}).encode())
            return
        try:
            request = json.loads(raw_body)
        except json.JSONDecodeError:
            self._send(400, b'{"error": {"message": "body is not JSON"}}')
            return
        state = self._state
        with state.lock:
            state.requests.append(request)
            state.paths.append(self.path)
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
            if callable(state.script):
                spec: ReplySpec | None = None
            elif state.position < len(state.script):
                spec = state.script[state.position]
                state.position += 1
            else:
                state.exhausted += 1
                spec = Reply(status=500, content=f"FakeLLMServer: no scripted reply left for request #{len(state.requests)}")
        if callable(state.script):
            spec = state.script(request)
        reply = _as_reply(spec)  # type: ignore[arg-type]
        if reply.delay > 0:
            time.sleep(reply.delay)
        headers = {}
        if reply.retry_after is not None:
            headers["Retry-After"] = f"{reply.retry_after:g}"
        if reply.raw is not None:
            self._send(reply.status, reply.raw, headers, reply.trickle)
            return
        if reply.status != 200:
            message = reply.content or f"scripted HTTP {reply.status}"
            body = {"error": {"message": message, "type": "fake_error", "code": reply.status}}
            self._send(reply.status, json.dumps(body).encode(), headers, reply.trickle)
            return
        prompt_text = _text_of(request.get("messages", []))
        prompt_tokens = reply.prompt_tokens if reply.prompt_tokens is not None else max(1, len(prompt_text) // 4)
        completion_tokens = (
            reply.completion_tokens if reply.completion_tokens is not None else max(1, len(reply.content or "") // 4)
        )
        body = {
            "id": f"chatcmpl-fake-{len(state.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": reply.model or request.get("model", "fake-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        self._send(200, json.dumps(body).encode(), headers, reply.trickle)


class FakeLLMServer:
    """Scripted chat-completions server on ``127.0.0.1:<free port>`` (see module docstring).

    Attributes
    ----------
    url : str
        Base URL to give the client, ``http://127.0.0.1:<port>/v1``.
    requests : list of dict
        Parsed request bodies in arrival order (retries included).
    exhausted : int
        How many requests arrived after a list script ran out.
    """

    def __init__(self, replies: Script = ()) -> None:
        self._state = _State(script=replies if callable(replies) else list(replies))
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL (``.../v1``) once started."""
        if self._httpd is None:
            raise RuntimeError("FakeLLMServer is not running; use it as a context manager or call start().")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Parsed JSON bodies of the requests received so far."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def paths(self) -> list[str]:
        """URL paths of the requests received so far."""
        with self._state.lock:
            return list(self._state.paths)

    @property
    def headers(self) -> list[dict[str, str]]:
        """Request headers (lower-case names) of the requests received so far."""
        with self._state.lock:
            return list(self._state.headers)

    @property
    def exhausted(self) -> int:
        """Requests answered with 500 because the scripted list had run out."""
        return self._state.exhausted

    def add(self, *replies: ReplySpec) -> None:
        """Append replies to a list script (e.g. between two runs of a test)."""
        if callable(self._state.script):
            raise TypeError("FakeLLMServer.add works only with a list script, not a callable.")
        with self._state.lock:
            self._state.script.extend(replies)  # type: ignore[union-attr]

    def start(self) -> FakeLLMServer:
        """Bind to a free port and serve in a daemon thread."""
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True  # a sleeping (delay) handler must not block shutdown
        httpd.block_on_close = False
        httpd.fake_state = self._state  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def fake_llm_server() -> Iterator[Callable[[Script], FakeLLMServer]]:
    """Factory fixture: ``srv = fake_llm_server([...])`` starts a server stopped after the test.

    Import it into a test module (``from tests.support.fake_llm import fake_llm_server``) or a
    ``conftest.py`` to use it.
    """
    started: list[FakeLLMServer] = []

    def factory(replies: Script = ()) -> FakeLLMServer:
        server = FakeLLMServer(replies).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


def routed(routes: Sequence[tuple[str, Sequence[ReplySpec]]], default: ReplySpec | None = None) -> Callable[[dict[str, Any]], ReplySpec]:
    """A callable script that picks replies by regex on the last user message.

    ``routes`` is a list of ``(pattern, replies)``; the first pattern found (``re.search``, DOTALL)
    in the last user message's text answers with its replies in order, the last one repeating.
    Useful when parallel requests arrive in no fixed order. No match: ``default``, else HTTP 400
    naming the unmatched prompt (so a missing fixture fails loudly).
    """
    import re

    compiled = [(re.compile(pattern, re.DOTALL), list(replies)) for pattern, replies in routes]
    served: dict[int, int] = {}
    lock = threading.Lock()

    def script(request: dict[str, Any]) -> ReplySpec:
        messages = [m for m in request.get("messages", []) if m.get("role") == "user"]
        text = _text_of(messages[-1:])
        for index, (pattern, replies) in enumerate(compiled):
            if replies and pattern.search(text):
                with lock:
                    position = min(served.get(index, 0), len(replies) - 1)
                    served[index] = served.get(index, 0) + 1
                return replies[position]
        if default is not None:
            return default
        return Reply(status=400, content=f"FakeLLMServer: no route matches the prompt starting {text[:80]!r}")

    return script


def load_script(path: str) -> Script:
    """Read a JSON script: a list of replies, or ``{"routes": [{"match": REGEX, "replies": [...]}]}``.

    A reply is a string (the content) or an object with :class:`Reply`'s field names.
    """
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("routes"), list):
        return routed([(route["match"], route["replies"]) for route in data["routes"]], data.get("default"))
    raise ValueError(f"{path}: a script is a JSON list of replies or an object with a 'routes' list")


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - manual demos and subprocess tests
    """``python -m tests.support.fake_llm SCRIPT.json [--port-file FILE]``: serve until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible server (test fixture, not a model).")
    parser.add_argument("script", help="JSON list of replies or {'routes': [...]} (see load_script)")
    parser.add_argument("--port-file", help="write the base URL here once listening")
    args = parser.parse_args(argv)
    server = FakeLLMServer(load_script(args.script)).start()
    print(f"FakeLLMServer (scripted replies, not a model) at {server.url}", flush=True)
    if args.port_file:
        with open(args.port_file, "w", encoding="utf-8") as handle:
            handle.write(server.url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
