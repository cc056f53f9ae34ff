"""Distractors a segmenter (or a careless extractor) may confuse with the scar.

Moles (melanin), tattoos (dermal ink), rulers (an opaque scale bar with mm ticks) and cast shadows
(an external object between light and skin). Each comes with its own boolean mask, and none
overlaps ``keep_out``: the lesion with its erythema rim and a 2 mm margin, or (in about a third
of the phantoms, see ``render.RING_DISTRACTOR_SHARE``) only the lesion and 0.4 mm around it, so
that distractors also land in the perilesional ring.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from scafe.data.texture import blur, draw_curves, random_curves

KINDS = ("mole", "tattoo", "ruler", "shadow")


@dataclass
class DistractorLayers:
    """What distractors add to the scene, in pixel space."""

    melanin: np.ndarray  # added to c_mel
    ink: np.ndarray  # tattoo ink concentration
    shade: np.ndarray  # multiplies the lit image (cast shadows)
    overlay_alpha: np.ndarray  # opaque overlay coverage (rulers)
    overlay_rgb: np.ndarray  # linear reflectance of the overlay
    masks: dict[str, np.ndarray] = field(default_factory=dict)


def _empty(shape: tuple[int, int]) -> DistractorLayers:
    return DistractorLayers(
        melanin=np.zeros(shape, np.float32),
        ink=np.zeros(shape, np.float32),
        shade=np.ones(shape, np.float32),
        overlay_alpha=np.zeros(shape, np.float32),
        overlay_rgb=np.zeros(shape + (3,), np.float32),
    )


def add_distractors(
    rng: np.random.Generator, count: int, keep_out: np.ndarray, px_per_mm: float
) -> DistractorLayers:
    """Place ``count`` distractors of random kinds outside ``keep_out``; unplaceable ones are skipped."""
    shape = keep_out.shape
    layers = _empty(shape)
    free = ~keep_out
    kinds = [str(k) for k in rng.choice(KINDS, size=count)]
    for k, kind in enumerate(kinds):
        for _attempt in range(20):
            made = _MAKERS[kind](rng, shape, px_per_mm)
            mask = made[0]
            if mask.any() and not (mask & ~free).any():
                _apply(layers, kind, made)
                layers.masks[f"{kind}_{k}"] = mask
                free &= ~cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
                break
    return layers


def _apply(layers: DistractorLayers, kind: str, made: tuple[np.ndarray, np.ndarray, np.ndarray | None]) -> None:
    mask, amount, colour = made
    if kind == "mole":
        layers.melanin += amount
    elif kind == "tattoo":
        layers.ink += amount
    elif kind == "shadow":
        layers.shade *= amount
    else:
        layers.overlay_alpha = np.maximum(layers.overlay_alpha, amount)
        assert colour is not None
        layers.overlay_rgb = np.where(amount[..., None] > 0, colour, layers.overlay_rgb)


def _mole(rng: np.random.Generator, shape: tuple[int, int], ppm: float):
    cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
    r = max(rng.uniform(1.0, 3.0) * ppm, 1.5)
    ax = r * rng.uniform(0.75, 1.0)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    ang = rng.uniform(0, np.pi)
    u = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
    v = -(xx - cx) * np.sin(ang) + (yy - cy) * np.cos(ang)
    rho = np.hypot(u / r, v / ax)
    mask = rho < 1.0
    soft = np.clip((1.15 - rho) / 0.3, 0, 1).astype(np.float32)
    return mask, soft * rng.uniform(1.2, 3.0), None


def _tattoo(rng: np.random.Generator, shape: tuple[int, int], ppm: float):
    n = int(rng.integers(1, 4))
    centre = rng.uniform(0, 1, 2) * np.array([shape[1], shape[0]])
    starts = centre + rng.normal(0, 3 * ppm, (n, 2))
    lengths = rng.uniform(8, 25, n) * ppm
    curves = random_curves(rng, n, starts, lengths, wiggle=0.35, steps=12)
    cover = draw_curves(shape, curves, np.maximum(rng.uniform(0.6, 2.0, n) * ppm, 1.0))
    cover = blur(cover, 0.4)  # ink spreads a little in the dermis
    return cover > 0.35, cover * rng.uniform(0.6, 1.5), None


def _ruler(rng: np.random.Generator, shape: tuple[int, int], ppm: float):
    h, w = shape
    width = int(max(rng.uniform(6, 10) * ppm, 4))
    side = int(rng.integers(4))
    alpha = np.zeros(shape, np.float32)
    colour = np.array([0.85, 0.85, 0.82]) if rng.random() < 0.6 else np.array([0.85, 0.75, 0.25])
    rgb = np.zeros(shape + (3,), np.float32)
    strip = np.zeros(shape, np.uint8)
    if side in (0, 1):  # top / bottom, horizontal ticks along x
        y0 = 0 if side == 0 else h - width
        strip[y0 : y0 + width, :] = 1
    else:
        x0 = 0 if side == 2 else w - width
        strip[:, x0 : x0 + width] = 1
    alpha[strip > 0] = 1.0
    rgb[strip > 0] = colour
    step_mm = 1 if ppm >= 3 else 5
    ticks = np.zeros(shape, np.uint8)
    n_ticks = int(max(h, w) / (ppm * step_mm)) + 1
    for i in range(n_ticks):
        pos = int(round(i * ppm * step_mm))
        long = (i * step_mm) % 10 == 0
        length = int(width * (0.6 if long else 0.35))
        if side in (0, 1):
            y_edge = width - 1 if side == 0 else h - width
            ya, yb = (y_edge - length, y_edge) if side == 0 else (y_edge, y_edge + length)
            cv2.line(ticks, (pos, ya), (pos, yb), 1, 1)
        else:
            x_edge = width - 1 if side == 2 else w - width
            xa, xb = (x_edge - length, x_edge) if side == 2 else (x_edge, x_edge + length)
            cv2.line(ticks, (xa, pos), (xb, pos), 1, 1)
    rgb[(ticks > 0) & (strip > 0)] = 0.03
    return strip > 0, alpha, rgb


def _shadow(rng: np.random.Generator, shape: tuple[int, int], ppm: float):
    h, w = shape
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    # a straight-edged shadow covering a corner region 10-30 % deep into the frame
    d = (xx - w / 2) * np.cos(ang) + (yy - h / 2) * np.sin(ang)
    edge = np.abs(d).max() * rng.uniform(0.55, 0.8)
    soft = max(rng.uniform(0.5, 3.0) * ppm, 1.0)
    cover = np.clip((d - edge) / soft + 0.5, 0, 1)
    depth = rng.uniform(0.3, 0.55)
    return cover > 0.5, (1.0 - depth * cover).astype(np.float32), None


_MAKERS = {"mole": _mole, "tattoo": _tattoo, "ruler": _ruler, "shadow": _shadow}
