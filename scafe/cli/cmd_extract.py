"""``scafe extract``: every active library extractor on every image, sandboxed, into a CSV."""

from __future__ import annotations

from pathlib import Path

import typer

from scafe.cli._common import (
    EXIT_OK,
    EXIT_PARTIAL,
    apply_bit_depth,
    bit_depth_option,
    console,
    load_dataset_for,
    progress_bar,
    write_skipped,
)
from scafe.textsafe import safe_text

EXTRACT_HELP = (
    "Extract the active feature library on a dataset into a feature table.\n\n"
    "Every (image, extractor) cell runs in the sandbox (a jailed child per extractor version). "
    "Writes OUT (one row per image: id + every active output), OUT.errors.csv (id, extractor, "
    "outcome, reason for each failed cell; that cell is NaN in OUT) and OUT.meta.json (library "
    "version and, per column, extractor, version and criterion item).\n\n"
    "Exit codes: 0 every cell succeeded; 3 some cells failed (see OUT.errors.csv); 1 extraction "
    "could not run; 2 bad arguments or dataset. Re-runs reuse the cache (image+mask sha256, "
    "extractor sha256) and only compute new cells."
)


def extract_command(
    data: Path = typer.Option(..., "--data", "-d", help="Dataset folder (with manifest.csv) or a CSV manifest."),
    out: Path = typer.Option(..., "--out", "-o", help="Output feature table, e.g. features.csv."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Parallel runner sets (threads locally, worker processes with --dask local)."),
    dask: str | None = typer.Option(None, "--dask", help="Run on Dask: 'local' starts a LocalCluster of --workers processes; 'tcp://HOST:PORT' connects to a scheduler (workers need scafe installed and the image paths)."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip bad manifest rows instead of stopping: listed on stderr and in OUT.skipped.csv; exit code 3 (partial)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ignore and do not update the extraction cache."),
    library: Path | None = typer.Option(None, "--library", help="Feature library directory (default: the project's feature_library/)."),
    bit_depth: str | None = bit_depth_option(),
) -> None:
    """Extract the active feature library on a dataset (exit 3 when some cells failed)."""
    from scafe.errors import UsageError
    from scafe.extraction import extract_items, library_specs
    from scafe.extraction.engine import WorkItem

    if dask is not None and dask != "local" and not dask.startswith(("tcp://", "tls://")):
        raise UsageError(f"--dask must be 'local' or a scheduler address like tcp://HOST:PORT; got {dask!r}.")
    apply_bit_depth(bit_depth)
    dataset = load_dataset_for(data, skip_bad)
    for bad in dataset.bad:
        console.print(f"[yellow]skipped row {bad.row}[/yellow] ({safe_text(bad.id or '?')}): {safe_text(bad.reason)}",
                      highlight=False)
    specs, version = library_specs(library)
    items = [WorkItem(str(c.id), str(c.image_path), str(c.mask_path), loader=c.load) for c in dataset.cases]
    if not items:
        raise UsageError(f"No usable rows in {data}; check it with `scafe data check {data}`.")
    with progress_bar() as bar:
        task = bar.add_task(f"extract {len(specs)} extractors", total=len(items))
        table = extract_items(items, specs, library_version=version, workers=workers, dask=dask,
                              cache=not no_cache, on_image=lambda k: bar.advance(task, k))
    path = table.save(out)
    meta = table.meta
    console.print(f"wrote {safe_text(path)} ({len(table.frame)} images x {table.frame.shape[1]} features; "
                  f"{meta['cached_cells']} of {meta['cells']} cells from cache, {meta['seconds']:.1f} s)",
                  highlight=False)
    skipped = write_skipped(dataset.bad, path)
    if not table.complete:
        console.print(f"[yellow]{len(table.errors)} cells failed[/yellow]: see "
                      f"{safe_text(path.with_name(path.stem + '.errors.csv'))}", highlight=False)
        raise typer.Exit(EXIT_PARTIAL)
    raise typer.Exit(EXIT_PARTIAL if skipped is not None else EXIT_OK)


def register(app: typer.Typer) -> None:
    """Attach ``scafe extract`` to the root app."""
    app.command("extract", help=EXTRACT_HELP)(extract_command)
