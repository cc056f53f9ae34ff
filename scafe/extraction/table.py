"""``FeatureTable``: the result of extraction (features, per-cell errors, column provenance)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scafe.errors import DataError

ERROR_COLUMNS = ["id", "extractor", "outcome", "reason"]


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
        One row per image (index ``id``), one float column per active extractor output; NaN where
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

        return cls(frame=restore_frame(frame).astype(float), errors=restore_frame(err, index=False), meta=info)
