"""Make untrusted text safe to print: no rich markup, no terminal control sequences.

Untrusted text is anything scafe did not write itself: LLM replies, judge rationales and failure
modes, error bodies from an LLM server, file names and ids from a user's dataset, criteria text.
Printed through ``rich`` as-is, ``[/]`` in it raises ``MarkupError`` and ``[red]`` restyles the
line; printed to a terminal, ``ESC [ ...`` sequences can move the cursor, rewrite earlier lines,
or set the window title. So every such string goes through :func:`safe_text` (or the two steps
separately) before it reaches rich, and through :func:`strip_control` before any terminal.

    >>> escape_markup("[/] [bold]x[/bold]")
    '\\\\[/] \\\\[bold]x\\\\[/bold]'
    >>> strip_control("ok\\x1b]0;pwned\\x07 \\x1b[2Jdone")
    'ok done'
"""

from __future__ import annotations

import re

__all__ = ["escape_markup", "safe_text", "strip_control"]

# ESC-based sequences: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), DCS/SOS/PM/APC
# (ESC P/X/^/_ ... ESC \), two-byte escapes (ESC + one char); then 8-bit C1 CSI/OSC forms.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
# Remaining C0 controls except tab and newline, DEL, C1 controls; plus bidi overrides that can
# make a file name read differently from what it is (Trojan Source).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_control(text: object) -> str:
    """``str(text)`` without terminal escape sequences and control characters (tab/newline kept).

    A carriage return becomes a newline (it could otherwise overwrite the visible line).
    """
    value = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ANSI.sub("", value))


def escape_markup(text: object) -> str:
    """``str(text)`` with rich markup escaped, so ``[`` prints as ``[`` and never starts a style."""
    from rich.markup import escape

    return escape(str(text))  # also doubles a trailing backslash, which could escape a closing tag


def safe_text(text: object, limit: int | None = None) -> str:
    """:func:`strip_control` then :func:`escape_markup`, cut to ``limit`` characters first if given."""
    value = strip_control(text)
    if limit is not None and len(value) > limit:
        value = value[:limit] + "…"
    return escape_markup(value)
