"""``scafe criteria list|check``: the clinical criteria files clinicians edit.

``criteria_app`` is module-level so ``cmd_generate`` can add ``render`` to the same group.
"""

from __future__ import annotations

from pathlib import Path

import typer

from scafe.cli._common import EXIT_FAILURE, console, emit, format_option, resolve_format, stdout

criteria_app = typer.Typer(
    help="Clinical criteria files (prompts/criteria/*.yaml): list items, check files and templates.",
    no_args_is_help=True,
)

ROOT_HELP = "Project root holding prompts/criteria (default: SCAFE_ROOT, else found from the working directory)."


@criteria_app.command("list")
def list_criteria(
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    fmt: str = format_option(),
    spec: str | None = typer.Option(None, "--spec", help="Print the full criterion test of one item, SCALE/ITEM."),
) -> None:
    """List every criteria item: scale/item, name, whether a photo shows it, its test specification
    (physical quantity, direction, min rho, nuisances) and the active library extractors validated
    against it (observable items that no active extractor measures are named below the table).
    --spec SCALE/ITEM prints that item's whole test: every nuisance with its bound and reason."""

    from rich.table import Table

    from scafe.criteria import all_criteria
    from scafe.paths import project_root

    if spec is not None:
        _print_spec(spec, project_root(root))
        return
    files = all_criteria(project_root(root))
    measured_by = _active_extractors_by_column(project_root(root), files)
    fmt = resolve_format(fmt, as_json)
    if fmt != "table":
        rows = [
            {"ref": f"{c.scale}/{i.id}", "name": i.name, "observable_in_photo": i.observable_in_photo,
             "ground_truth": i.ground_truth.model_dump() if i.ground_truth else None,
             "orientation_free": i.orientation_free, "file": str(c.path), "file_sha256": c.sha256,
             "measured_by": measured_by.get(i.ground_truth.column, []) if i.ground_truth else []}
            for c in files for i in c.items
        ]  # fmt: skip
        emit(fmt, rows, columns=["ref", "name", "observable_in_photo", "ground_truth", "orientation_free",
                                 "measured_by", "file", "file_sha256"])
        return
    table = Table(title="Criteria items")
    table.add_column("scale/item", no_wrap=True)
    table.add_column("name", max_width=22)
    table.add_column("photo", no_wrap=True)
    table.add_column("test: quantity (direction)", overflow="fold")
    table.add_column("min rho", no_wrap=True)
    table.add_column("measured by (active)", overflow="fold", min_width=18)
    uncovered = []
    for criteria in files:
        for item in criteria.items:
            gt = item.ground_truth
            ref = f"{criteria.scale}/{item.id}"
            names = measured_by.get(gt.column, []) if gt else []
            if item.observable_in_photo and not names:
                uncovered.append(ref)
            table.add_row(
                ref,
                item.name,
                "yes" if item.observable_in_photo else "[yellow]no[/yellow]",
                _escape(f"{gt.quantity} ({gt.direction}{', two-sided' if gt.two_sided else ''}"
                        f"{', at fixed ' + gt.within.removeprefix('nuisance_') if gt.within else ''})") if gt else "-",
                f"{gt.min_rho:g}" if gt else "",
                ", ".join(names) if names else ("[yellow]none[/yellow]" if item.observable_in_photo else "-"),
            )
    stdout.print(table)
    if uncovered:
        stdout.print(f"Observable items that no active extractor measures: {', '.join(uncovered)} "
                     "(`scafe generate --criteria FILE --items ITEM` can propose one).")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _print_spec(ref: str, root: Path) -> None:
    """The whole criterion test of one item, in the words the prompts use (plus the columns)."""
    from scafe.criteria import find_item
    from scafe.criterion_tests.phantom_sets import CRITERION_FAMILIES
    from scafe.criterion_words import spec_brief

    criteria, item = find_item(ref, root)
    gt = item.ground_truth
    stdout.print(f"{criteria.scale}/{item.id} ({_escape(item.name)})", highlight=False)
    if gt is None:
        stdout.print(f"  not observable in a photo: {_escape(item.unobservable_reason or '')}", highlight=False)
        return
    brief = spec_brief(item, n_families=len(CRITERION_FAMILIES))
    lines = [f"ground truth: {gt.column} = {gt.quantity}; direction {gt.direction}; min rho {gt.min_rho:g}"
             + (f"; within {gt.within}" if gt.within else "") + ("; two-sided" if gt.two_sided else ""),
             f"direction: the main output {brief['trend']}", f"tracking: {brief['tracking']}"]
    if brief["why"]:
        lines.append(f"why: {brief['why']}")
    lines += [f"nuisance {n.column}: {n.allowed} - {' '.join(n.why.split())}" for n in gt.nuisances]
    if brief["invariance"]:
        lines.append(f"orientation: {brief['invariance']}")
    lines.append(f"phantom families: {', '.join(CRITERION_FAMILIES)} (must pass on each)")
    for line in lines:
        stdout.print("  " + _escape(line), highlight=False, soft_wrap=True)


def _active_extractors_by_column(root: Path, files: list) -> dict[str, list[str]]:
    """Ground-truth column -> ``["name@vK", ...]``: the active library entries whose item is tested
    against that column in the current criteria files (empty if there is no library)."""
    from scafe.errors import ScafeError
    from scafe.library import Library
    from scafe.paths import library_dir

    try:
        library = Library.open(library_dir(root))
    except (ScafeError, OSError):
        return {}
    columns = {f"{c.scale}/{i.id}": i.ground_truth.column for c in files for i in c.items if i.ground_truth}
    out: dict[str, list[str]] = {}
    for entry in library.active():
        column = columns.get(entry.criterion.ref)
        if column:
            out.setdefault(column, []).append(f"{entry.name}@v{entry.version}")
    return out


@criteria_app.command("check")
def check_criteria(
    files: list[Path] | None = typer.Argument(
        None, help="Criteria files to check (default: every prompts/criteria/*.yaml)."
    ),
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
) -> None:
    """Validate criteria files (file:line and a fix for each problem) and render every template.

    Exits 1 if any file or template has a problem.
    """
    from scafe.criteria import criteria_files, validate_criteria_file
    from scafe.paths import project_root

    paths = list(files) if files else criteria_files(project_root(root))
    problems: list[str] = []
    valid = []
    for path in paths:
        criteria, found = validate_criteria_file(path)
        problems.extend(found)
        if criteria is not None:
            valid.append(criteria)
            console.print(f"[green]ok[/green] {path} ({len(criteria.items)} items)", highlight=False)
    try:
        from scafe.prompting import check_templates
    except ImportError:  # the prompt templates are optional for this check
        check_templates = None  # type: ignore[assignment]
    if check_templates is not None and valid:
        template_problems = list(check_templates(valid, project_root(root)))
        problems.extend(template_problems)
        if not template_problems:
            console.print(f"[green]ok[/green] templates render for every item of {len(valid)} file(s)")
    for problem in problems:
        console.print("error: " + problem, highlight=False, markup=False, soft_wrap=True)  # markup off: YAML may hold [brackets]
    if problems:
        console.print(f"{len(problems)} problem(s) in {len(paths)} file(s)", highlight=False)
        raise typer.Exit(EXIT_FAILURE)


def register(app: typer.Typer) -> None:
    """Attach ``scafe criteria`` to the root app."""
    app.add_typer(criteria_app, name="criteria")
