"""Criterion check for colour and rim items: distractors in the skin next to the scar.

Colour items (vascularity, pigmentation, colour mismatch, rim erythema) compare the scar, or the
ring around it, with the patient's skin. Clinical photographs have rulers, skin-marker dots,
moles, tattoos, hair and cast shadows right next to the lesion, so the skin an extractor compares
against is often partly covered by something that is not skin. The check: on the first
:data:`DISTRACTOR_PHANTOMS` validation phantoms of a family, each of the distractor kinds of
:data:`scafe.data.distractors.RING_KINDS` is composited, one at a time, into the perilesional
ring (:func:`scafe.data.distractors.add_ring_distractor`); the main output must stay within the
spread it has without them:

    ``shift = |f(photo + distractor) - f(photo)| / spread``, with ``spread`` the 5-95 % range of
    ``f`` over the family's validation phantoms (the no-distractor spread),

and the check passes when the 90th percentile of the shifts over all (phantom, kind) pairs is at
most :data:`MAX_SHIFT` = 0.10 (a distractor next to the scar typically leaves the value within a
tenth of the range the item spans across patients) and no shift exceeds :data:`MAX_WORST_SHIFT`
= 0.35 (about one grade of a three- or four-step clinical scale such as VSS vascularity or
Manchester colour).

Why the worst-case clause is fair, rulers and shadows included: a ruler or a cast shadow starts
0.3-3 mm beyond the lesion's outermost point in one direction and runs out of the frame, so it
never surrounds the lesion; skin lit like the scar always remains on its other sides, and that
is the skin a clinician compares the scar with. Each pair is also compared with the same photo
without the added distractor, so a large shift can come from either reading: in the one
held-out case that looked like "a ruler covering most of the ring" (family A, seed 202,
ph00001), the added ruler covered a corner, and the extractors' reading *without* it was the
wrong one (the photo's own cream ruler along the bottom edge had been taken for skin, reference
L* 86 against the skin's 56). The clause caught a real fault; it is kept as it is.

The extractor runs only inside the sandbox (``scafe.criterion_tests._run_all``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from scafe.criterion_tests.checks import Check

#: Ground-truth columns of the items that compare colour with the surrounding skin.
DISTRACTOR_COLUMNS = frozenset({"latent_hb_excess", "latent_melanin_log_ratio", "latent_rim_delta_a",
                                "latent_color_delta_e", "latent_central_delta_a"})
DISTRACTOR_PHANTOMS = 12
DISTRACTOR_QUANTILE = 0.9
MAX_SHIFT = 0.10
MAX_WORST_SHIFT = 0.35
_SEED = 15_004

_pairs_cache: dict[tuple[str, tuple[str, ...], str], tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[int, str]]]] = {}


def applies(item: Any) -> bool:
    """Whether ``item`` is a colour/rim item (its ground truth compares colour with nearby skin)."""
    gt = getattr(item, "ground_truth", None)
    return gt is not None and str(getattr(gt, "column", "")) in DISTRACTOR_COLUMNS


def ring_pairs(vs: Any, k: int = DISTRACTOR_PHANTOMS) -> tuple[list[tuple[np.ndarray, np.ndarray]],
                                                                list[tuple[int, str]]]:
    """The first ``k`` phantoms of ``vs``, each with one distractor of every kind in its ring.

    Returns ``(pairs, labels)`` with ``labels[j] = (phantom index, kind)``; cached per set.
    """
    from scafe.data.distractors import RING_KINDS, add_ring_distractor

    k = min(k, len(vs.ids))
    # keyed by the pixels, not the ids: every seed and size names its phantoms ph00000, ph00001, ...
    digest = hashlib.sha256()
    for i in range(k):
        for arr in (vs.images[i], vs.masks[i]):
            digest.update(repr((arr.shape, str(arr.dtype))).encode())
            digest.update(np.ascontiguousarray(arr).tobytes())
    key = (str(vs.family), tuple(vs.ids[:k]), digest.hexdigest())
    if key not in _pairs_cache:
        pairs: list[tuple[np.ndarray, np.ndarray]] = []
        labels: list[tuple[int, str]] = []
        ppm = vs.frame["nuisance_px_per_mm"].to_numpy(dtype=float) if "nuisance_px_per_mm" in vs.frame \
            else np.full(len(vs.ids), 5.0)
        for i in range(k):
            for kind in RING_KINDS:
                image, _dmask = add_ring_distractor(vs.images[i], vs.masks[i], kind, px_per_mm=float(ppm[i]),
                                                    seed=_SEED + i)
                pairs.append((image, vs.masks[i]))
                labels.append((i, kind))
        _pairs_cache[key] = (pairs, labels)
    return _pairs_cache[key]


def shifts(base: np.ndarray, with_distractor: np.ndarray, labels: list[tuple[int, str]],
           all_values: np.ndarray) -> tuple[np.ndarray, float]:
    """Relative shifts ``|f(x + d) - f(x)| / spread`` (NaN output -> inf) and the spread used."""
    lo, hi = np.quantile(all_values, [0.05, 0.95])
    spread = float(hi - lo) if hi > lo else float(np.ptp(all_values)) or 1.0
    idx = np.array([i for i, _ in labels], dtype=int)
    out = np.abs(with_distractor - base[idx]) / spread
    return np.where(np.isfinite(out), out, np.inf), spread


def judge(values: np.ndarray, distracted: np.ndarray, labels: list[tuple[int, str]],
          ids: list[str]) -> Check:
    """The check from the outputs without (``values``, whole set) and with distractors."""
    rel, spread = shifts(values, distracted, labels, values)
    q = float(np.quantile(rel, DISTRACTOR_QUANTILE))
    j = int(np.argmax(rel))
    i, kind = labels[j]
    worst = float(rel[j])
    per_kind = {k: float(np.median(rel[[n for n, (_, kk) in enumerate(labels) if kk == k]]))
                for k in dict.fromkeys(kk for _, kk in labels)}
    kinds = ", ".join(f"{k} {100 * v:.0f}%" for k, v in per_kind.items())
    ok = q <= MAX_SHIFT and worst <= MAX_WORST_SHIFT
    text = (f"reference skin: with a ruler, mole, tattoo, skin-marker dots, cast shadow or hair placed in the "
            f"skin next to the scar, the value moved by {100 * q:.0f}% of its usual spread across photos "
            f"({100 * DISTRACTOR_QUANTILE:.0f}th percentile; median per kind: {kinds}; worst {100 * worst:.0f}%, "
            f"{kind} next to photo {ids[i]}: {values[i]:.4g} -> {distracted[j]:.4g}); allowed "
            f"{100 * MAX_SHIFT:.0f}% (worst {100 * MAX_WORST_SHIFT:.0f}%). "
            + ("" if ok else "Leave pixels that are not skin out of the skin you compare against (robust "
               "statistics: medians, reject pixels far from the skin's typical colour, dark, clipped or grey ones)."))
    return Check("distractors", ok, text, found=q, required=f"<= {MAX_SHIFT:.2f} (worst <= {MAX_WORST_SHIFT:.2f})")


def add_distractor_check(result: Any, source: str, vs: Any, item: Any, key: str | None,
                         outputs: dict[str, Any], limits: Any = None) -> None:
    """Append the distractor check to ``result`` (a ``FamilyResult``) for colour/rim items.

    Skipped when the item is not a colour item or the ordinary checks could not even read the
    output (run failures, missing or non-finite values): those are already reported.
    """
    if not applies(item) or key is None or outputs.get("problems"):
        return
    feats = outputs.get("features") or []
    if not feats or any(key not in f for f in feats):
        return
    values = np.array([f[key] for f in feats], dtype=float)
    if not np.all(np.isfinite(values)) or np.ptp(values) == 0:
        return
    from scafe.criterion_tests import _run_all

    pairs, labels = ring_pairs(vs)
    names = [f"{vs.ids[i]} (+{kind})" for i, kind in labels]
    got, problems = _run_all(source, pairs, names, limits)
    if problems:
        result.checks.append(Check("distractors", False, "reference skin: " + problems[0]))
    else:
        distracted = np.array([f.get(key, np.nan) for f in got], dtype=float)
        result.checks.append(judge(values, distracted, labels, vs.ids))
    result.passed = all(c.passed for c in result.checks)
