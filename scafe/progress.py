"""Progress for people and for CI logs.

``SCAFE_PROGRESS`` decides (documented in the README):

* ``auto`` (default): a live bar on a terminal, progress *lines* otherwise;
* ``bar`` (or ``1``): always the live bar;
* ``lines``: a line when a task starts, every 10 s while it runs and when it ends;
  ``lines`` followed by a number of seconds (``lines5``, ``lines:5``) or a bare number sets the interval;
* ``off`` (or ``0``): nothing.

A CI log of ``scafe demo`` therefore shows what is happening instead of ~100 s of silence.
Core code that reports progress itself (``scafe.extraction.extract(progress=True)``) uses the same
display, so a library call in a notebook or a CI job follows the same setting as the CLI.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

DEFAULT_INTERVAL = 10.0


def progress_mode(console: Console) -> tuple[str, float]:
    """``(mode, interval)`` from ``SCAFE_PROGRESS``; mode is ``bar``, ``lines`` or ``off``."""
    from scafe.errors import ConfigError

    raw = os.environ.get("SCAFE_PROGRESS", "auto").strip().lower()
    if raw in ("", "auto"):
        return ("bar" if console.is_terminal else "lines"), DEFAULT_INTERVAL
    if raw in ("1", "bar"):
        return "bar", DEFAULT_INTERVAL
    if raw in ("0", "off", "none"):
        return "off", DEFAULT_INTERVAL
    match = re.fullmatch(r"(?:lines)?:?\s*(\d+(?:\.\d+)?)?", raw)
    if match and raw != ":":
        seconds = float(match.group(1)) if match.group(1) else DEFAULT_INTERVAL
        return "lines", seconds
    raise ConfigError(f"SCAFE_PROGRESS={raw!r} is not one of auto, bar, lines, lines:SECONDS, off")


@dataclass
class _Task:
    description: str
    total: float | None
    completed: float = 0.0
    started: float = field(default_factory=time.monotonic)
    last_line: float = field(default_factory=time.monotonic)
    finished: bool = False


class LineProgress:
    """The subset of :class:`rich.progress.Progress` the CLI uses, printing plain lines."""

    def __init__(self, console: Console, interval: float = DEFAULT_INTERVAL) -> None:
        self.console = console
        self.interval = interval
        self._tasks: dict[int, _Task] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            for task in self._tasks.values():
                if not task.finished and task.completed:
                    self._line(task, final=True)

    def add_task(self, description: str, total: float | None = 100.0, **_: Any) -> int:
        with self._lock:
            task_id = len(self._tasks)
            self._tasks[task_id] = task = _Task(description, total)
            self._line(task)
            return task_id

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def update(self, task_id: int, *, total: float | None = None, completed: float | None = None,
               advance: float | None = None, description: str | None = None, **_: Any) -> None:
        with self._lock:
            task = self._tasks[task_id]
            if total is not None:
                task.total = total
            if description is not None:
                task.description = description
            if completed is not None:
                task.completed = completed
            if advance:
                task.completed += advance
            now = time.monotonic()
            if task.total is not None and task.completed >= task.total and not task.finished:
                self._line(task, final=True)
            elif now - task.last_line >= self.interval and not task.finished:
                self._line(task)

    def _line(self, task: _Task, final: bool = False) -> None:
        now = time.monotonic()
        elapsed = now - task.started
        done = f"{task.completed:g}" + (f"/{task.total:g}" if task.total is not None else "")
        text = f"{task.description}: {done}"
        if final:
            task.finished = True
            text += f", done in {elapsed:.0f} s"
        elif task.completed:
            text += f", {elapsed:.0f} s"
            if task.total:
                left = elapsed / task.completed * (task.total - task.completed)
                text += f", ~{left:.0f} s left"
        task.last_line = now
        self.console.print(text, markup=False, highlight=False)


class _Silent(LineProgress):
    def _line(self, task: _Task, final: bool = False) -> None:
        task.finished = task.finished or final


def progress_bar(console: Console, transient: bool = False) -> Any:
    """A live bar, progress lines or nothing, as ``SCAFE_PROGRESS`` says (see the module docstring)."""
    mode, interval = progress_mode(console)
    if mode == "lines":
        return LineProgress(console, interval)
    if mode == "off":
        return _Silent(console, interval)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
    )


def iterate(items: Any, bar: Any, task: int) -> Iterator[Any]:
    """Yield ``items``, advancing ``task`` of ``bar`` after each."""
    for item in items:
        yield item
        bar.advance(task)
