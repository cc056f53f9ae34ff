"""Folder datasets: a CSV manifest of image, mask and label, checked row by row.

Manifest columns: ``image``, ``mask``, ``label`` (required), ``id``, ``patient_id``, ``split``
(optional; ``id`` defaults to the image file's stem), any others are kept in ``Case.extra``.
Paths are relative to the manifest's folder (absolute paths are allowed). A directory stands for
``DIR/manifest.csv``.

Nothing is dropped silently: ``check_dataset`` returns every bad row with its reason;
``load_dataset`` refuses a dataset with bad rows (``DataError`` listing them) unless
``skip_bad=True``, which keeps the good rows and records the bad ones in ``Dataset.bad``
(``write_bad_rows`` saves them as CSV).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scafe.data.images import decode_image, read_image, read_mask
from scafe.errors import DataError

REQUIRED_COLUMNS = ("image", "mask", "label")
OPTIONAL_COLUMNS = ("id", "patient_id", "split")
DEFAULT_LABELS = ("keloid", "hypertrophic")
_TEXT_COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "wound", "distractors")
MAX_LISTED = 20
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BadRow:
    """One unusable manifest row: ``row`` is the 1-based data row (0 = the header), ``reason`` says why."""

    row: int
    id: str | None
    reason: str

    def __str__(self) -> str:
        return f"row {self.row} (id {self.id}): {self.reason}"


@dataclass
class Case:
    """One image with its lesion mask and label."""

    id: str
    image_path: Path
    mask_path: Path
    label: str
    patient_id: str | None = None
    split: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """``(image (H, W, 3) uint8 RGB, mask (H, W) bool)``; ``DataError`` if they do not match."""
        image, mask = read_image(self.image_path), read_mask(self.mask_path)
        if image.shape[:2] != mask.shape:
            raise DataError(_size_reason(image.shape[:2], mask.shape) + f" (case {self.id})")
        return image, mask


@dataclass
class Dataset:
    """A checked dataset: ``cases`` (good rows, manifest order), ``frame`` (those rows), ``bad``."""

    root: Path
    manifest: Path
    cases: list[Case]
    frame: pd.DataFrame
    bad: list[BadRow]
    notes: list[BadRow] = field(default_factory=list)  # good rows worth a word (16-bit data read as 12-bit, ...)

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)

    @property
    def labels(self) -> list[str]:
        """Label of every case, in order."""
        return [c.label for c in self.cases]

    def write_bad(self, path: str | os.PathLike[str]) -> Path:
        """Write ``bad`` as CSV (``row,id,reason``) and return the path."""
        return write_bad_rows(self.bad, path)


def resolve_manifest(path: str | os.PathLike[str]) -> Path:
    """``DIR`` -> ``DIR/manifest.csv``; a file is returned as is; ``DataError`` if missing."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "manifest.csv"
        if not p.is_file():
            raise DataError(f"{p.parent} has no manifest.csv; pass the CSV file itself or create one "
                            f"with columns {', '.join(REQUIRED_COLUMNS)}.")
    elif not p.is_file():
        raise DataError(f"dataset {p} does not exist; pass a folder holding manifest.csv or a CSV file.")
    return p.resolve()


def _read_manifest(manifest: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(manifest, dtype=dict.fromkeys(_TEXT_COLUMNS, str), keep_default_na=False,
                            na_values=[""], skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"manifest {manifest} is not a readable CSV: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in _TEXT_COLUMNS:
        if col in frame.columns:
            frame[col] = frame[col].fillna("").astype(str).str.strip()
    return frame


def _size_reason(image_hw: tuple[int, ...], mask_hw: tuple[int, ...]) -> str:
    return (f"mask size {mask_hw[1]}x{mask_hw[0]} differs from image size {image_hw[1]}x{image_hw[0]} "
            "(width x height); masks must have the image's size")


def _resolve(root: Path, value: str) -> Path:
    p = Path(value).expanduser()
    p = p if p.is_absolute() else root / p
    if not p.exists() and "\\" in value:  # a manifest written on Windows (img\a.png)
        alt = Path(value.replace("\\", "/")).expanduser()
        alt = alt if alt.is_absolute() else root / alt
        if alt.exists():
            return alt
    return p


def _check_row(root: Path, row: pd.Series, labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """Reasons why one row is bad (empty list when it is good), and notes on a usable row."""
    reasons: list[str] = []
    notes: list[str] = []
    for col in REQUIRED_COLUMNS:
        if not row[col]:
            reasons.append(f"empty '{col}' cell")
    if row["label"] and row["label"] not in labels:
        reasons.append(f"unknown label {row['label']!r}; allowed: {', '.join(labels)}")
    shapes: dict[str, tuple[int, ...]] = {}
    for col in ("image", "mask"):
        if not row[col]:
            continue
        path = _resolve(root, row[col])
        if not path.is_file():
            reasons.append(f"missing {col} file {row[col]!r} (looked for {path})")
            continue
        try:
            if col == "image":
                arr, info = decode_image(path)
                if info.note:
                    notes.append(f"{row[col]}: {info.note}")
            else:
                arr = read_mask(path)
        except DataError as exc:
            text = str(exc)
            kind = "non-binary mask" if "not binary" in text or "colour image" in text else f"unreadable {col}"
            reasons.append(f"{kind}: {text}")
            continue
        shapes[col] = arr.shape[:2]
        if col == "mask" and not arr.any():
            reasons.append(f"empty mask {row[col]!r} (no lesion pixel); fix the mask or drop the row")
    if len(shapes) == 2 and shapes["image"] != shapes["mask"]:
        reasons.append(_size_reason(shapes["image"], shapes["mask"]))
    return reasons, notes


def _scan(
    path: str | os.PathLike[str], labels: Sequence[str], progress: Progress | None = None,
    notes: list[BadRow] | None = None,
) -> tuple[Path, pd.DataFrame, list[BadRow], list[Case]]:
    manifest = resolve_manifest(path)
    root = manifest.parent
    frame = _read_manifest(manifest)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        header = [BadRow(0, None, f"missing column {c!r}; the manifest needs columns "
                                  f"{', '.join(REQUIRED_COLUMNS)} (has: {', '.join(map(str, frame.columns))})")
                  for c in missing]
        return manifest, frame, header, []
    if "id" not in frame.columns:
        frame.insert(0, "id", [Path(v).stem if v else "" for v in frame["image"]])
    bad: list[BadRow] = []
    cases: list[Case] = []
    first_seen: dict[str, int] = {}
    extra_cols = [c for c in frame.columns if c not in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]
    rows = [row for _, row in frame.iterrows()]
    # decoding dominates and Pillow/tifffile release the GIL: check the files on a few threads
    # (map keeps the manifest order, so the report is the same as a sequential scan)
    with ThreadPoolExecutor(max_workers=min(8, 2 * (os.cpu_count() or 1))) as pool:
        file_reasons = []
        for done, reasons_i in enumerate(pool.map(lambda r: _check_row(root, r, labels), rows), start=1):
            file_reasons.append(reasons_i)
            if progress:
                progress(done, len(rows))
    for i, row in enumerate(rows, start=1):
        rid = row["id"] or None
        reasons = [] if rid else ["empty 'id' cell"]
        if rid is not None and rid in first_seen:
            reasons.append(f"duplicate id {rid!r} (first at row {first_seen[rid]}); ids must be unique")
        elif rid is not None:
            first_seen[rid] = i
        reasons += file_reasons[i - 1][0]
        if notes is not None:
            notes.extend(BadRow(i, rid, note) for note in file_reasons[i - 1][1])
        if reasons:
            bad.extend(BadRow(i, rid, r) for r in reasons)
            continue
        cases.append(Case(
            id=str(rid), image_path=_resolve(root, row["image"]), mask_path=_resolve(root, row["mask"]),
            label=row["label"], patient_id=(row.get("patient_id") or None), split=(row.get("split") or None),
            extra={c: row[c] for c in extra_cols},
        ))
    return manifest, frame, bad, cases


def check_dataset(
    path: str | os.PathLike[str], *, labels: Sequence[str] = DEFAULT_LABELS, progress: Progress | None = None
) -> list[BadRow]:
    """Every bad row of the dataset at ``path`` with its reason (empty list: the dataset is clean).

    Reasons: missing column, empty cell, missing file, unreadable or truncated image, non-binary
    mask, empty mask, mask/image size mismatch, unknown label, duplicate id. ``progress(done, total)``
    is called as rows are checked.
    """
    return _scan(path, labels, progress)[2]


def inspect_dataset(
    path: str | os.PathLike[str], *, labels: Sequence[str] = DEFAULT_LABELS, progress: Progress | None = None
) -> tuple[list[BadRow], list[BadRow]]:
    """``(bad rows, notes)``: :func:`check_dataset` plus what is worth a word on usable rows
    (16-bit images read as fewer bits, see ``scafe.data.images``)."""
    notes: list[BadRow] = []
    bad = _scan(path, labels, progress, notes)[2]
    return bad, notes


def load_dataset(
    path: str | os.PathLike[str],
    *,
    skip_bad: bool = False,
    labels: Sequence[str] = DEFAULT_LABELS,
    progress: Progress | None = None,
) -> Dataset:
    """Load and check a dataset; ``DataError`` listing the bad rows unless ``skip_bad``.

    Every image and mask is decoded once here (that is how truncated files and size mismatches
    are found); ``progress(done, total)`` is called as rows are checked.
    """
    notes: list[BadRow] = []
    manifest, frame, bad, cases = _scan(path, labels, progress, notes)
    if bad and (not skip_bad or any(b.row == 0 for b in bad)):
        shown = "\n  ".join(str(b) for b in bad[:MAX_LISTED])
        more = f"\n  ... and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
        hint = "" if any(b.row == 0 for b in bad) else " Fix them, or pass --skip-bad (skip_bad=True) to continue without them."
        raise DataError(f"{len(bad)} bad row(s) in {manifest}:\n  {shown}{more}\n{hint}".rstrip())
    if not cases:
        raise DataError(f"{manifest} has no usable rows; add rows with {', '.join(REQUIRED_COLUMNS)}.")
    good_ids = {c.id for c in cases}
    kept = frame[frame["id"].isin(good_ids)].drop_duplicates("id").reset_index(drop=True)
    return Dataset(root=manifest.parent, manifest=manifest, cases=cases, frame=kept, bad=bad, notes=notes)


def write_bad_rows(bad: Sequence[BadRow], path: str | os.PathLike[str]) -> Path:
    """Write bad rows to a CSV with columns ``row,id,reason``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["row", "id", "reason"])
        for b in bad:
            writer.writerow([b.row, b.id or "", b.reason])
    return out


__all__ = ["BadRow", "Case", "Dataset", "check_dataset", "inspect_dataset", "load_dataset", "read_image",
           "read_mask", "resolve_manifest", "write_bad_rows"]
