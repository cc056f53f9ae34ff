"""Cross-validation on one user dataset (``scafe evaluate --data MANIFEST`` without ``--test``).

* Repeated stratified K-fold, **grouped by** ``patient_id`` when the manifest has it: all images
  of a patient fall in the same fold, so no patient is ever in both train and test.
* A ``split`` column (``train``/``test``) is honoured instead: one fixed split, checked for
  patients on both sides.
* Leakage is refused before anything is trained: the same image (by content hash) listed twice
  with different labels, or on both sides of the split / in two patient groups, is a
  ``DataError`` naming the manifest rows.
* Learning curves as with a fixed test set: for each training size ``n`` (≤ the smallest
  training fold) a stratified subset of the training folds is drawn; every method sees the
  same subset. The out-of-fold probabilities of one repeat form one probability vector over the
  whole dataset (or the test rows of a fixed split), which is what :class:`EvaluationResult`
  summarises with bootstrap intervals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scafe.errors import DataError
from scafe.evaluation.methods import CaseSet, Group
from scafe.evaluation.protocol import EvaluationResult, stratified_subset

TRAIN_VALUES = ("train", "training", "dev")
TEST_VALUES = ("test", "holdout", "held-out", "val", "validation")


@dataclass
class Split:
    """One train/test split: row indices into the dataset (manifest order of the good rows)."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def file_hash(path: str | Path) -> str:
    """sha256 of a file's bytes (identical images listed twice, under any name)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rows(frame: pd.DataFrame, idx: list[int]) -> str:
    return ", ".join(f"row {frame['_row'].iloc[i]} (id {frame['id'].iloc[i]})" for i in idx)


def describe_rows(dataset: Any) -> pd.DataFrame:
    """``id, label, patient_id, split, _row, _hash`` per usable case (manifest order)."""
    frame = dataset.frame.copy().reset_index(drop=True)
    frame["id"] = frame["id"].astype(str)
    frame = frame.set_index("id").reindex([str(c.id) for c in dataset.cases]).reset_index()
    raw = pd.read_csv(dataset.manifest, dtype=str, keep_default_na=False)
    raw_ids = raw["id"] if "id" in raw.columns else raw["image"].map(lambda v: Path(v).stem)
    row_of: dict[str, int] = {}
    for number, case_id in enumerate(raw_ids, start=1):
        row_of.setdefault(str(case_id), number)
    frame["_row"] = [row_of.get(i, 0) for i in frame["id"]]
    frame["_hash"] = [file_hash(c.image_path) for c in dataset.cases]
    return frame


def check_leakage(frame: pd.DataFrame, groups: np.ndarray, split: np.ndarray | None) -> None:
    """Refuse the dataset when one image (same bytes) could be in train and test, or has two labels."""
    problems = []
    for _, same in frame.groupby("_hash").groups.items():
        idx = [int(i) for i in same]
        if len(idx) < 2:
            continue
        labels = set(frame["label"].iloc[idx].astype(str))
        if len(labels) > 1:
            problems.append(f"the same image is listed with different labels ({', '.join(sorted(labels))}): "
                            + _rows(frame, idx))
        elif split is not None and len(set(split[idx])) > 1:
            problems.append("the same image is in both train and test (split column): " + _rows(frame, idx))
        elif split is None and len(set(groups[idx])) > 1:
            what = "patients" if "patient_id" in frame.columns else "cases (no patient_id column)"
            problems.append(f"the same image is listed for different {what}, so it could land in train and "
                            "test: " + _rows(frame, idx))
    if problems:
        raise DataError("Leakage refused: " + "; ".join(problems) + ". Remove the duplicates from the manifest "
                        "(or give duplicates of one patient the same patient_id).")


def split_column(frame: pd.DataFrame) -> np.ndarray | None:
    """``True`` for test rows from a ``split`` column, or ``None`` when there is none."""
    if "split" not in frame.columns:
        return None
    values = frame["split"].astype(str).str.strip().str.lower()
    unknown = sorted(set(values) - set(TRAIN_VALUES) - set(TEST_VALUES))
    if unknown:
        raise DataError(f"The split column holds {unknown}; use train or test (also: {', '.join(TEST_VALUES[1:])}).")
    return values.isin(TEST_VALUES).to_numpy()


def make_splits(frame: pd.DataFrame, y: np.ndarray, *, folds: int, repeats: int, seed: int) -> tuple[list[Split], dict[str, Any]]:
    """The splits and a description of the protocol (for metrics.json and the report)."""
    from sklearn.model_selection import StratifiedGroupKFold

    grouped = "patient_id" in frame.columns
    if grouped:  # a case without a patient id is its own group
        patient = frame["patient_id"].fillna("").astype(str).str.strip()
        groups = np.where(patient != "", "patient:" + patient, "case:" + frame["id"]).astype(str)
    else:
        groups = frame["id"].to_numpy().astype(str)
    test_mask = split_column(frame)
    check_leakage(frame, groups, test_mask)
    info: dict[str, Any] = {"protocol": "cross-validation", "grouped_by": "patient_id" if grouped else None,
                            "n_patients": int(len(set(groups))) if grouped else None}
    if test_mask is not None:
        if grouped:
            both = sorted(set(groups[test_mask]) & set(groups[~test_mask]))
            if both:
                raise DataError(f"Patients {[b.removeprefix('patient:') for b in both[:10]]} are in both the train and test rows of the split column; "
                                "a patient's images must all be on one side.")
        info.update(protocol="fixed split (split column)", folds=1, n_test=int(test_mask.sum()))
        train, test = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
        return [Split(r, 0, train, test) for r in range(repeats)], info
    n_groups = len(set(groups))
    if n_groups < folds:
        raise DataError(f"{n_groups} {'patients' if grouped else 'cases'} cannot fill {folds} folds; lower --folds.")
    splits = []
    for r in range(repeats):
        kfold = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        for f, (train, test) in enumerate(kfold.split(np.zeros(len(y)), y, groups)):
            splits.append(Split(r, f, np.asarray(train), np.asarray(test)))
    info.update(folds=folds)
    return splits, info


def subset(cases: CaseSet, idx: np.ndarray) -> CaseSet:
    """The rows ``idx`` of a case set (every table and array)."""
    ids = [cases.ids[i] for i in idx]
    pick = (lambda frame: None if frame is None else frame.loc[ids])  # noqa: E731
    return CaseSet(ids=ids, y=cases.y[idx], library=pick(cases.library), radiomics=pick(cases.radiomics),
                   latent=pick(cases.latent), nuisance=pick(cases.nuisance),
                   cnn=None if cases.cnn is None else cases.cnn[idx], extra=dict(cases.extra))


def run_cross_validation(
    cases: CaseSet,
    splits: list[Split],
    build: Callable[[CaseSet, CaseSet], tuple[list[Group], list[dict[str, str]]]],
    *,
    sizes: list[int],
    repeats: int,
    seed: int = 0,
    on_step: Callable[[str], None] | None = None,
) -> EvaluationResult:
    """Out-of-fold probabilities per (method, size, repeat); see the module docstring."""
    scored = np.unique(np.concatenate([s.test for s in splits]))
    position = {int(i): k for k, i in enumerate(scored)}
    min_train = min(len(s.train) for s in splits)
    usable = sorted(n for n in set(sizes) if n <= min_train) or [min_train]
    result = EvaluationResult(y_test=cases.y[scored], test_ids=[cases.ids[i] for i in scored], sizes=usable,
                              repeats=repeats)
    for n in sorted(set(sizes) - set(usable)):
        result.skipped.append({"method": "*", "reason": f"training size {n} exceeds the smallest training fold "
                                                        f"({min_train} cases)"})
    oof: dict[tuple[str, int, int], np.ndarray] = {}
    skipped_seen: set[str] = set()
    for split in splits:
        train, test = subset(cases, split.train), subset(cases, split.test)
        groups, skipped = build(train, test)
        for s in skipped:
            if s["method"] not in skipped_seen:
                skipped_seen.add(s["method"])
                result.skipped.append(s)
        rows = np.array([position[int(i)] for i in split.test])
        for n in usable:
            idx = (np.arange(len(train.y)) if n >= len(train.y)
                   else stratified_subset(train.y, n, seed + 1000 * n + split.repeat * 97 + split.fold))
            for group in groups:
                if group.zero_shot and (split.repeat > 0 or n != usable[0]):
                    continue
                out = group.run(idx if not group.zero_shot else np.arange(0), seed + split.repeat)
                for name, p in out.items():
                    key = (name, 0 if group.zero_shot else n, split.repeat)
                    vector = oof.setdefault(key, np.full(len(scored), np.nan))
                    vector[rows] = np.asarray(p, float)[: len(rows)]
                if on_step:
                    on_step(f"repeat {split.repeat + 1} fold {split.fold + 1} n={n}: {group.names[0]}")
    for (name, n, _r), vector in sorted(oof.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        result.probas.setdefault(name, {}).setdefault(n, []).append(vector)
    order = [name for name in _first_seen(oof)]
    result.probas = {name: result.probas[name] for name in order}
    return result


def _first_seen(oof: dict[tuple[str, int, int], Any]) -> list[str]:
    seen: list[str] = []
    for name, _n, _r in oof:
        if name not in seen:
            seen.append(name)
    return seen


def count_cv_steps(groups: int, splits: list[Split], sizes: list[int]) -> int:
    """Progress total for :func:`run_cross_validation` (approximate when methods are skipped)."""
    min_train = min(len(s.train) for s in splits)
    usable = [n for n in set(sizes) if n <= min_train] or [min_train]
    return groups * len(splits) * len(usable)
