"""Writing a feature table's three files as one set, and CSV cells a spreadsheet will not execute.

*Atomic set*: ``X.csv``, ``X.errors.csv`` and ``X.meta.json`` are first written completely to
temporary files beside them (fsync'ed); only when all three exist are they renamed over the old
ones, metadata and errors first, the table last. A failure while writing (disk full, a bad
value, an interrupt) removes the temporaries and leaves the previous set untouched; the renames
themselves are metadata operations in one directory. (Not guaranteed: a reader racing the three
renames, or a power cut between them, can see a new sidecar next to the old table.)

*Formula injection*: a cell that starts with ``=``, ``+``, ``-``, ``@`` (or tab / carriage
return) is a formula to Excel, LibreOffice and Sheets (``=HYPERLINK(...)``, ``=cmd|...``). Such
text cells (image ids, extractor messages) are written with a leading ``'``, which spreadsheets
show as text; a cell that already starts with ``'`` gets one more, so :func:`restore_cell` undoes
the quoting exactly and ids survive a save/load round trip unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralise_cell", "neutralise_frame", "restore_cell", "restore_frame",
           "write_table_set"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``'`` + ``value`` when a spreadsheet would read it as a formula (or it starts with ``'``)."""
    if isinstance(value, str) and value and (value[0] in FORMULA_PREFIXES or value[0] == "'"):
        return "'" + value
    return value


def restore_cell(value: Any) -> Any:
    """Inverse of :func:`neutralise_cell`."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and (
            value[1] in FORMULA_PREFIXES or value[1] == "'"):
        return value[1:]
    return value


def _is_text(values: pd.Series | pd.Index) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def _map_frame(frame: pd.DataFrame, func: Any, index: bool) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if _is_text(out[column]):
            out[column] = out[column].map(func)
    if index and _is_text(out.index):
        out.index = pd.Index([func(v) for v in out.index], name=out.index.name)
    return out


def neutralise_frame(frame: pd.DataFrame, *, index: bool = True) -> pd.DataFrame:
    """A copy whose text cells (and text index) are neutralised."""
    return _map_frame(frame, neutralise_cell, index)


def restore_frame(frame: pd.DataFrame, *, index: bool = True) -> pd.DataFrame:
    """Inverse of :func:`neutralise_frame`."""
    return _map_frame(frame, restore_cell, index)


def _write_tmp(target: Path, text: str, token: str) -> Path:
    tmp = target.with_name(f".{target.name}.{token}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def write_table_set(frame: pd.DataFrame, errors: pd.DataFrame, meta: dict[str, Any], paths: tuple[Path, Path, Path],
                    *, float_format: str = "%.10g") -> None:
    """Write (table, errors, meta) to ``paths`` = (X.csv, X.errors.csv, X.meta.json) as one set."""
    main, errors_path, meta_path = paths
    main.parent.mkdir(parents=True, exist_ok=True)
    token = f"{os.getpid()}.{secrets.token_hex(4)}"
    written: list[tuple[Path, Path]] = []
    try:
        table_text = neutralise_frame(frame).to_csv(index=True, index_label="id", float_format=float_format)
        written.append((_write_tmp(main, table_text, token), main))
        written.append((_write_tmp(errors_path, neutralise_frame(errors).to_csv(index=False), token), errors_path))
        meta_text = json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n"
        written.append((_write_tmp(meta_path, meta_text, token), meta_path))
    except BaseException:
        for tmp, _ in written:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    for tmp, target in (written[2], written[1], written[0]):  # the table last: it is what readers look for
        os.replace(tmp, target)
