"""Clinician grades stored next to the dataset, and how they agree with the extractors.

``<dataset folder>/grades.csv`` has one row per (case, criterion item): ``id, criterion, grade,
grader, graded_at`` (the latest grade wins; the file is rewritten atomically). A grade is an
anchor key of the item (``"0"``..``"3"`` for VSS vascularity). Agreement with an extractor column
is Spearman's rank correlation between the grades, read as ordinal in the anchors' order, and the
column's values over the graded cases where both are present.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scafe.errors import DataError, UsageError

COLUMNS = ["id", "criterion", "grade", "grader", "graded_at"]
MIN_FOR_RHO = 3
# One writer at a time in this process: page requests run on a thread pool, and the atomic
# write's temporary file name is per process.
_WRITE_LOCK = threading.Lock()


class GradeStore:
    """Read and write ``grades.csv``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def frame(self) -> pd.DataFrame:
        """Every grade (latest per case and item)."""
        if not self.path.is_file():
            return pd.DataFrame(columns=COLUMNS)
        try:
            frame = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError(f"{self.path} is not a readable grades CSV ({exc}); move it aside to start again") from None
        missing = [c for c in COLUMNS[:3] if c not in frame.columns]
        if missing:
            raise DataError(f"{self.path} lacks the column(s) {missing}; expected {', '.join(COLUMNS)}")
        return frame.reindex(columns=COLUMNS).drop_duplicates(["id", "criterion"], keep="last")

    def for_item(self, criterion: str) -> dict[str, str]:
        """``case id -> grade`` for one ``scale/item``."""
        frame = self.frame()
        rows = frame[frame["criterion"] == criterion]
        return dict(zip(rows["id"], rows["grade"], strict=True))

    def set(self, case_id: str, criterion: str, grade: str, grader: str = "") -> None:
        """Record (or replace) one grade; an empty ``grade`` removes it."""
        from scafe.library.store import atomic_write

        with _WRITE_LOCK:
            frame = self.frame()
            frame = frame[~((frame["id"] == case_id) & (frame["criterion"] == criterion))]
            if grade != "":
                now = datetime.now(UTC).isoformat(timespec="seconds")
                row = pd.DataFrame([[case_id, criterion, grade, grader, now]], columns=COLUMNS)
                frame = pd.concat([frame, row], ignore_index=True)
            atomic_write(self.path, frame.to_csv(index=False).encode("utf-8"))


def grade_rank(anchors: dict[str, str]) -> dict[str, float]:
    """Anchor key -> ordinal value: the number itself when keys are numbers, else the position."""
    try:
        return {k: float(k) for k in anchors}
    except ValueError:
        return {k: float(i) for i, k in enumerate(anchors)}


def check_grade(anchors: dict[str, str], grade: str) -> None:
    """``UsageError`` unless ``grade`` is one of the item's anchors (or empty = remove)."""
    if grade != "" and grade not in anchors:
        raise UsageError(f"grade {grade!r} is not an anchor of this item; choose one of {', '.join(anchors)}")


def agreement(grades: dict[str, str], anchors: dict[str, str], frame: pd.DataFrame,
              columns: list[str]) -> list[dict[str, Any]]:
    """Per column: ``{column, n, rho, p}`` of grades vs values (rho None below 3 pairs or constant)."""
    from scipy import stats

    ranks = grade_rank(anchors)
    graded = pd.Series({cid: ranks[g] for cid, g in grades.items() if g in ranks and cid in frame.index}, dtype=float)
    out = []
    for column in columns:
        values = frame.loc[graded.index, column].astype(float) if len(graded) else pd.Series(dtype=float)
        ok = np.isfinite(values.to_numpy()) & np.isfinite(graded.to_numpy())
        g, v = graded.to_numpy()[ok], values.to_numpy()[ok]
        rho = p = None
        if len(g) >= MIN_FOR_RHO and np.ptp(g) > 0 and np.ptp(v) > 0:
            res = stats.spearmanr(g, v)
            rho, p = float(res.statistic), float(res.pvalue)
        out.append({"column": column, "n": int(len(g)), "rho": rho, "p": p})
    return out
