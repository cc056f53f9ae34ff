"""Shared CLI plumbing: one console, error-to-exit-code mapping, progress bars."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)
stdout = Console()

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

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
        return 130
    return EXIT_OK


def progress_bar(transient: bool = False) -> Progress:
    """A rich progress bar with count, elapsed and remaining time (on stderr)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=not console.is_terminal and not _force_progress(),
    )


def _force_progress() -> bool:
    import os

    return os.environ.get("SCAFE_PROGRESS", "") == "1"


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar."""
    with progress_bar() as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
