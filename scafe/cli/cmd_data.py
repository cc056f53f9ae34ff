"""``scafe phantoms`` (render the synthetic scar dataset) and ``scafe data check`` (validate a dataset)."""

from __future__ import annotations

from pathlib import Path

import typer

from scafe.cli._common import (
    EXIT_FAILURE,
    apply_bit_depth,
    bit_depth_option,
    console,
    emit,
    format_option,
    json_option,
    progress_bar,
    resolve_format,
    stdout,
)

data_app = typer.Typer(
    name="data",
    help="Inspect and validate user datasets (CSV manifest + image/mask files).",
    no_args_is_help=True,
)


def phantoms(
    n: int = typer.Option(200, "--n", "-n", min=1, help="Number of phantoms to render."),
    seed: int = typer.Option(0, "--seed", "-s", help="Seed of the set; same arguments give byte-identical files."),
    size: int = typer.Option(256, "--size", help="Image side in pixels (square images, 32..4096)."),
    out: Path = typer.Option(Path("phantoms"), "--out", "-o", help="Output folder (created; files are overwritten)."),
    profile: str = typer.Option("default", "--profile", help="Nuisance ranges: 'default' or 'hard' (wider)."),
    keloid_fraction: float = typer.Option(0.5, "--keloid-fraction", min=0.0, max=1.0, help="Probability that a phantom is a keloid."),
    contact_sheet: bool = typer.Option(False, "--contact-sheet", help="Also write OUT/contact_sheet.png, a grid with mask outlines."),
    workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Worker processes (default: all cores)."),
    family: str = typer.Option("a", "--family", help="Phantom family: 'a' (procedural) or 'b' (independent renderer); see docs/PHANTOMS.md."),
) -> None:
    """Render synthetic skin photographs with a keloid or hypertrophic scar, masks and ground truth."""
    import time
    from collections import Counter

    from scafe.data.phantoms import check_args, generate_phantoms

    check_args(size, profile, keloid_fraction, family)  # bad arguments fail before the progress bar
    start = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("rendering phantoms", total=n)
        manifest = generate_phantoms(
            out, n=n, seed=seed, size=size, profile=profile, keloid_fraction=keloid_fraction,
            family=family, workers=workers, contact_sheet=contact_sheet,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    seconds = time.perf_counter() - start
    import csv

    with manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    labels = Counter(r["label"] for r in rows)
    n_distractors = sum(len([p for p in r["distractors"].split(";") if p]) for r in rows)
    stdout.print(
        f"Wrote {len(rows)} phantoms ({labels['keloid']} keloid, {labels['hypertrophic']} hypertrophic), "
        f"{size}x{size} px, family {family}, profile {profile}, seed {seed}, {n_distractors} distractor masks, "
        f"in {seconds:.1f} s ({len(rows) / seconds:.1f}/s)."
    )
    stdout.print(f"manifest: {manifest}")
    if contact_sheet:
        stdout.print(f"contact sheet: {manifest.parent / 'contact_sheet.png'}")


@data_app.command("check")
def check(
    path: Path = typer.Argument(..., metavar="PATH", help="Dataset folder (holding manifest.csv) or a manifest CSV file."),
    labels: str = typer.Option(
        "keloid,hypertrophic", "--labels", help="Comma-separated allowed labels; any other label is a bad row."
    ),
    write_bad: Path | None = typer.Option(None, "--write-bad", help="Also write the bad rows to this CSV file."),
    as_json: bool = json_option(),
    fmt: str = format_option(),
    bit_depth: str | None = bit_depth_option(),
) -> None:
    """List every bad row of a dataset with its reason; exit 1 if there is any.

    Warnings (exit code unchanged) name the usable rows worth a look: 16-bit images whose maximum
    is far below 65535 (a 12-bit sensor's data), and how they are read.
    """
    from scafe.data.dataset import inspect_dataset, write_bad_rows

    apply_bit_depth(bit_depth)
    allowed = tuple(x.strip() for x in labels.split(",") if x.strip())
    with progress_bar(transient=True) as bar:
        task = bar.add_task("checking rows", total=None)
        bad, notes = inspect_dataset(path, labels=allowed,
                                     progress=lambda done, total: bar.update(task, completed=done, total=total))
    if write_bad is not None:
        write_bad_rows(bad, write_bad)
    fmt = resolve_format(fmt, as_json)
    warnings = [{"row": n.row, "id": n.id, "warning": n.reason} for n in notes]
    if fmt != "table":
        rows = [{"row": b.row, "id": b.id, "reason": b.reason} for b in bad]
        emit(fmt, rows, columns=["row", "id", "reason"],
             payload={"path": str(path), "bad_rows": rows, "warnings": warnings})
        if fmt == "csv":  # the CSV on stdout holds the bad rows; warnings go to stderr
            for n in notes:
                console.print(f"warning: row {n.row} (id {n.id}): {n.reason}", highlight=False, markup=False)
        if bad:
            raise typer.Exit(EXIT_FAILURE)
        return
    for n in notes:
        stdout.print(f"warning: row {n.row} (id {n.id}): {n.reason}", highlight=False, markup=False)
    if not bad:
        stdout.print(f"{path}: no bad rows" + (f", {len(notes)} warning(s)." if notes else "."))
        return
    for row in bad:
        stdout.print(f"row {row.row} (id {row.id}): {row.reason}", highlight=False, markup=False)
    console.print(f"[red]{len(bad)} bad row(s)[/red] in {path}")
    raise typer.Exit(EXIT_FAILURE)


@data_app.command("sheet")
def sheet(
    path: Path = typer.Argument(..., metavar="PATH", help="Dataset folder (holding manifest.csv) or a manifest CSV file."),
    out: Path = typer.Option(Path("contact_sheet.png"), "--out", "-o", help="PNG file to write."),
    limit: int = typer.Option(48, "--limit", min=1, help="Show at most this many rows (manifest order)."),
    tile: int = typer.Option(192, "--tile", min=32, help="Side of each thumbnail in pixels."),
    columns: int = typer.Option(8, "--columns", min=1, help="Thumbnails per row."),
    bit_depth: str | None = bit_depth_option(),
) -> None:
    """Write a PNG grid of a dataset's images with the masks outlined (green), to look at it."""
    from scafe.data.contact_sheet import write_contact_sheet
    from scafe.data.dataset import resolve_manifest

    apply_bit_depth(bit_depth)

    written = write_contact_sheet(resolve_manifest(path), out, limit=limit, tile=tile, columns=columns)
    stdout.print(f"contact sheet: {written}")


def register(app: typer.Typer) -> None:
    """Attach ``scafe phantoms`` and ``scafe data ...`` to the root app."""
    app.command("phantoms")(phantoms)
    app.add_typer(data_app, name="data")
