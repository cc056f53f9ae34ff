"""The descriptor glossary and a target's reference values (what an acceptable mask measures).

Every prompt that names a descriptor defines it from :data:`GLOSSARY` (unit, formula), and shows
the range seen on *acceptable* masks of the target. That range, and the precision of each rule,
are measured on the train split of the default judge benchmark and stored with the target as
``prompts/criteria/segmentation/<target>.reference.json`` (written by
``python benchmarks/judge.py --write-reference``; never from the test split).

Reference file shape::

    {"source": "...how it was made...", "n_acceptable": int, "n_cases": int,
     "ranges": {descriptor: {"p05": float, "p50": float, "p95": float}},
     "rules": {rule id: {"threshold": float, "fires": int, "precision": float|null}}}
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scafe.judge.descriptors import BAND_PX, DESCRIPTOR_NAMES, EDGE_TOLERANCE_PX
from scafe.judge.edge_offset import AGREE_PX, MIN_EDGE_STEP

# name -> (unit, formula / meaning). r_eq = sqrt(A/pi) (equivalent radius, px); w = lesion_width_px.
GLOSSARY: dict[str, tuple[str, str]] = {
    "area_fraction": ("fraction of the image", "A / (H*W), A = mask pixels"),
    "n_components": ("count", "8-connected pieces of the mask"),
    "largest_component_fraction": ("fraction", "area of the largest piece / A"),
    "n_holes": ("count", "background regions enclosed by the mask"),
    "hole_fraction": ("fraction", "hole area / (A + hole area)"),
    "euler_number": ("count", "n_components - n_holes"),
    "solidity": ("fraction, 1 = convex", "A / area of the convex hull"),
    "circularity": ("0..1, disc = 1", "4*pi*A / P^2, P = perimeter of the contours smoothed by 1 px"),
    "convexity": ("0..1, convex = 1", "hull perimeter / P (ragged outlines score low)"),
    "border_touch": ("fraction", "share of the mask's boundary pixels on the image frame"),
    "boundary_roughness": ("fraction of r_eq", "mean distance of the contour from its moving average (window 5 % of its length) / r_eq"),
    "boundary_gradient_ratio": ("ratio, 1 = image median", "mean |grad L*| on the boundary / median |grad L*| of the image"),
    "boundary_color_gradient_ratio": ("ratio, 1 = image median", "the same with the full Lab colour gradient sqrt(|grad L*|^2+|grad a*|^2+|grad b*|^2)"),
    "boundary_f1": ("0..1", f"F1 of boundary pixels vs colour (Canny) edges, a match within {EDGE_TOLERANCE_PX:g} px (tolerance)"),
    "ring_delta_e": ("CIE76 Delta E", "colour distance, mean Lab inside vs a ring of skin 0 < d <= max(3, 0.25 r_eq) px outside"),
    "ring_fisher_ratio": ("dimensionless, squared z-score", "d^T (S_in + S_ring)^-1 d, d = mean Lab difference inside - ring, S = Lab covariances; 1 = means one pooled SD apart, > 4 well separated"),
    "ring_delta_l": ("L* units (0..100)", "mean L* inside - ring (negative = darker inside)"),
    "ring_delta_a": ("a* units", "mean a* inside - ring (positive = redder inside)"),
    "ring_delta_b": ("b* units", "mean b* inside - ring (positive = yellower inside)"),
    "band_delta_e": ("CIE76 Delta E", f"colour distance between bands {BAND_PX:g} px inside and {BAND_PX:g} px outside the boundary; large when the boundary sits on a colour step"),
    "self_consistency_dice": ("Dice 0..1", "Dice of the mask with an Otsu re-segmentation of its neighbourhood (within max(6, 0.5 r_eq) px) along the inside-vs-ring colour direction"),
    "window_separability": ("0..1", "Otsu separability (between-class / total variance) of the colour projection in the self-consistency window: how clearly the image shows two colours there"),
    "lesion_width_px": ("px", "typical width of the masked region: min(2 A / P, r_eq)"),
    "closing_gain": ("fraction of A", "area added by a morphological closing of radius 0.3 w / A (gaps and notches)"),
    "opening_loss": ("fraction of A", "area removed by a morphological opening of radius 0.3 w / A (spurs, thin strips, islands)"),
    "closing_gain_wide": ("fraction of A", "as closing_gain with radius 0.6 w"),
    "opening_loss_wide": ("fraction of A", "as opening_loss with radius 0.6 w"),
    "n_components_closed": ("count", "pieces left after a 2 px closing (fragments separated by more than ~4 px)"),
    "edge_offset_px": ("px, signed", "median distance from the boundary to the steepest colour drop along the outward normals; > 0 = the edge lies outside the mask (too small), < 0 = inside (too large)"),
    "edge_offset_abs_px": ("px", "mean |offset| of the boundary from the colour edge along the normals (a shift of d px gives about 2d/pi)"),
    "edge_offset_rel": ("fraction of w", "edge_offset_abs_px / lesion_width_px: a 2 px offset on a 20 px-wide scar (0.1) costs ~20 % Dice"),
    "edge_strength": ("Lab units per px", "median over boundary points of the steepest colour drop along the normal: how visible an edge is near the boundary at all"),
    "edge_agreement": ("fraction", f"share of boundary points whose colour edge (drop >= {MIN_EDGE_STEP:g} Lab/px) lies within {AGREE_PX:g} px"),
}


def reference_path(target_path: str | Path) -> Path:
    """``<target>.reference.json`` next to the target's YAML file."""
    path = Path(target_path)
    return path.with_name(f"{path.stem}.reference.json")


def load_reference(target_path: str | Path) -> dict[str, Any]:
    """The target's reference values, or ``{}`` when the file does not exist.

    Raises
    ------
    CriteriaError
        When the file exists but is not a JSON object with ``ranges`` and ``rules``.
    """
    from scafe.errors import CriteriaError

    path = reference_path(target_path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CriteriaError(f"{path} is not valid JSON ({exc}); regenerate it with "
                            "`python benchmarks/judge.py --write-reference`.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("ranges"), dict) or not isinstance(data.get("rules"), dict):
        raise CriteriaError(f"{path} must be a JSON object with 'ranges' and 'rules'; regenerate it with "
                            "`python benchmarks/judge.py --write-reference`.")
    return data


def acceptable_ranges(descriptors: Sequence[dict[str, float]]) -> dict[str, dict[str, float | None]]:
    """5th, 50th and 95th percentile of each descriptor over (acceptable) masks; None when never defined."""
    ranges: dict[str, dict[str, float | None]] = {}
    for name in DESCRIPTOR_NAMES:
        values = np.array([d.get(name, math.nan) for d in descriptors], dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            ranges[name] = {"p05": None, "p50": None, "p95": None}
            continue
        p05, p50, p95 = np.percentile(values, [5, 50, 95])
        ranges[name] = {"p05": _round(p05), "p50": _round(p50), "p95": _round(p95)}
    return ranges


def _round(value: float) -> float:
    return float(f"{float(value):.4g}")


def glossary_rows(descriptors: dict[str, float], reference: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per descriptor for the prompts: name, value, unit, formula, acceptable range."""
    ranges = reference.get("ranges", {})
    rows = []
    for name in DESCRIPTOR_NAMES:
        value = descriptors.get(name, math.nan)
        shown: Any = round(float(value), 4) if isinstance(value, float | int) and math.isfinite(value) else "undefined"
        unit, formula = GLOSSARY[name]
        r = ranges.get(name) or {}
        typical = (f"{r['p05']:g} .. {r['p95']:g} (median {r['p50']:g})"
                   if r.get("p05") is not None and r.get("p95") is not None and r.get("p50") is not None else "not measured")
        rows.append({"name": name, "value": shown, "unit": unit, "formula": formula, "acceptable": typical})
    return rows


SILENT_MARGIN = 1.0  # rules stay this many `scale` units clear of every train ground truth


def truth_descriptors(bench: Any, split: str = "train") -> list[dict[str, float]]:
    """Descriptors of the ground-truth masks of one split's phantoms."""
    from scafe.judge.descriptors import compute_descriptors

    phantoms = sorted({c.phantom for c in bench.split(split)})
    return [compute_descriptors(bench.images[i], bench.truths[i]) for i in phantoms]


def build_reference(bench: Any, target: Any) -> dict[str, Any]:
    """Reference values of ``target`` from the train split of ``bench`` (module docstring).

    ``ranges`` come from the train split's acceptable masks; ``rules`` from all its masks
    (:func:`scafe.judge.rules.rule_statistics`).
    """
    from scafe.judge.rules import rule_statistics

    train = bench.split("train")
    acceptable = [c.descriptors for c in train if c.label == "acceptable"]
    return {
        "source": (f"train split of the judge benchmark (n={len(bench.images)} phantoms, seed {bench.seed}, "
                   f"{bench.size} px; phantoms 0-{len(bench.images) // 2 - 1}); ranges over its acceptable masks "
                   "(Dice >= 0.85), rule statistics over all its masks; written by benchmarks/judge.py --refit"),
        "image_size_px": bench.size,
        "n_cases": len(train),
        "n_acceptable": len(acceptable),
        "ranges": acceptable_ranges(acceptable),
        "rules": rule_statistics(target, [c.descriptors for c in train], [c.label == "unacceptable" for c in train]),
    }


def write_reference(target_path: str | Path, reference: dict[str, Any]) -> Path:
    """Write ``<target>.reference.json`` next to the target file; returns its path."""
    from scafe.judge.rules import json_safe

    path = reference_path(target_path)
    path.write_text(json.dumps(json_safe(reference), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    return path
