"""``scafe library ...``: inspect, verify and curate the versioned feature library."""

from __future__ import annotations

from pathlib import Path

import typer

from scafe.cli._common import (
    EXIT_FAILURE,
    console,
    emit,
    format_option,
    json_option,
    progress_bar,
    require_library,
    resolve_format,
    stdout,
)
from scafe.textsafe import safe_text

library_app = typer.Typer(
    help="The versioned feature library (feature_library/library.json): list, show, diff, status, verify, add.",
    no_args_is_help=True,
)

LIB_HELP = "Library directory (default: SCAFE_LIBRARY, else <project root>/feature_library)."


def _open(path: Path | None):  # -> Library (import kept inside: CLI start-up stays light)
    from scafe.library import Library

    return Library.open(path)


def _parse_ref(ref: str) -> tuple[str, int | None]:
    """``"name"`` / ``"name@v2"`` / ``"name@2"`` -> ``(name, version or None)``."""
    name, sep, version = ref.partition("@")
    return (name, _parse_version(version)) if sep else (name, None)


def _parse_version(text: str) -> int:
    from scafe.errors import UsageError

    digits = text[1:] if text[:1] in ("v", "V") else text
    if not digits.isdigit() or int(digits) < 1:
        raise UsageError(f"version {text!r} must look like v1, v2, … (or 1, 2, …)")
    return int(digits)


@library_app.command("list")
def list_entries(
    as_json: bool = typer.Option(False, "--json", help="Print the entries as JSON (with the library version id)."),
    active_only: bool = typer.Option(False, "--active", help="Only active versions."),
    library: Path | None = typer.Option(None, "--library", help=LIB_HELP),
    fmt: str = format_option(),
) -> None:
    """List every extractor version: status, origin, criterion and output keys (dates: --json or show)."""
    from rich.table import Table

    lib = _open(library)
    entries = lib.active() if active_only else lib.entries()
    fmt = resolve_format(fmt, as_json)
    if fmt != "table":
        rows = [e.model_dump(mode="json") for e in entries]
        payload = {"path": str(lib.path), "version_id": lib.version_id, "entries": rows}
        emit(fmt, [{"label": e.label, **row} for e, row in zip(entries, rows, strict=True)], payload=payload)
        return
    table = Table(title=f"Feature library {lib.version_id} ({len(lib.active())} active / {len(lib.entries())} versions)")
    for column in ("extractor", "status", "origin"):
        table.add_column(column, no_wrap=True)
    table.add_column("criterion / outputs")
    for e in entries:
        style = "" if e.status == "active" else "dim"
        table.add_row(e.label, e.status, e.origin, f"{e.criterion.ref}\n  " + ", ".join(e.outputs), style=style)
    stdout.print(table)


@library_app.command("show")
def show(
    ref: str = typer.Argument(..., metavar="REF", help="NAME or NAME@vK (default: the active version, else the newest)."),
    library: Path | None = typer.Option(None, "--library", help=LIB_HELP),
    as_json: bool = json_option(),
    fmt: str = format_option(),
) -> None:
    """Show one version's metadata and its source (json/csv: the metadata plus a 'source' field)."""
    import json

    lib = _open(library)
    name, version = _parse_ref(ref)
    entry = lib.get(name, version)
    meta = entry.model_dump(mode="json")
    source = lib.source(entry)  # hash-checked
    fmt = resolve_format(fmt, as_json)
    if fmt != "table":
        row = {"label": entry.label, "file": str(lib.file_path(entry)), **meta, "source": source}
        emit(fmt, [row], payload=row)
        return
    stdout.print(f"[bold]{entry.label}[/bold]  ({lib.file_path(entry)})", highlight=False)
    typer.echo(json.dumps(meta, indent=2))
    if not stdout.is_terminal:  # a pipe or a log: plain numbered lines, never cut or wrapped
        lines = source.splitlines()
        width = len(str(len(lines)))
        typer.echo("\n".join(f"{k:>{width}} {line}".rstrip() for k, line in enumerate(lines, start=1)))
        return
    from rich.syntax import Syntax

    stdout.print(Syntax(source, "python", line_numbers=True, word_wrap=True))


@library_app.command("diff")
def diff(
    name: str = typer.Argument(..., metavar="NAME", help="Extractor name."),
    old: str = typer.Argument(..., metavar="OLD", help="Old version (v1 or 1)."),
    new: str = typer.Argument(..., metavar="NEW", help="New version (v2 or 2)."),
    library: Path | None = typer.Option(None, "--library", help=LIB_HELP),
) -> None:
    """Unified diff of two versions' sources plus their changed metadata."""
    from scafe.library.diff import diff_versions

    result = diff_versions(_open(library), name, _parse_version(old), _parse_version(new))
    typer.echo(result.text(), nl=False)


@library_app.command("status")
def status(
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
    library: Path | None = typer.Option(None, "--library", help=LIB_HELP),
    fmt: str = format_option(),
) -> None:
    """State of every version: active, deprecated, stale (criteria file edited since), modified, missing file."""
    from rich.table import Table

    lib = _open(library)
    rows = lib.status()
    fmt = resolve_format(fmt, as_json)
    if fmt != "table":
        emit(fmt, [r.to_dict() for r in rows])
        return
    colours = {"active": "green", "deprecated": "dim", "stale": "yellow", "modified": "red", "missing file": "red"}
    table = Table(title=f"Library status ({lib.path})")
    for column in ("extractor", "state", "criterion", "origin"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        colour = colours.get(row.state, "")
        table.add_row(row.label, f"[{colour}]{row.state}[/{colour}]" if colour else row.state,
                      row.criterion, row.origin)  # fmt: skip
    stdout.print(table)
    for row in rows:
        if row.detail:  # below the table: the explanations are long and must not be cut
            stdout.print(f"{row.label} {row.state}: {row.detail}", highlight=False, markup=False, soft_wrap=True)
    leftovers = set(lib.leftovers())
    for orphan in lib.orphans():
        if orphan in leftovers:  # issue 12: reported here, removed by the next write under the lock
            console.print(f"[yellow]leftover temp file[/yellow] {safe_text(orphan)} of a killed write (the next "
                          "library write removes it)", highlight=False, soft_wrap=True)
            continue
        console.print(f"[yellow]unregistered file[/yellow] {safe_text(orphan)} (register it with `scafe library add`, "
                      "or delete it)", highlight=False, soft_wrap=True)  # fmt: skip
    counts = {state: sum(r.state == state for r in rows) for state in colours}
    console.print(", ".join(f"{n} {state}" for state, n in counts.items() if n) or "the library is empty")


@library_app.command("verify")
def verify(
    names: list[str] | None = typer.Argument(None, metavar="NAME", help="Only these extractors (default: every active one)."),
    as_json: bool = json_option(),
    fmt: str = format_option(),
    no_criterion: bool = typer.Option(
        False, "--no-criterion-tests", help="Skip the criterion tests (hash and contract battery only)."
    ),
    library: Path | None = typer.Option(None, "--library", help=LIB_HELP),
    phantom_seed: int | None = typer.Option(
        None, "--phantom-seed", min=0,
        help="Run the criterion tests on the phantom set of this seed instead of the validation set "
             "the entries were registered on (a held-out check, e.g. 101; rendered once, then cached).",
    ),
    phantoms: int | None = typer.Option(
        None, "--phantoms", min=16, help="Phantoms in that set (default 96, as the validation set)."
    ),
    phantom_size: int | None = typer.Option(
        None, "--phantom-size", min=64, max=1024, help="Their size in px (default 256, as the validation set)."
    ),
) -> None:
    """Recompute every entry's hash; re-run the contract battery and criterion tests of the active ones.

    Exits 1 naming each failing entry; 0 when all pass (or the library has no active entry).
    With --phantom-seed/--phantoms/--phantom-size the criterion tests use another phantom set, to
    see whether an entry's figures hold on images nobody tuned it on
    (benchmarks/criterion_holdout.py does this for several sets at once).
    """
    import functools
    import json

    from scafe.criterion_tests import (
        VALIDATION_N,
        VALIDATION_SEED,
        VALIDATION_SIZE,
        run_criterion_tests,
    )

    fmt = resolve_format(fmt, as_json)
    lib = require_library(_open(library), allow_empty=True)  # an empty library verifying "0 entries" would hide a broken install
    count = len([e for e in lib.active() if not names or e.name in names])
    phantom_set = {"n": phantoms or VALIDATION_N, "size": phantom_size or VALIDATION_SIZE,
                   "seed": VALIDATION_SEED if phantom_seed is None else phantom_seed}
    criterion_test = None
    if phantom_seed is not None or phantoms is not None or phantom_size is not None:
        criterion_test = functools.partial(run_criterion_tests, n=phantom_set["n"], seed=phantom_set["seed"],
                                           size=phantom_set["size"])
    with progress_bar() as bar:
        task = bar.add_task("verifying", total=count)
        results = lib.verify(names or None, criterion_tests=not no_criterion, criterion_test=criterion_test,
                             on_result=lambda _r: bar.advance(task))  # fmt: skip
    failing = [r for r in results if not r.ok]
    if fmt == "json":
        typer.echo(json.dumps({"version_id": lib.version_id, "ok": not failing,
                               "phantom_set": None if no_criterion else phantom_set,
                               "results": [r.to_dict() for r in results]}, indent=2))  # fmt: skip
    elif fmt == "csv":
        emit("csv", [r.to_dict() for r in results])
    else:
        for r in results:
            mark = "[green]ok[/green]  " if r.ok else "[red]FAIL[/red]"
            rho = f" rho={r.rho:+.2f}" if r.rho is not None else ""
            stdout.print(f"{mark} {r.label}  contract={r.contract} criterion={r.criterion}{rho} ({r.seconds:.1f} s)",
                         highlight=False)  # fmt: skip
            for line in r.family_lines():  # criterion tests per phantom family (h11v)
                stdout.print(f"      {line}", highlight=False, markup=False)
            for failure in r.failures:
                stdout.print(f"      {failure}", highlight=False, markup=False, soft_wrap=True)
    if failing:
        console.print(f"{len(failing)} of {len(results)} entries failed: "
                      + ", ".join(r.label for r in failing), highlight=False, markup=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(EXIT_FAILURE)
    others = len(results) - count
    console.print(f"{count} active entries verified" + (f", {others} other versions hash-checked" if others else "")
                  + f" (library {lib.version_id})", highlight=False)


@library_app.command("add")
def add(
    file: Path = typer.Argument(..., metavar="FILE", exists=True, dir_okay=False, readable=True, help="Extractor source file (.py)."),
    criterion: str = typer.Option(..., "--criterion", help="The item it measures, SCALE/ITEM (e.g. vss/vascularity)."),
    name: str | None = typer.Option(None, "--name", help="Extractor name (default: the file stem, or its folder for v<k>.py)."),
    output_key: str | None = typer.Option(None, "--output-key", help="Main output for the criterion tests (default: the extractor's only or first key)."),
    inactive: bool = typer.Option(False, "--inactive", help="Register without activating it."),
    library: Path | None = typer.Option(None, "--library", help=LIB_HELP),
) -> None:
    """Add a hand-written extractor (origin 'reference') after the full validation.

    Runs the sandbox contract battery, then the criterion tests; refuses with the failure report
    if either fails.
    """
    import re

    from scafe.library.add import validate_and_register

    if name is None:
        name = file.parent.name if re.fullmatch(r"v\d+", file.stem) else file.stem
    lib = _open(library)
    console.print(f"validating {file} for {criterion} (contract battery, then criterion tests)…", highlight=False)
    entry = validate_and_register(lib, file.read_text(encoding="utf-8"), name=name, criterion=criterion,
                                  output_key=output_key, activate=not inactive)  # fmt: skip
    stdout.print(f"registered {entry.label} ({entry.status}) -> {lib.file_path(entry)}; library {lib.version_id}",
                 highlight=False)  # fmt: skip


@library_app.command("refresh")
def refresh(
    ref: str = typer.Argument(..., metavar="REF", help="NAME or NAME@vK of a stale entry."),
    library: Path | None = typer.Option(None, "--library", help=LIB_HELP),
) -> None:
    """Accept an edited criteria file for a stale entry: re-verify it, then record the file's new hash.

    Fails (exit 1, listing why) if the extractor no longer passes against the edited item.
    """
    lib = _open(library)
    name, version = _parse_ref(ref)
    entry = lib.refresh(name, version)
    stdout.print(f"{entry.label} matches {entry.criterion.file} again; library {lib.version_id}", highlight=False)


@library_app.command("deprecate")
def deprecate(
    ref: str = typer.Argument(..., metavar="REF", help="NAME (its active version) or NAME@vK."),
    library: Path | None = typer.Option(None, "--library", help=LIB_HELP),
) -> None:
    """Deprecate a version: it stays in the library (immutable) but is no longer extracted."""
    lib = _open(library)
    name, version = _parse_ref(ref)
    entry = lib.deprecate(name, version)
    stdout.print(f"{entry.label} is deprecated; library {lib.version_id}", highlight=False)


@library_app.command("activate")
def activate(
    ref: str = typer.Argument(..., metavar="REF", help="NAME@vK to make active (the currently active version is deprecated)."),
    library: Path | None = typer.Option(None, "--library", help=LIB_HELP),
) -> None:
    """Make a version the active one for its name (e.g. roll back to an earlier version)."""
    from scafe.errors import UsageError

    lib = _open(library)
    name, version = _parse_ref(ref)
    if version is None:
        raise UsageError(f"say which version to activate, e.g. {name}@v1")
    entry = lib.activate(name, version)
    stdout.print(f"{entry.label} is active; library {lib.version_id}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach ``scafe library`` to the root app."""
    app.add_typer(library_app, name="library")
