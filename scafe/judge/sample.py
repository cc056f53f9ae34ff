"""The LLM sample of the judge benchmark, and the per-case predictions file ``cases.csv``.

An LLM costs money per call, so ``judge-bench --llm-sample N`` judges N test cases, not all of
them. The first N cases in order would all come from one phantom and a few modes in rising
severity, so the sample is *stratified*: cases are grouped by (failure mode, severity), each
stratum is shuffled with a seeded generator that also spreads it across phantoms, and the sample
takes one case from each stratum in turn (strata in a fixed order) until N are drawn. Every method
is then also scored on that same sample, next to its full-set figures.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

SAMPLE_SEED_SALT = 0x5A4D

CASES_COLUMNS: tuple[str, ...] = (
    "case_id", "phantom", "split", "mode", "severity", "dice", "label",
    "method", "verdict", "confidence", "p_unacceptable", "correct", "in_llm_sample",
)


class _Case(Protocol):
    case_id: str
    phantom: int
    mode: str
    severity: float
    dice: float
    label: str
    split: str


def stratified_sample(cases: Sequence[_Case], n: int, *, seed: int = 0) -> list[int]:
    """Indices (sorted) of ``n`` cases drawn round-robin over (mode, severity) strata.

    Deterministic for ``(cases, n, seed)``; every stratum is represented once ``n`` reaches the
    number of strata; within a stratum the order is a seeded shuffle, re-ordered so that
    consecutive picks come from different phantoms where possible.
    """
    if n <= 0 or not cases:
        return []
    if n >= len(cases):
        return list(range(len(cases)))
    rng = np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, SAMPLE_SEED_SALT]))
    strata: dict[tuple[str, float], list[int]] = {}
    for k, case in enumerate(cases):
        strata.setdefault((case.mode, round(float(case.severity), 6)), []).append(k)
    # Stratum order: one stratum of every mode (modes in a seeded order) before a second stratum of
    # any mode, so N >= number of modes already covers every mode.
    by_mode: dict[str, list[list[int]]] = {}
    for key in sorted(strata):
        members = [strata[key][i] for i in rng.permutation(len(strata[key]))]
        by_mode.setdefault(key[0], []).append(_spread_phantoms(members, cases))
    modes = [sorted(by_mode)[i] for i in rng.permutation(len(by_mode))]
    for mode in modes:
        by_mode[mode] = [by_mode[mode][i] for i in rng.permutation(len(by_mode[mode]))]
    order = [by_mode[m][d] for d in range(max(len(v) for v in by_mode.values())) for m in modes if d < len(by_mode[m])]
    picked: list[int] = []
    depth = 0
    while len(picked) < n:
        for queue in order:
            if depth < len(queue):
                picked.append(queue[depth])
                if len(picked) == n:
                    break
        depth += 1
    return sorted(picked)


def _spread_phantoms(members: list[int], cases: Sequence[_Case]) -> list[int]:
    """Round-robin over phantoms (first-seen order) so one stratum's picks differ in phantom."""
    by_phantom: dict[int, list[int]] = {}
    for k in members:
        by_phantom.setdefault(cases[k].phantom, []).append(k)
    groups = list(by_phantom.values())
    out: list[int] = []
    for depth in range(max(len(g) for g in groups)):
        out.extend(g[depth] for g in groups if depth < len(g))
    return out


def write_cases_csv(
    path: Path,
    cases: Sequence[_Case],
    predictions: dict[str, list[dict[str, Any]]],
    positions: dict[str, list[int]],
    sample: Sequence[int] = (),
) -> Path:
    """Write one row per (test case, method) with that method's verdict (long format, :data:`CASES_COLUMNS`).

    ``positions[method][j]`` is the index into ``cases`` of ``predictions[method][j]`` (methods
    run on the sample only have fewer rows). Ids starting with ``= + - @`` are neutralised with a
    leading apostrophe (spreadsheet formula injection). Written atomically.
    """
    import os

    in_sample = set(sample)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CASES_COLUMNS)
        for method, verdicts in predictions.items():
            for k, verdict in zip(positions[method], verdicts, strict=True):
                case = cases[k]
                said = str(verdict.get("verdict"))
                p = verdict.get("p_unacceptable")
                writer.writerow([
                    _cell(case.case_id), case.phantom, case.split, case.mode, f"{case.severity:g}",
                    f"{case.dice:.4f}", case.label, _cell(method), _cell(said),
                    f"{float(verdict.get('confidence') or 0.0):.4f}", "" if p is None else f"{float(p):.4f}",
                    int(said == case.label), int(k in in_sample),
                ])
    tmp.replace(path)
    return path


def _cell(value: str) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
