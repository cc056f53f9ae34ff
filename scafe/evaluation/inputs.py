"""Build the inputs of every method (a :class:`CaseSet`) from a dataset folder.

One pass over the images computes what the image-based baselines need (radiomics rows and the
CNN's small arrays); the library features come from :func:`scafe.extraction.extract` (sandboxed,
cached); ``latent_*``/``nuisance_*`` come straight from the manifest (phantom sets only).
Radiomics rows are cached in ``cache_dir()/radiomics/`` keyed by the image and mask bytes'
hash and the backend, so a second ``scafe demo`` or ``scafe evaluate`` skips that work.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scafe.errors import DataError
from scafe.evaluation.methods import CaseSet


@dataclass
class LoadedSet:
    """A dataset and everything derived from it for one evaluation side."""

    cases: CaseSet
    dataset: Any  # scafe.data.dataset.Dataset
    features: Any | None  # scafe.extraction.FeatureTable
    radiomics_backend: str | None
    library_error: str | None = None  # why there are no library features (e.g. an empty library)


def labels_of(frame: pd.DataFrame) -> np.ndarray:
    """0/1 labels (1 = keloid) of a manifest frame with a ``label`` column."""
    from scafe.classifier import encode_labels

    if "label" not in frame.columns:
        raise DataError("The manifest has no 'label' column; evaluation needs keloid/hypertrophic labels.")
    if frame["label"].isna().any():
        bad = frame.index[frame["label"].isna()][:5].tolist()
        raise DataError(f"Cases {bad} have no label; evaluation needs every case labelled.")
    return encode_labels(frame["label"].astype(str).to_numpy())


def _prefixed(frame: pd.DataFrame, prefix: str) -> pd.DataFrame | None:
    cols = [c for c in frame.columns if c.startswith(prefix)]
    if not cols:
        return None
    return frame[cols].apply(pd.to_numeric, errors="coerce")


def _radiomics_cache(backend: str) -> Path:
    from scafe.paths import cache_dir

    path = cache_dir() / "radiomics"
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{backend}.csv"


def _pair_key(image: np.ndarray, mask: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str(image.shape).encode())
    h.update(np.ascontiguousarray(image).tobytes())
    h.update(np.ascontiguousarray(mask, dtype=bool).tobytes())
    return h.hexdigest()[:32]


def image_inputs(
    dataset: Any,
    *,
    radiomics: bool = True,
    cnn: bool = True,
    backend: str | None = None,
    on_item: Callable[[], None] | None = None,
) -> tuple[pd.DataFrame | None, np.ndarray | None, str | None]:
    """Radiomics table (index id) and ``(n, 4, S, S)`` CNN arrays of every case, in one pass."""
    from scafe.baselines.cnn import prepare_inputs
    from scafe.baselines.radiomics import make_computer, radiomics_backend

    backend = (backend or radiomics_backend()) if radiomics else None
    cache_path = _radiomics_cache(backend) if backend else None
    compute = make_computer(backend) if backend else None
    cached = pd.read_csv(cache_path, index_col="key") if cache_path and cache_path.is_file() else None
    rows: dict[str, pd.Series] = {}
    new_rows: list[pd.Series] = []
    arrays = []
    for case in dataset.cases:
        image, mask = case.load()
        if cnn:
            arrays.append(prepare_inputs(image, mask))
        if compute is not None:
            key = _pair_key(image, mask)
            if cached is not None and key in cached.index:
                rows[str(case.id)] = cached.loc[key]
            else:
                row = pd.Series(compute(image, mask), name=key, dtype=float)
                rows[str(case.id)] = row
                new_rows.append(row)
        if on_item:
            on_item()
    table = None
    if backend:
        table = pd.DataFrame.from_dict({k: v.to_dict() for k, v in rows.items()}, orient="index").astype(float)
        table.index.name = "id"
        if new_rows and cache_path is not None:
            fresh = pd.DataFrame(new_rows)
            fresh.index.name = "key"
            merged = fresh if cached is None else pd.concat([cached, fresh])
            # write-then-rename: a concurrent reader never sees a half-written cache file
            tmp = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp")
            merged[~merged.index.duplicated(keep="last")].to_csv(tmp)
            os.replace(tmp, cache_path)
    return table, (np.stack(arrays) if cnn and arrays else None), backend


def extract_with_progress(dataset: Any, *, library: Any = None,
                          progress: Callable[[str, int], Callable[[], None]] | None = None) -> Any:
    """:func:`scafe.extraction.extract` reporting to *our* progress bar (one live display at a time)."""
    from scafe.extraction import WorkItem, extract, extract_items, library_specs

    if progress is None:
        return extract(dataset, library=library, progress=False)
    items = [WorkItem(str(c.id), str(c.image_path), str(c.mask_path), loader=c.load) for c in dataset.cases]
    specs, version = library_specs(library)
    advance = progress(f"extracting ({len(specs)} extractors, sandboxed)", len(items))

    def on_image(k: int) -> None:
        for _ in range(k):
            advance()

    return extract_items(items, specs, library_version=version, on_image=on_image)


def load_case_set(
    data: str | Path | Any,
    *,
    library: Any = None,
    features: Any = None,
    radiomics: bool = True,
    cnn: bool = True,
    use_library: bool = True,
    progress: Callable[[str, int], Callable[[], None]] | None = None,
) -> LoadedSet:
    """Everything one side of the evaluation needs.

    Parameters
    ----------
    data : dataset folder / manifest CSV, or a loaded ``Dataset``.
    library : passed to :func:`scafe.extraction.extract` (None = the project's library).
    features : an already extracted ``FeatureTable`` (skips extraction).
    radiomics, cnn : compute the image-based baseline inputs.
    use_library : extract library features at all (False for the radiomics/oracle-only runs).
    progress : ``progress(description, total) -> advance`` factory for progress bars.
    """
    if not hasattr(data, "cases"):
        from scafe.data.dataset import load_dataset

        data = load_dataset(data)
    dataset: Any = data
    frame = dataset.frame.copy()
    frame["id"] = frame["id"].astype(str)
    frame = frame.set_index("id")
    ids = [str(c.id) for c in data.cases]
    frame = frame.reindex(ids)
    y = labels_of(frame)
    library_error = None
    if features is None and use_library:
        from scafe.errors import ExtractionError, LibraryError

        try:
            features = extract_with_progress(data, library=library, progress=progress)
        except (ExtractionError, LibraryError) as exc:  # e.g. no active extractor: the other methods still run
            library_error = str(exc)
    rad_table = cnn_arrays = backend = None
    if radiomics or cnn:
        from scafe.baselines.cnn import cnn_unavailable_reason

        cnn = cnn and cnn_unavailable_reason() is None  # no point preparing arrays without torch
        advance = progress("radiomics + images", len(ids)) if progress else None
        rad_table, cnn_arrays, backend = image_inputs(data, radiomics=radiomics, cnn=cnn, on_item=advance)
    lib_frame = None
    if features is not None:
        lib_frame = features.frame.copy()
        lib_frame.index = lib_frame.index.astype(str)
    cases = CaseSet(
        ids=ids, y=y, library=lib_frame, radiomics=rad_table,
        latent=_prefixed(frame, "latent_"), nuisance=_prefixed(frame, "nuisance_"), cnn=cnn_arrays,
    )
    return LoadedSet(cases=cases, dataset=data, features=features, radiomics_backend=backend,
                     library_error=library_error)
