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
PROCESS_SETTINGS = ("SCAFE_BIT_DEPTH",)  # environment settings a command's options may set for its run


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
    import os

    saved = {name: os.environ.get(name) for name in PROCESS_SETTINGS}
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
    finally:  # options that set a process-wide setting (--bit-depth) end with the command
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return EXIT_OK


def progress_bar(transient: bool = False) -> Any:
    """Progress on stderr: a live bar on a terminal, plain lines in logs (``SCAFE_PROGRESS``)."""
    return _progress.progress_bar(console, transient=transient)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with progress."""
    with progress_bar() as bar:
        task = bar.add_task(description, total=total)
        yield from _progress.iterate(items, bar, task)


SKIP_BAD_HELP = ("Skip bad manifest rows instead of stopping: they are written to a .skipped.csv file next to "
                 "the output and the exit code is 3 (partial).")


def load_dataset_for(data: Any, skip_bad: bool) -> Any:
    """``load_dataset(data, skip_bad=...)`` for a command (the error names --skip-bad when rows are bad)."""
    from scafe.data.dataset import load_dataset

    with progress_bar(transient=True) as bar:  # every image is decoded once here: a long step on big datasets
        task = bar.add_task("checking dataset rows", total=None)
        dataset = load_dataset(data, skip_bad=skip_bad,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
    print_notes(dataset.notes)
    return dataset


BIT_DEPTH_HELP = ("Bit depth of 16-bit images (TIFF, PNG): 8..16, or auto (default; SCAFE_BIT_DEPTH): the "
                  "TIFF MaxSampleValue tag if set, else 12 when an image's maximum is below 4096 (a 12-bit sensor), "
                  "else 16. 8-bit images are not affected.")


def bit_depth_option() -> Any:
    """The ``--bit-depth auto|8..16`` option of the commands that read images."""
    return typer.Option(None, "--bit-depth", help=BIT_DEPTH_HELP, metavar="auto|8..16")


def apply_bit_depth(value: str | None) -> None:
    """Make ``--bit-depth`` the process's ``SCAFE_BIT_DEPTH`` (read by every image reader, worker
    threads and processes started later included); a bad value is a usage error (exit 2)."""
    import os

    from scafe.data.images import BIT_DEPTH_ENV, bit_depth_setting
    from scafe.errors import ConfigError, UsageError

    if value is None:
        return
    previous = os.environ.get(BIT_DEPTH_ENV)
    os.environ[BIT_DEPTH_ENV] = value.strip()
    try:
        bit_depth_setting()
    except ConfigError as exc:
        if previous is None:
            os.environ.pop(BIT_DEPTH_ENV, None)
        else:
            os.environ[BIT_DEPTH_ENV] = previous
        raise UsageError(str(exc).replace(f"{BIT_DEPTH_ENV}=", "--bit-depth ")) from None


def print_notes(notes: Any) -> None:
    """One stderr line per kind of note of a loaded dataset (``Dataset.notes``), with an example:
    16-bit images read as fewer bits are said, never silently brightened or darkened."""
    from scafe.textsafe import safe_text

    if not notes:
        return
    rows = len({n.row for n in notes})
    example = notes[0]
    console.print(f"[yellow]note:[/yellow] {rows} image(s) with 16-bit data read as fewer bits (see `scafe data "
                  f"check`), e.g. row {example.row} ({safe_text(example.id or '?')}): {safe_text(example.reason)}",
                  highlight=False)


def write_skipped(bad: Any, next_to: Any, name: str | None = None) -> Any:
    """Write the rows ``--skip-bad`` dropped next to ``next_to`` (a file or a folder); ``None`` if none.

    ``out.csv`` -> ``out.skipped.csv``; a folder (or a path without suffix) -> ``FOLDER/skipped_rows.csv``.
    The caller exits with :data:`EXIT_PARTIAL` when a path is returned.
    """
    from pathlib import Path

    from scafe.data.dataset import write_bad_rows
    from scafe.textsafe import safe_text

    if not bad:
        return None
    target = Path(next_to)
    if name is not None:
        path = target / name
    else:
        path = target.with_name(target.stem + ".skipped.csv") if target.suffix else target / "skipped_rows.csv"
    write_bad_rows(bad, path)
    rows = len({b.row for b in bad})
    console.print(f"[yellow]{rows} bad row(s) skipped[/yellow] (--skip-bad; {len(bad)} problem(s)), listed in "
                  f"{safe_text(path)}", highlight=False)
    return path


def skipped_judgements(summary: dict[str, Any], manifest: Any, folder: Any) -> Any:
    """``judge --data --skip-bad``: write the rows that could not be judged (``summary["errors"]``)
    to ``FOLDER/skipped_rows.csv``; return the path (the caller exits 3) or None."""
    from scafe.data.dataset import BadRow
    from scafe.judge.dataset_judge import manifest_rows

    if not summary.get("errors"):
        return None
    rows = {row["id"]: k for k, row in enumerate(manifest_rows(manifest)[1], start=1)}
    bad = [BadRow(rows.get(e["id"], 0), e["id"], e["error"]) for e in summary["errors"]]
    return write_skipped(bad, folder, "skipped_rows.csv")


def require_library(lib: Any, *, allow_empty: bool = False) -> Any:
    """``lib`` if it has a library.json (and active entries unless ``allow_empty``); else a
    ``ConfigError`` naming where it looked and the fix (a broken install must not pass silently)."""
    from scafe.errors import ConfigError

    if not lib.manifest_path.is_file() or (not allow_empty and not lib.active()):
        what = "no library.json" if not lib.manifest_path.is_file() else "no active entry"
        raise ConfigError(f"the feature library at {str(lib.path)!r} has {what}; run from a clone of the "
                          "repository, set SCAFE_LIBRARY (or SCAFE_ROOT) to one, or reinstall with `pip install .`")
    return lib
