"""Failure-mode perturbations of a ground-truth mask, at graded severity, labelled by Dice.

The judge benchmark needs masks that are wrong in the ways real segmenters are wrong
(``CLINICAL.md``, "Segmentation quality"), each with a known Dice against the ground truth:

=================  ===========================================================================
mode               what it does (``s`` = severity in (0, 1], ``w`` = lesion width ``2 A / P``)
=================  ===========================================================================
near_correct       annotator-like jitter: smooth boundary noise of amplitude <= 0.15 w, 0-1 px
                   shift; the "acceptable" examples
erosion            remove everything within ``r = 0.5 s w`` px of the boundary (under-segmentation)
dilation           add everything within ``r = 0.8 s w`` px outside (over-segmentation)
shift              translate by ``d = 0.8 s w`` px in a random direction
rotation           rotate about the centroid by ``30 s`` degrees (random sign)
holes              punch random discs inside until ``0.7 s`` of the area is removed
fragmentation      cut with ``1 + 4 s`` gaps across the main axis and drop pieces until
                   ``0.5 s`` of the area is gone
leakage_skin       grow a lobe of ``1.5 s A`` px into the neighbouring skin most similar in colour
                   to the lesion (smallest Delta E in the ring)
leakage_border     a strip of width ``(0.5 + 1.5 s) w`` from the lesion to the nearest image edge
jagged             threshold the signed distance plus fine noise of amplitude ``0.6 s w``
wrong_structure    the mask of a distractor (mole, tattoo, ruler, shadow) instead of the lesion
=================  ===========================================================================

Labels: ``acceptable`` when Dice >= 0.85, ``unacceptable`` when Dice < 0.70, ``None`` (left out
of the benchmark) in between - the grey zone where clinicians disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from scafe.errors import DataError

ACCEPTABLE_DICE = 0.85
UNACCEPTABLE_DICE = 0.70
MODES: tuple[str, ...] = (
    "near_correct",
    "erosion",
    "dilation",
    "shift",
    "rotation",
    "holes",
    "fragmentation",
    "leakage_skin",
    "leakage_border",
    "jagged",
    "wrong_structure",
)
SEVERITIES: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class PerturbedMask:
    """One benchmark mask: how it was made, the mask, and its Dice-derived label."""

    mode: str
    severity: float
    mask: np.ndarray
    dice: float
    label: str | None  # "acceptable" | "unacceptable" | None (grey zone, left out)
    detail: str = ""  # e.g. which distractor


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient ``2 |A & B| / (|A| + |B|)``; 1.0 when both are empty."""
    total = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    return 1.0 if total == 0 else 2.0 * int(np.count_nonzero(a & b)) / total


def label_for(d: float) -> str | None:
    """Benchmark label of a Dice value (see module docstring)."""
    if d >= ACCEPTABLE_DICE:
        return "acceptable"
    if d < UNACCEPTABLE_DICE:
        return "unacceptable"
    return None


def lesion_width(mask: np.ndarray) -> float:
    """Characteristic width ``2 A / P`` in px (the width of a long strip, the radius of a disc)."""
    m8 = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m8, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return max(2.0 * float(m8.sum()) / max(perimeter, 1.0), 1.0)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale_px: float) -> np.ndarray:
    """Zero-mean, unit-std Gaussian random field with correlation length ~``scale_px``."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), max(scale_px, 1.0), mode="wrap")
    return field / (field.std() + 1e-12)


def _signed_distance(mask: np.ndarray) -> np.ndarray:
    """Positive inside, negative outside, in px."""
    m8 = mask.astype(np.uint8)
    return cv2.distanceTransform(m8, cv2.DIST_L2, 5) - cv2.distanceTransform(1 - m8, cv2.DIST_L2, 5)


def _translate(mask: np.ndarray, dy: float, dx: float) -> np.ndarray:
    matrix = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    size = (mask.shape[1], mask.shape[0])
    moved = cv2.warpAffine(mask.astype(np.uint8), matrix, size, flags=cv2.INTER_NEAREST)
    return moved > 0


def near_correct(mask, image, rng, s, w):
    """Annotator-like jitter (``s`` scales the amplitude up to 0.15 w)."""
    noise = _smooth_noise(rng, mask.shape, 2.0 * w) * 0.15 * s * w
    jittered = (_signed_distance(mask) + noise) > 0
    return _translate(jittered, float(rng.integers(-1, 2)), float(rng.integers(-1, 2)))


def erosion(mask, image, rng, s, w):
    """Drop everything within ``0.5 s w`` px of the boundary."""
    return _signed_distance(mask) > max(0.5 * s * w, 1.0)


def dilation(mask, image, rng, s, w):
    """Add everything within ``0.8 s w`` px outside."""
    return _signed_distance(mask) > -max(0.8 * s * w, 1.0)


def shift(mask, image, rng, s, w):
    """Translate by ``0.8 s w`` px in a random direction."""
    angle = rng.uniform(0, 2 * math.pi)
    d = max(0.8 * s * w, 1.0)
    return _translate(mask, d * math.sin(angle), d * math.cos(angle))


def rotation(mask, image, rng, s, w):
    """Rotate about the centroid by ``+-30 s`` degrees."""
    cy, cx = ndimage.center_of_mass(mask)
    angle = 30.0 * s * (1 if rng.random() < 0.5 else -1)
    matrix = cv2.getRotationMatrix2D((float(cx), float(cy)), angle, 1.0)
    rotated = cv2.warpAffine(mask.astype(np.uint8), matrix, mask.shape[::-1], flags=cv2.INTER_NEAREST)
    return rotated > 0


def holes(mask, image, rng, s, w):
    """Punch discs of radius ~0.4 w at random interior points until ``0.7 s`` of the area is gone."""
    out = mask.copy()
    target = int(0.7 * s * mask.sum())
    ys, xs = np.nonzero(_signed_distance(mask) > 1.0)
    if len(ys) == 0:
        return out
    yy, xx = np.ogrid[: mask.shape[0], : mask.shape[1]]
    for _ in range(200):
        if mask.sum() - out.sum() >= target:
            break
        k = int(rng.integers(len(ys)))
        r = max(0.4 * w * rng.uniform(0.6, 1.4), 1.0)
        out &= (yy - ys[k]) ** 2 + (xx - xs[k]) ** 2 > r * r
    return out


def _main_axis(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.nonzero(mask)
    pts = np.column_stack([ys, xs]).astype(np.float64)
    centre = pts.mean(axis=0)
    cov = np.cov(pts - centre, rowvar=False) if len(pts) > 2 else np.eye(2)
    _, vecs = np.linalg.eigh(cov)
    return centre, vecs[:, -1]


def fragmentation(mask, image, rng, s, w):
    """Cut with ``1 + 4 s`` gaps across the main axis, then drop pieces until ``0.5 s`` is gone."""
    centre, axis = _main_axis(mask)
    yy, xx = np.mgrid[: mask.shape[0], : mask.shape[1]]
    along = (yy - centre[0]) * axis[0] + (xx - centre[1]) * axis[1]
    inside = along[mask]
    cuts = np.quantile(inside, np.sort(rng.uniform(0.1, 0.9, size=1 + int(round(4 * s)))))
    gap = max(0.3 * w, 1.0)
    out = mask.copy()
    for c in cuts:
        out &= np.abs(along - c) > gap
    labels, n = ndimage.label(out, structure=np.ones((3, 3)))
    target = 0.5 * s * mask.sum()
    for piece in rng.permutation(np.arange(1, n + 1))[: max(n - 1, 0)]:
        if mask.sum() - out.sum() >= target:
            break
        out &= labels != piece
    return out


def leakage_skin(mask, image, rng, s, w):
    """Grow a lobe of ~``1.5 s A`` px into the most lesion-like neighbouring skin."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2Lab).astype(np.float32)
    lesion_colour = lab[mask].mean(axis=0)
    sd = _signed_distance(mask)
    ring = (sd < 0) & (sd >= -max(w, 2.0))
    if not ring.any():
        return mask.copy()
    ys, xs = np.nonzero(ring)
    k = int(np.argmin(np.linalg.norm(lab[ys, xs] - lesion_colour, axis=1)))
    # The lobe is a disc centred just outside the boundary, sized so its outside part ~ target.
    area = 1.5 * s * mask.sum()
    r = math.sqrt(area / math.pi) * 1.2
    yy, xx = np.ogrid[: mask.shape[0], : mask.shape[1]]
    cy, cx = ndimage.center_of_mass(mask)
    dy, dx = ys[k] - cy, xs[k] - cx
    norm = math.hypot(dy, dx) or 1.0
    py, px = ys[k] + dy / norm * r * 0.8, xs[k] + dx / norm * r * 0.8
    return mask | ((yy - py) ** 2 + (xx - px) ** 2 <= r * r)


def leakage_border(mask, image, rng, s, w):
    """A strip of width ``(0.5 + 1.5 s) w`` from the lesion's centre to the nearest image edge."""
    h, wd = mask.shape
    cy, cx = ndimage.center_of_mass(mask)
    distances = {"top": cy, "bottom": h - 1 - cy, "left": cx, "right": wd - 1 - cx}
    side = min(distances, key=distances.__getitem__)
    reach = distances[side] + 1.0
    half = max((0.5 + 1.5 * s) * w, 2.0) / 2.0
    out = mask.copy()
    if side in ("top", "bottom"):
        end = cy - reach if side == "top" else cy + reach
        y0, y1 = sorted((int(round(cy)), int(round(end))))
        out[max(y0, 0) : min(y1 + 1, h), max(int(cx - half), 0) : int(cx + half) + 1] = True
    else:
        end = cx - reach if side == "left" else cx + reach
        x0, x1 = sorted((int(round(cx)), int(round(end))))
        out[max(int(cy - half), 0) : int(cy + half) + 1, max(x0, 0) : min(x1 + 1, wd)] = True
    return out


def jagged(mask, image, rng, s, w):
    """Signed distance plus fine noise of amplitude ``0.6 s w`` (a ragged, noisy boundary)."""
    noise = _smooth_noise(rng, mask.shape, 1.0) * 0.6 * s * max(w, 2.0)
    return (_signed_distance(mask) + noise) > 0


PerturbFn = Callable[[np.ndarray, np.ndarray, np.random.Generator, float, float], np.ndarray]
PERTURBATIONS: dict[str, PerturbFn] = {
    "near_correct": near_correct,
    "erosion": erosion,
    "dilation": dilation,
    "shift": shift,
    "rotation": rotation,
    "holes": holes,
    "fragmentation": fragmentation,
    "leakage_skin": leakage_skin,
    "leakage_border": leakage_border,
    "jagged": jagged,
}


def perturb(
    image: np.ndarray,
    mask: np.ndarray,
    mode: str,
    severity: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Apply one geometric perturbation (every mode but ``wrong_structure``).

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        The photograph (``leakage_skin`` looks at colour).
    mask : ndarray (H, W) bool
        Ground-truth lesion mask (non-empty).
    mode : str
        One of ``PERTURBATIONS``.
    severity : float
        In (0, 1]; see the module table for what it scales.
    rng : numpy.random.Generator
        Source of randomness (direction, noise, hole positions); pass a seeded one.
    """
    if mode not in PERTURBATIONS:
        raise DataError(f"Unknown perturbation mode {mode!r}; choose one of {sorted(PERTURBATIONS)}.")
    if not 0 < severity <= 1:
        raise DataError(f"The severity must be in (0, 1]; got {severity!r}.")
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        raise DataError("Cannot perturb an empty ground-truth mask; the phantom has no lesion.")
    return PERTURBATIONS[mode](mask, image, rng, float(severity), lesion_width(mask))


def failure_masks(
    image: np.ndarray,
    mask: np.ndarray,
    distractors: dict[str, np.ndarray],
    rng: np.random.Generator,
    *,
    severities: tuple[float, ...] = SEVERITIES,
    n_near_correct: int = 4,
) -> list[PerturbedMask]:
    """Every mode at every severity for one phantom, plus near-correct masks and distractors.

    Returns all masks, including the grey zone (``label is None``) so callers can count what
    was left out; empty perturbed masks are kept (they are a failure a judge must catch).
    """
    out: list[PerturbedMask] = []

    def add(mode: str, s: float, m: np.ndarray, detail: str = "") -> None:
        d = dice(m, mask)
        out.append(PerturbedMask(mode, s, m, d, label_for(d), detail))

    for k in range(n_near_correct):
        add("near_correct", (k + 1) / n_near_correct, perturb(image, mask, "near_correct", (k + 1) / n_near_correct, rng))
    for mode in MODES:
        if mode in ("near_correct", "wrong_structure"):
            continue
        for s in severities:
            add(mode, s, perturb(image, mask, mode, s, rng))
    for name in sorted(distractors):
        add("wrong_structure", 1.0, np.asarray(distractors[name], bool), detail=name.rsplit("_", 1)[0])
    return out
