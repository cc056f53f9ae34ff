"""``FeatureTable``: the result of extraction (features, per-cell errors, column provenance).

Columns are namespaced by extractor, PyRadiomics style: ``<extractor>.<key>`` (e.g.
``rim_erythema.rim_erythema_delta_a``), so two extractors may emit the same key without a clash.
Build and read names only through :func:`column_name` and :func:`split_column`. Tables and models
from before the scheme (bare keys) are refused by :func:`require_namespaced` with the fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scafe.errors import DataError

ERROR_COLUMNS = ["id", "extractor", "outcome", "reason"]
#: Joins extractor name and output key; neither may contain it (both are ``[a-z][a-z0-9_]*``).
SEPARATOR = "."
#: ``meta["columns"]`` of a table written with namespaced columns.
COLUMN_SCHEME = "extractor.key"


def column_name(extractor: str, key: str) -> str:
    """Feature-table column of output ``key`` of ``extractor``: ``'<extractor>.<key>'``."""
    if not extractor or not key or SEPARATOR in extractor or SEPARATOR in key:
        raise DataError(f"Cannot build a feature column from extractor {extractor!r} and key {key!r}: "
                        f"both must be non-empty and free of {SEPARATOR!r}.")
    return f"{extractor}{SEPARATOR}{key}"


def split_column(column: str) -> tuple[str, str]:
    """``'<extractor>.<key>'`` -> ``(extractor, key)``; ``DataError`` for a bare key."""
    extractor, sep, key = str(column).partition(SEPARATOR)
    if not sep or not extractor or not key or SEPARATOR in key:
        raise DataError(f"Feature column {column!r} is not '<extractor>{SEPARATOR}<key>'. It comes from a "
                        "feature table or model made before columns were namespaced; re-extract "
                        "(`scafe extract`) and retrain (`scafe train`).")
    return extractor, key


def is_namespaced(column: str) -> bool:
    """True when ``column`` is ``'<extractor>.<key>'``."""
    extractor, sep, key = str(column).partition(SEPARATOR)
    return bool(sep and extractor and key and SEPARATOR not in key)


def require_namespaced(columns: Any, what: str) -> None:
    """Refuse bare (pre-namespacing) feature columns with the fix; ``what`` names the source."""
    bare = [str(c) for c in columns if not is_namespaced(c)]
    if bare:
        raise DataError(f"{what} has feature columns without an extractor namespace ({', '.join(bare[:5])}"
                        f"{', ...' if len(bare) > 5 else ''}): it was made before columns became "
                        f"'<extractor>{SEPARATOR}<key>'. Re-extract it with `scafe extract DATA --out FILE.csv` "
                        "(and retrain models on it with `scafe train`).")


def sidecar_paths(csv_path: str | Path) -> tuple[Path, Path, Path]:
    """``X.csv`` -> (``X.csv``, ``X.errors.csv``, ``X.meta.json``)."""
    path = Path(csv_path)
    stem = path.name[:-4] if path.name.lower().endswith(".csv") else path.name
    return path, path.with_name(f"{stem}.errors.csv"), path.with_name(f"{stem}.meta.json")


@dataclass
class FeatureTable:
    """Features of a dataset under one library version (docs/CONTRACTS.md, Extraction).

    Attributes
    ----------
    frame
        One row per image (index ``id``), one float column per active extractor output, named
        ``<extractor>.<key>`` (:func:`column_name`); NaN where
        that (image, extractor) cell failed or where the extractor documents NaN (empty mask).
    errors
        One row per failed cell: ``id, extractor, outcome, reason`` (outcome is a
        ``sandbox.Outcome`` value such as ``failed`` or ``timeout``).
    meta
        ``library_version`` and ``features: {column: {extractor, version, scale, item, item_name}}``,
        plus run statistics (``cells``, ``cached_cells``, ``seconds``).
    """

    frame: pd.DataFrame
    errors: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ERROR_COLUMNS))
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when no cell failed."""
        return self.errors.empty

    def save(self, csv_path: str | Path) -> Path:
        """Write ``X.csv`` (features), ``X.errors.csv`` and ``X.meta.json``; return ``X.csv``."""
        from scafe.extraction.outputs import (
            write_table_set,  # atomic set, formula-safe cells (issue 12)
        )

        main, errors, meta = sidecar_paths(csv_path)
        write_table_set(self.frame, self.errors.reindex(columns=ERROR_COLUMNS), self.meta, (main, errors, meta))
        return main

    @classmethod
    def load(cls, csv_path: str | Path) -> FeatureTable:
        """Read a table written by :meth:`save` (sidecars optional)."""
        main, errors, meta = sidecar_paths(csv_path)
        if not main.is_file():
            raise DataError(f"Feature table {str(main)!r} does not exist; run `scafe extract` first.")
        frame = pd.read_csv(main, dtype={"id": str}).set_index("id")
        err = (pd.read_csv(errors, dtype=str, keep_default_na=False) if errors.is_file()
               else pd.DataFrame(columns=ERROR_COLUMNS))
        info = json.loads(meta.read_text()) if meta.is_file() else {}
        from scafe.extraction.outputs import restore_frame

        frame = restore_frame(frame)
        require_namespaced(frame.columns, f"Feature table {str(main)!r}")
        return cls(frame=frame.astype(float), errors=restore_frame(err, index=False), meta=info)
