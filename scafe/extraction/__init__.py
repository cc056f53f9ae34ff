"""Feature extraction: every active library extractor on every image, sandboxed, cached.

``extract(data)`` returns a :class:`FeatureTable` (docs/CONTRACTS.md, Extraction). Each
(image, extractor) *cell* is looked up in the incremental cache (``cache.py``) and otherwise run
in a jailed ``sandbox.ExtractorRunner`` (``engine.py``: worker threads locally, or Dask tasks).
A failed cell becomes NaN in the table and a row of ``errors``; extraction itself raises only
when it cannot run at all (no active extractor, unreadable dataset).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scafe.errors import ExtractionError, UsageError
from scafe.extraction.cache import ExtractionCache, array_pair_key, file_pair_key
from scafe.extraction.engine import ExtractorSpec, WorkItem, run_dask, run_local
from scafe.extraction.table import (
    COLUMN_SCHEME,
    ERROR_COLUMNS,
    FeatureTable,
    column_name,
    split_column,
)
from scafe.library.store import sha256_text

__all__ = ["ExtractorSpec", "FeatureTable", "WorkItem", "column_name", "extract", "extract_items", "library_specs",
           "split_column"]


def library_specs(library: Any = None) -> tuple[list[ExtractorSpec], str]:
    """Active entries of ``library`` (a ``Library``, a path, or None = default) -> specs, version id."""
    from scafe.library import Library

    lib = library if hasattr(library, "active") else Library.open(Path(library) if library else None)
    specs: list[ExtractorSpec] = []
    for entry in lib.active():
        crit = entry.criterion or {}
        scale, item = str(crit.get("scale", "")), str(crit.get("item", ""))
        source = lib.source(entry)  # refuses bytes that do not match the registered sha256
        specs.append(ExtractorSpec(name=entry.name, version=int(entry.version), sha256=sha256_text(source),
                                   source=source, outputs=tuple(entry.outputs),
                                   scale=scale, item=item, item_name=_item_name(scale, item)))
    return specs, str(lib.version_id)


def _item_name(scale: str, item: str) -> str:
    """Human name of a criteria item, '' when the criteria files are not at hand."""
    if not scale or not item:
        return ""
    try:
        from scafe.criteria import find_item

        return str(find_item(f"{scale}/{item}")[1].name)
    except Exception:  # criteria files elsewhere or edited since: the name is only a label
        return ""


def _check_outputs(specs: Sequence[ExtractorSpec]) -> list[str]:
    """Namespaced columns ``<extractor>.<key>`` of ``specs`` (keys may repeat across extractors)."""
    columns: list[str] = []
    for spec in specs:
        for key in spec.outputs:
            column = column_name(spec.name, key)
            if column in columns:
                raise ExtractionError(f"Column {column!r} occurs twice: {spec.name!r} is active in two "
                                      "versions; deprecate one (`scafe library deprecate`).")
            columns.append(column)
    return columns


def extract_items(items: Sequence[WorkItem], specs: Sequence[ExtractorSpec], *,
                  library_version: str = "", workers: int = 1, dask: str | None = None,
                  cache: bool = True, limits: Any = None,
                  on_image: Callable[[int], None] | None = None) -> FeatureTable:
    """Extract ``specs`` on ``items``; the engine behind :func:`extract` and the transformer.

    ``on_image(k)`` is called with the number of images just finished (for progress bars).
    """
    if not specs:
        raise ExtractionError("The library has no active extractor; register one "
                              "(`scafe library add FILE --criterion SCALE/ITEM`) or activate one.")
    if workers < 1:
        raise UsageError(f"The 'workers' parameter must be >= 1; got {workers} instead.")
    started = time.perf_counter()
    for spec in specs:  # the cache and the tables are keyed by the hash of the bytes that run
        if sha256_text(spec.source) != spec.sha256:
            raise ExtractionError(f"The source given for {spec.label} does not match its sha256 {spec.sha256[:12]}…; "
                                  "it was changed after it was read from the library. Run `scafe library verify`.")
    columns = _check_outputs(specs)
    by_sha = {s.sha256: s for s in specs}
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
        raise ExtractionError(f"Image id {dup!r} occurs more than once; ids must be unique.")
    store = ExtractionCache() if cache else None
    # cache keys cost a read of every file: only computed when the cache is used
    keys = ([file_pair_key(it.image_path, it.mask_path) if it.image_path and it.mask_path
             and it.image is None else array_pair_key(*it.load()) for it in items]
            if store else ids)
    results: dict[tuple[str, str], tuple[str, dict[str, float] | None, str]] = {}
    try:
        todo: list[list[str]] = [[] for _ in items]
        for sha in by_sha:
            hits = store.get_many(keys, sha) if store else {}
            for i, key in enumerate(keys):
                if key in hits:
                    results[(items[i].id, sha)] = hits[key]
                else:
                    todo[i].append(sha)
        cached_cells = len(results)
        rejected = store.rejected if store else 0
        if rejected:
            warnings.warn(f"{rejected} extraction cache entries failed their integrity check (edited or copied "
                          f"cache file {store.path if store else ''}); they were recomputed.", UserWarning, stacklevel=2)
        done_images = sum(1 for shas in todo if not shas)
        if on_image and done_images:
            on_image(done_images)
        key_of = dict(zip(ids, keys, strict=True))
        stream = (run_dask(list(items), todo, by_sha, address=dask, workers=workers, limits=limits)
                  if dask else run_local(list(items), todo, by_sha, workers=workers, limits=limits))
        for cells in stream:
            for image_id, sha, outcome, feats, reason in cells:
                results[(image_id, sha)] = (outcome, feats, reason)
            if store:
                store.put_many([(key_of[c[0]], c[1], c[2], c[3], c[4]) for c in cells])
            if on_image:
                on_image(1)
    finally:
        if store:
            store.close()
    table = _assemble(items, specs, columns, results, library_version,
                      cached_cells=cached_cells, seconds=time.perf_counter() - started)
    if rejected:
        table.meta["cache_rejected"] = rejected
    return table


def _assemble(items: Sequence[WorkItem], specs: Sequence[ExtractorSpec], columns: list[str],
              results: dict[tuple[str, str], tuple[str, dict[str, float] | None, str]],
              library_version: str, *, cached_cells: int, seconds: float) -> FeatureTable:
    values = np.full((len(items), len(columns)), np.nan)
    errors: list[dict[str, str]] = []
    col_index = {c: j for j, c in enumerate(columns)}
    for i, item in enumerate(items):
        for spec in specs:
            outcome, feats, reason = results[(item.id, spec.sha256)]
            if outcome != "ok" or feats is None:
                errors.append({"id": item.id, "extractor": spec.label, "outcome": outcome,
                               "reason": reason or outcome})
                continue
            missing = [k for k in spec.outputs if k not in feats]
            if missing:
                errors.append({"id": item.id, "extractor": spec.label, "outcome": "invalid_output",
                               "reason": f"missing keys {missing}; returned {sorted(feats)}"})
            for key in spec.outputs:
                if key in feats:
                    values[i, col_index[column_name(spec.name, key)]] = float(feats[key])
    frame = pd.DataFrame(values, index=pd.Index([it.id for it in items], name="id"), columns=columns)
    meta = {
        "library_version": library_version,
        "columns": COLUMN_SCHEME,
        "features": {column_name(s.name, key): {"extractor": s.name, "key": key, "version": s.version,
                                                "scale": s.scale, "item": s.item, "item_name": s.item_name}
                     for s in specs for key in s.outputs},
        "extractors": {s.label: s.sha256 for s in specs},
        "cells": len(items) * len(specs),
        "cached_cells": cached_cells,
        "failed_cells": len(errors),
        "seconds": round(seconds, 3),
    }
    return FeatureTable(frame=frame, errors=pd.DataFrame(errors, columns=ERROR_COLUMNS), meta=meta)


def extract(data: Any, *, library: Any = None, workers: int = 1, dask: str | None = None,
            cache: bool = True, skip_bad: bool = False, progress: bool = True,
            limits: Any = None) -> FeatureTable:
    """Extract every active library output for every image of a dataset.

    Parameters
    ----------
    data
        A ``scafe.data.dataset.Dataset`` or a path to a dataset folder / CSV manifest
        (loaded with ``load_dataset(path, skip_bad=skip_bad)``).
    library
        A ``scafe.library.Library``, a library directory, or None for the project's library.
    workers
        Runner sets working in parallel (local threads, or Dask worker processes for ``"local"``).
    dask
        None (local), ``"local"`` (a temporary ``LocalCluster``) or ``"tcp://host:port"``.
    cache
        Reuse and store cell results in ``cache_dir()/extraction.sqlite``.
    skip_bad
        Passed to ``load_dataset``: drop bad manifest rows (reported in ``Dataset.bad``).
    progress
        Show progress on stderr as ``SCAFE_PROGRESS`` says: a live bar on a terminal, else a
        line when extraction starts, every 10 s and when it ends (``scafe.progress``).
    """
    if not hasattr(data, "cases"):
        from scafe.data.dataset import load_dataset

        data = load_dataset(data, skip_bad=skip_bad)
    items = [WorkItem(str(c.id), str(c.image_path), str(c.mask_path), loader=c.load) for c in data.cases]
    if not items:
        raise ExtractionError(f"The dataset at {getattr(data, 'root', '?')} has no usable rows.")
    specs, version = library_specs(library)
    if not progress:
        return extract_items(items, specs, library_version=version, workers=workers, dask=dask,
                             cache=cache, limits=limits)
    from rich.console import Console

    from scafe.progress import progress_bar

    # a live bar on a terminal, plain lines in logs and pipes (SCAFE_PROGRESS), never silence
    with progress_bar(Console(stderr=True)) as bar:
        task = bar.add_task(f"extracting ({len(specs)} extractors, sandboxed)", total=len(items))
        return extract_items(items, specs, library_version=version, workers=workers, dask=dask,
                             cache=cache, limits=limits, on_image=lambda k: bar.advance(task, k))
