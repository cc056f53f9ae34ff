"""Criterion tests: the second validation stage, after the sandbox's contract battery.

The contract battery proves an extractor *runs* safely; these tests prove it *measures the right
thing*. On a fixed, seeded validation set of phantoms (rendered once, cached) whose latent
variables are known, the extractor's main output must

1. track the item's ground truth in the declared direction:
   ``sign(direction) * spearman(f, g) >= min_rho``;
2. not track skin tone or illumination: for each nuisance ``n`` in :data:`NUISANCE_COLUMNS`,
   ``|partial_spearman(f, n | g)| <= max_nuisance_rho`` (see :func:`partial_spearman` for why it
   is a partial correlation and not a plain one);
3. where the item is orientation-free, not change under 90-degree rotations and flips:
   ``|f(T x) - f(x)| / max(|f(x)|, floor) <= 0.02`` for every ``T`` on a few phantoms, with
   ``floor = 1 %`` of the output's 5-95 % range on the validation set, so that a feature whose
   value sits near zero is not judged on rounding noise.

The extractor is executed only through :class:`sandbox.ExtractorRunner`; its code is never
imported by this process. Failures are worded for the LLM repair prompt: which latent, the
correlation found against the one required, the worst nuisance and its correlation, which
transform changed the output and by how much.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scafe.errors import DataError, ScafeError

#: Nuisance columns that stand for "skin tone and illumination" (docs/CONTRACTS.md, Phantoms).
NUISANCE_COLUMNS = (
    "nuisance_ita",
    "nuisance_color_temp_k",
    "nuisance_illum_gradient",
    "nuisance_light_elevation_deg",
)
VALIDATION_SEED = 7_2024
VALIDATION_N = 96
VALIDATION_SIZE = 256
INVARIANCE_PHANTOMS = 4
INVARIANCE_REL_TOL = 0.02
#: Absolute floor of the invariance check, as a fraction of the output's 5-95 % range.
INVARIANCE_FLOOR_FRACTION = 0.01
NUISANCE_HINTS = {
    "nuisance_ita": "it follows skin tone; compare the lesion with perilesional skin as a ratio "
                    "or difference so the patient's own colour cancels.",
    "nuisance_color_temp_k": "it follows the illuminant colour; use differences of log channels "
                             "or Lab against perilesional skin so the colour cast cancels.",
    "nuisance_illum_gradient": "it follows uneven lighting; compare with skin next to the lesion, "
                               "not image-wide statistics.",
    "nuisance_light_elevation_deg": "it follows the light angle (shading, shadows, glare); use "
                                    "glare-free pixels or normalise by the same quantity on skin.",
}
TRANSFORMS = ("rot90", "rot180", "rot270", "flip_lr", "flip_ud")


@dataclass(frozen=True)
class ValidationSet:
    """The validation phantoms: arrays plus a frame of their latent/nuisance/vss columns."""

    ids: list[str]
    images: list[np.ndarray]
    masks: list[np.ndarray]
    frame: pd.DataFrame  # index: id; columns: latent_*, nuisance_*, vss_*


@dataclass
class CriterionReport:
    """Outcome of :func:`run_criterion_tests` (see the module docstring for the three checks)."""

    item: str
    output_key: str | None
    column: str | None
    direction: str | None
    passed: bool
    rho: float | None
    required: float | None
    worst_nuisance: tuple[str, float] | None
    max_nuisance_rho: float | None
    nuisance_rho: dict[str, float] = field(default_factory=dict)
    invariance_max_rel_change: float | None = None
    invariance_worst: str | None = None
    n_phantoms: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (stored as ``validation.criterion`` in the library)."""
        out = asdict(self)
        out["worst_nuisance"] = list(self.worst_nuisance) if self.worst_nuisance else None
        return out

    def repair_text(self) -> str:
        """What the LLM repair prompt shows: one line per failed check, or a pass line."""
        if self.passed:
            return (f"Criterion tests passed for {self.item}: Spearman rho {self.rho:+.2f} with "
                    f"{self.column} (required {self.required:+.2f}).")
        lines = [f"Criterion tests FAILED for {self.item} (output {self.output_key!r}, "
                 f"{self.n_phantoms} validation phantoms):"]
        lines += [f"- {text}" for text in self.failures]
        return "\n".join(lines)


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB")), dtype=np.uint8)


def _read_mask(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(im.convert("L")) > 0)


@lru_cache(maxsize=4)
def validation_set(n: int = VALIDATION_N, seed: int = VALIDATION_SEED,
                   size: int = VALIDATION_SIZE) -> ValidationSet:
    """The seeded validation phantoms (``scafe.data.phantoms.cached_phantom_set``), loaded once.

    The phantom cache key includes a hash of the rendering code, so a renderer change gives a
    new validation set instead of stale ground truth. PNG is lossless: the arrays read back are
    exactly the rendered ones.
    """
    from scafe.data.phantoms import cached_phantom_set

    folder = Path(cached_phantom_set(n, seed, size))
    manifest = pd.read_csv(folder / "manifest.csv", dtype={"id": str})
    if len(manifest) < n:
        raise DataError(f"The cached validation set {folder} has {len(manifest)} rows, expected "
                        f"{n}; delete that folder so it is rendered again.")
    ids = [str(i) for i in manifest["id"]]
    images = [_read_rgb(folder / rel) for rel in manifest["image"]]
    masks = [_read_mask(folder / rel) for rel in manifest["mask"]]
    columns = [c for c in manifest.columns if c.startswith(("latent_", "nuisance_", "vss_"))]
    frame = manifest.set_index("id")[columns].astype(float)
    return ValidationSet(ids, images, masks, frame)


def partial_spearman(f: np.ndarray, n: np.ndarray, g: np.ndarray) -> float:
    r"""Spearman correlation of ``f`` and ``n`` controlling for ``g`` (partial correlation of ranks).

    .. math:: \rho_{fn\cdot g} = \frac{r_{fn} - r_{fg} r_{ng}}{\sqrt{(1 - r_{fg}^2)(1 - r_{ng}^2)}}

    with ``r`` the Spearman correlations. Why not plain ``spearman(f, n)``: in a finite phantom
    set a nuisance (say ITA) correlates with the latent (say melanin scale) by chance, e.g.
    ``r = 0.15`` at n = 96; a perfect extractor of the latent would then inherit that correlation
    and be rejected for something the data, not the code, did. The partial correlation asks
    whether ``f`` carries nuisance information *beyond* what the ground truth explains, which is
    exactly "does the extractor track skin tone/illumination". Returns 0 when ``f`` or ``n`` is
    constant, NaN only if ``g`` explains ``f`` or ``n`` perfectly.
    """
    r_fn = _spearman(f, n)
    r_fg = _spearman(f, g)
    r_ng = _spearman(n, g)
    denom = np.sqrt(max(1.0 - r_fg**2, 0.0) * max(1.0 - r_ng**2, 0.0))
    if denom < 1e-12:
        return float("nan")
    return float((r_fn - r_fg * r_ng) / denom)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(stats.spearmanr(a, b).statistic)


def _transform(image: np.ndarray, mask: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    ops = {
        "rot90": lambda a: np.rot90(a, 1),
        "rot180": lambda a: np.rot90(a, 2),
        "rot270": lambda a: np.rot90(a, 3),
        "flip_lr": np.fliplr,
        "flip_ud": np.flipud,
    }
    op = ops[name]
    return np.ascontiguousarray(op(image)), np.ascontiguousarray(op(mask))


def _run_all(source: str, pairs: list[tuple[np.ndarray, np.ndarray]], ids: list[str],
             limits: Any) -> tuple[list[dict[str, float]], list[str]]:
    """Run the extractor on every pair in one sandbox child; return features and failure texts."""
    from sandbox import ExtractorRunner, Outcome

    feats: list[dict[str, float]] = []
    problems: list[str] = []
    with ExtractorRunner(source, limits=limits) as runner:
        for pid, result in zip(ids, runner.run_many(pairs), strict=True):
            if result.outcome != Outcome.ok or result.features is None:
                where = f" (line {result.line})" if result.line else ""
                problems.append(f"extractor {result.outcome} on validation phantom {pid}{where}: "
                                f"{(result.error or '').strip()[:400]}")
                feats.append({})
            else:
                feats.append(result.features)
    return feats, problems


def run_criterion_tests(source: str, item: Any, *, output_key: str | None = None,
                        limits: Any = None, n: int = VALIDATION_N, seed: int = VALIDATION_SEED,
                        size: int = VALIDATION_SIZE) -> CriterionReport:
    """Run the three criterion checks (module docstring) for ``source`` against ``item``.

    Parameters
    ----------
    source
        Extractor source text (run only inside the sandbox).
    item
        A ``scafe.criteria.CriterionItem``; its ``ground_truth`` gives the column, the direction
        and the thresholds. Items not observable in a photo cannot be tested (``ScafeError``).
    output_key
        Which output to test; default the first key the extractor returns.
    limits
        ``sandbox.Limits`` for the runs (default: the sandbox's defaults).
    n, seed, size
        The validation phantom set (defaults: 96 phantoms of 256 px, a fixed seed).
    """
    gt = getattr(item, "ground_truth", None)
    item_id = str(getattr(item, "id", item))
    if gt is None:
        raise ScafeError(f"Criterion item {item_id!r} has no ground_truth (not observable in a "
                         "photo), so no extractor can be tested against it; pick an observable item.")
    started = time.perf_counter()
    vs = validation_set(n, seed, size)
    if gt.column not in vs.frame.columns:
        raise DataError(f"Ground-truth column {gt.column!r} of item {item_id!r} is not exported by "
                        f"the phantoms (have: {', '.join(vs.frame.columns)}); fix the criteria file.")
    report = CriterionReport(item=item_id, output_key=output_key, column=gt.column,
                             direction=gt.direction, passed=False, rho=None, required=gt.min_rho,
                             worst_nuisance=None, max_nuisance_rho=gt.max_nuisance_rho,
                             n_phantoms=len(vs.ids))
    pairs = list(zip(vs.images, vs.masks, strict=True))
    feats, problems = _run_all(source, pairs, vs.ids, limits)
    if problems:
        report.failures = problems[:5] + ([f"... and {len(problems) - 5} more"] if len(problems) > 5 else [])
        report.seconds = time.perf_counter() - started
        return report
    key = output_key or next(iter(feats[0]), None)
    report.output_key = key
    if key is None or any(key not in f for f in feats):
        report.failures.append(f"output key {key!r} is missing from the extractor's results; "
                               f"it returned keys {sorted(feats[0])}.")
        report.seconds = time.perf_counter() - started
        return report
    values = np.array([f[key] for f in feats], dtype=float)
    bad = [pid for pid, v in zip(vs.ids, values, strict=True) if not np.isfinite(v)]
    if bad:
        report.failures.append(f"output {key!r} is NaN/inf on {len(bad)} validation phantoms "
                               f"(e.g. {', '.join(bad[:3])}) although every one has a lesion mask.")
        report.seconds = time.perf_counter() - started
        return report
    _check_correlation(report, values, vs, gt)
    if getattr(item, "orientation_free", False):
        _check_invariance(report, source, key, values, vs, limits)
    report.passed = not report.failures
    report.seconds = time.perf_counter() - started
    return report


def _check_correlation(report: CriterionReport, values: np.ndarray, vs: ValidationSet, gt: Any) -> None:
    truth = vs.frame[gt.column].to_numpy(float)
    sign = 1.0 if gt.direction == "+" else -1.0
    if np.ptp(values) == 0:
        report.rho = 0.0
        report.failures.append(f"output {report.output_key!r} is constant ({values[0]:.4g}) on all "
                               f"{len(values)} validation phantoms, so it cannot track {gt.column}.")
        return
    rho = _spearman(values, truth)
    report.rho = rho
    if sign * rho < gt.min_rho:
        want = "rise" if sign > 0 else "fall"
        report.failures.append(
            f"output {report.output_key!r} does not track {gt.column}: Spearman rho = {rho:+.2f}, "
            f"required {sign * gt.min_rho:+.2f} or {'more' if sign > 0 else 'less'} (it must {want} "
            f"as {gt.column} rises).")
    for col in NUISANCE_COLUMNS:
        if col in vs.frame.columns:
            value = partial_spearman(values, vs.frame[col].to_numpy(float), truth)
            report.nuisance_rho[col] = value if np.isfinite(value) else 0.0
    if report.nuisance_rho:
        worst = max(report.nuisance_rho, key=lambda c: abs(report.nuisance_rho[c]))
        report.worst_nuisance = (worst, report.nuisance_rho[worst])
        if abs(report.nuisance_rho[worst]) > gt.max_nuisance_rho:
            report.failures.append(
                f"output {report.output_key!r} tracks the nuisance {worst} (partial Spearman rho "
                f"{report.nuisance_rho[worst]:+.2f} given {gt.column}; allowed |rho| <= "
                f"{gt.max_nuisance_rho:.2f}): {NUISANCE_HINTS.get(worst, '')}")


def _check_invariance(report: CriterionReport, source: str, key: str, values: np.ndarray,
                      vs: ValidationSet, limits: Any) -> None:
    k = min(INVARIANCE_PHANTOMS, len(vs.ids))
    pairs, labels = [], []
    for i in range(k):
        for name in TRANSFORMS:
            pairs.append(_transform(vs.images[i], vs.masks[i], name))
            labels.append((i, name))
    feats, problems = _run_all(source, pairs, [f"{vs.ids[i]}/{t}" for i, t in labels], limits)
    if problems:
        report.failures.extend(problems[:3])
        return
    lo, hi = np.percentile(values, [5, 95])
    floor = max(INVARIANCE_FLOOR_FRACTION * float(hi - lo), 1e-9)
    worst_change, worst_text = 0.0, None
    for (i, name), f in zip(labels, feats, strict=True):
        new = float(f.get(key, np.nan))
        base = float(values[i])
        change = abs(new - base) / max(abs(base), floor) if np.isfinite(new) else float("inf")
        if change > worst_change:
            worst_change = change
            worst_text = f"{name} of {vs.ids[i]} changed {key!r} from {base:.5g} to {new:.5g}"
    report.invariance_max_rel_change = worst_change
    report.invariance_worst = worst_text
    if worst_change > INVARIANCE_REL_TOL:
        report.failures.append(
            f"the item is orientation-free but the output is not: {worst_text} "
            f"({100 * worst_change:.1f}% relative change, allowed {100 * INVARIANCE_REL_TOL:.0f}%); "
            f"use rotation-invariant measures (no fixed direction, average GLCM angles).")

