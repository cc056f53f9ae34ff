"""Keep secrets out of everything scafe writes: a process-wide set of strings to redact.

The LLM client registers its API key (and the password of any ``user:password@`` in its base
URL) when it is created. Every writer of agent output (the LLM client's replies and error texts,
cassettes, run directories, events, summaries) passes text through :func:`redact`, so a key never
reaches a file, a checkpoint or the terminal even when a server echoes it back in a reply or an
error. URLs are shown with :func:`redact_url` (userinfo removed).

Only secrets of at least ``MIN_SECRET_LENGTH`` characters are registered (``"not-needed"``, the
placeholder for local servers, and other short strings would redact ordinary words).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["MASK", "clear_secrets", "redact", "redact_obj", "redact_url", "register_secret"]

MASK = "[REDACTED]"
MIN_SECRET_LENGTH = 8
_PLACEHOLDERS = frozenset({"not-needed", "none", "null", "sk-no-key-required"})
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Redact ``value`` (and its URL-encoded form) from everything written from now on."""
    if not value or len(value) < MIN_SECRET_LENGTH or value.lower() in _PLACEHOLDERS:
        return
    with _lock:
        _secrets.add(value)
        decoded = unquote(value)
        if decoded != value and len(decoded) >= MIN_SECRET_LENGTH:
            _secrets.add(decoded)


def register_url(url: str | None) -> None:
    """Register the password (and ``user:password``) of a URL's userinfo, if any."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.password:
        register_secret(parts.password)
        register_secret(f"{parts.username}:{parts.password}")


def clear_secrets() -> None:
    """Forget every registered secret (tests)."""
    with _lock:
        _secrets.clear()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[REDACTED]``."""
    if not isinstance(text, str) or not _secrets:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leftovers
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_obj(value: Any) -> Any:
    """:func:`redact` applied to every string inside dicts, lists and tuples (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_obj(k): redact_obj(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_obj(v) for v in value)
    return value


def redact_url(url: str | None) -> str | None:
    """``url`` without ``user:password@`` (and with registered secrets masked)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return redact(url)
