"""Shared CLI plumbing: the consoles, error-to-exit-code mapping, progress, output formats.

Exit codes (the README's table; ``tests/test_cli_exit_codes.py`` walks them):
0 = success, 1 = failure (a check failed, an error in the data or the library),
2 = usage or configuration error, 3 = partial success (some rows/items skipped or failed,
written down), 130 = interrupted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import typer
from rich.console import Console

from scafe.cli import _progress
from scafe.cli._output import (  # noqa: F401 - re-exported for the cmd_* modules
    FORMAT_HELP,
    JSON_HELP,
    ScafeConsole,
    emit,
    format_option,
    json_option,
    plain_layout,
    resolve_format,
    to_csv,
    to_json,
)

console: Console = ScafeConsole(stderr=True)
stdout: Console = ScafeConsole()

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_INTERRUPTED = 130

T = TypeVar("T")


def run_guarded(app: typer.Typer, argv: list[str]) -> int:
    """Run the typer app; turn library errors into one-line messages and exit codes.

    Click (vendored by typer) handles usage errors itself in standalone mode (exit 2) and ends
    with ``SystemExit``; our own errors propagate out of it and are mapped here.
    """
    from scafe.errors import ScafeError
    from scafe.textsafe import safe_text

    try:
        from sandbox.errors import SandboxError as sandbox_error
    except ImportError:  # the sandbox package is optional for --help
        sandbox_error = ScafeError  # type: ignore[misc,assignment]
    try:
        app(args=argv, prog_name="scafe", standalone_mode=True)
    except SystemExit as exc:
        if exc.code is None:
            return EXIT_OK
        return exc.code if isinstance(exc.code, int) else EXIT_FAILURE
    except ScafeError as exc:
        console.print(f"[red]error:[/red] {safe_text(exc)}", highlight=False)  # untrusted text inside (issue 12)
        return exc.exit_code
    except sandbox_error as exc:
        console.print(f"[red]sandbox error:[/red] {safe_text(exc)}", highlight=False)
        return int(getattr(exc, "exit_code", EXIT_FAILURE))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]")
        return EXIT_INTERRUPTED
    return EXIT_OK


def progress_bar(transient: bool = False) -> Any:
    """Progress on stderr: a live bar on a terminal, plain lines in logs (``SCAFE_PROGRESS``)."""
    return _progress.progress_bar(console, transient=transient)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with progress."""
    with progress_bar() as bar:
        task = bar.add_task(description, total=total)
        yield from _progress.iterate(items, bar, task)
