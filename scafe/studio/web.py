"""Page rendering and access control shared by every studio route.

Templates run in ``jinja2.sandbox.SandboxedEnvironment`` with autoescape on: every value a page
shows (criteria text, file names, extractor source, LLM text in provenance) is HTML-escaped unless
it was produced by a trusted formatter that escapes itself (Pygments, ``diff_lines``).

Access control (``TokenGate``): requests need the random token, given once as ``?token=`` (then
an HttpOnly, SameSite=Strict cookie, and a redirect that drops it from the address bar), else 403.
Without ``--host`` the Host header must name the loopback interface (a DNS-rebinding page cannot
reach the studio), and a write from another origin is refused. Every answer carries a
Content-Security-Policy that allows scripts only from the studio itself.
"""

from __future__ import annotations

import hmac
import json
from functools import lru_cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
COOKIE = "scafe_studio"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
     b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The page templates' environment (sandboxed, autoescaped, strict)."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["pct"] = lambda v: "" if v is None or v != v else f"{v:.0f}"
    return env


def fmt(value: Any, digits: int = 4) -> str:
    """A number for a table: ``4`` significant digits, ``n/a`` for NaN/None."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if value != value:
        return "n/a"
    return f"{value:.{digits}g}"


def page(request: Request, template: str, studio: Any, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``templates/<template>`` with the common context (read-only flag, root, nav)."""
    html = environment().get_template(template).render(
        read_only=studio.config.read_only, root=str(studio.root), current=request.url.path, **context
    )
    return HTMLResponse(html, status_code=status_code)


def json_error(message: str, status_code: int, **extra: Any) -> JSONResponse:
    """``{"error": message, ...}`` with ``status_code``."""
    return JSONResponse({"error": message, **extra}, status_code=status_code)


def refuse_if_read_only(studio: Any) -> JSONResponse | None:
    """The 403 answer of a write in ``--read-only`` mode, else None."""
    if studio.config.read_only:
        return json_error("this studio was started with --read-only: nothing can be changed from it; "
                          "restart it without --read-only to edit", 403)
    return None


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (``{}`` when it is not one)."""
    try:
        data = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


_REFUSED = """<!doctype html><meta charset="utf-8"><title>scafe studio: token needed</title>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>Access token needed</h1>
<p>This studio only answers requests that carry its access token. Open the full URL that
<code>scafe studio</code> printed in its terminal (it ends in <code>?token=...</code>).</p></body>"""


class TokenGate:
    """ASGI middleware: loopback Host, token (query once, then cookie), same-origin writes, headers."""

    def __init__(self, app: Any, *, token: str, allow_remote: bool) -> None:
        self.app = app
        self.token = token
        self.allow_remote = allow_remote

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if not self.allow_remote and hostname not in LOOPBACK:
            await self._answer(scope, receive, send, Response(
                f"Host {host!r} refused: this studio serves 127.0.0.1 only (start it with --host to change that).",
                status_code=400, media_type="text/plain"))
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        given = query.get("token")
        if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
            rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
            target = scope.get("path", "/") + (f"?{rest}" if rest else "")
            response = Response(status_code=303, headers={"location": target})
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")
            await self._answer(scope, receive, send, response)
            return
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is simply no token
            cookie = SimpleCookie()
        held = cookie.get(COOKIE)
        if held is None or not hmac.compare_digest(held.value.encode(), self.token.encode()):
            await self._answer(scope, receive, send, HTMLResponse(_REFUSED, status_code=403))
            return
        origin = headers.get("origin")
        if scope.get("method") not in ("GET", "HEAD") and origin and origin.split("://", 1)[-1] != host:
            await self._answer(scope, receive, send, Response(
                "cross-origin write refused", status_code=403, media_type="text/plain"))
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _answer(self, scope: dict[str, Any], receive: Any, send: Any, response: Response) -> None:
        response.headers.update({k.decode(): v.decode() for k, v in SECURITY_HEADERS})
        await response(scope, receive, send)
