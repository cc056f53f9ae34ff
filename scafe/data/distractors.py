"""Distractors a segmenter (or a careless extractor) may confuse with the scar.

Moles (melanin), tattoos (dermal ink), rulers (an opaque scale bar with mm ticks) and cast shadows
(an external object between light and skin). Each comes with its own boolean mask, and none
overlaps ``keep_out``: the lesion with its erythema rim and a 2 mm margin, or (in about a third
of the phantoms, see ``render.RING_DISTRACTOR_SHARE``) only the lesion and 0.4 mm around it, so
that distractors also land in the perilesional ring.

:func:`add_ring_distractor` forces one distractor into the perilesional ring of an already rendered
photograph of **either** family (or of a real photo): the criterion tests of colour and rim items
(``scafe.criterion_tests.distractors``) compare an extractor's value with and without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from scafe.data.texture import blur, draw_curves, random_curves

KINDS = ("mole", "tattoo", "ruler", "shadow")
#: What :func:`add_ring_distractor` can put next to a scar.
RING_KINDS = ("ruler", "mole", "tattoo", "marker", "shadow", "hair")


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


# ---------------------------------------------------------------------------------------------
# Forcing distractors into the perilesional ring of a rendered photograph (both families)
# ---------------------------------------------------------------------------------------------
#: gentian-violet skin-marker transmittance in camera R, G, B
MARKER_T = np.array([0.55, 0.18, 0.62], np.float32)
#: melanin optical density per unit concentration in camera R, G, B (melanin ~ lambda^-3.5)
MELANIN_OD = np.array([1.0, 1.6, 2.6], np.float32)
#: tattoo (carbon / blue-black) ink optical density in camera R, G, B
INK_OD = np.array([2.6, 2.3, 1.5], np.float32)


def _to_linear(image: np.ndarray) -> np.ndarray:
    v = image.astype(np.float32) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _to_srgb(lin: np.ndarray) -> np.ndarray:
    v = np.clip(lin, 0.0, 1.0)
    enc = np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)
    return np.clip(np.round(enc * 255.0), 0, 255).astype(np.uint8)


def _band(mask: np.ndarray, ppm: float) -> tuple[np.ndarray, np.ndarray]:
    """Outside distance (px) and the perilesional ring, 0.3-4 mm beyond the lesion's border."""
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
    ring = (~mask) & (outside >= max(0.3 * ppm, 1.0)) & (outside <= max(4.0 * ppm, 3.0))
    return outside, ring


def _ring_point(rng: np.random.Generator, ring: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(ring)
    k = int(rng.integers(0, ys.size))
    return float(xs[k]), float(ys[k])


def _local_light(lin: np.ndarray, mask: np.ndarray, ppm: float) -> np.ndarray:
    """Irradiance proxy: the skin's smoothed luminance relative to its median (gradient, vignette)."""
    lum = lin.mean(axis=2)
    weight = (~mask).astype(np.float32)
    sigma = max(6.0 * ppm, 4.0)
    num = cv2.GaussianBlur(lum * weight, (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    local = num / np.maximum(den, 1e-6)
    return local / max(float(np.median(lum[~mask])), 1e-6)


def add_ring_distractor(image: np.ndarray, mask: np.ndarray, kind: str, *, px_per_mm: float,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Composite one ``kind`` distractor (:data:`RING_KINDS`) into the perilesional ring of a photo.

    Works on a rendered photograph of either family (no renderer internals), in linear light:
    moles, tattoo ink and skin-marker dye are absorbers in or on the skin, so they multiply the
    light the skin returns by their transmittance ``exp(-c * OD)`` (Beer-Lambert; the shading
    multiplies both alike); a cast shadow multiplies it by ``1 - depth`` (depth 0.3-0.55, soft
    edge); a ruler (white or yellow plastic, black millimetre ticks, 6-10 mm wide) is opaque and
    lit by the same light, taken as the skin's smoothed brightness around it; hair is a tuft of
    dark strands. Rulers and shadows start 0.3-3 mm beyond the lesion and run out of the frame;
    the other kinds are centred 0.3-4 mm beyond its border. The lesion is never covered.

    Returns ``(image uint8 RGB, distractor mask)``; deterministic for a given ``seed``.
    """
    if kind not in RING_KINDS:
        raise ValueError(f"unknown ring distractor {kind!r}; kinds are: {', '.join(RING_KINDS)}")
    mask = np.asarray(mask, bool)
    if not mask.any() or mask.all():
        return image.copy(), np.zeros_like(mask)
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, RING_KINDS.index(kind)])
    ppm = max(float(px_per_mm), 0.5)
    lin = _to_linear(np.asarray(image))
    _outside, ring = _band(mask, ppm)
    if not ring.any():
        ring = ~mask
    shape = mask.shape
    if kind in ("ruler", "shadow"):
        yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
        ang = rng.uniform(0, 2 * np.pi)
        proj = xx * np.cos(ang) + yy * np.sin(ang)
        depth = proj - (float(proj[mask].max()) + max(rng.uniform(0.3, 3.0) * ppm, 1.0))
        if kind == "shadow":
            soft = max(rng.uniform(0.3, 1.5) * ppm, 1.0)
            cover = np.clip(depth / soft, 0, 1).astype(np.float32)
            lin = lin * (1.0 - rng.uniform(0.3, 0.55) * cover)[..., None]
            return _to_srgb(lin), (cover > 0.5) & ~mask
        width = max(rng.uniform(6.0, 10.0) * ppm, 4.0)
        strip = (depth >= 0) & (depth <= width)
        along = -xx * np.sin(ang) + yy * np.cos(ang)
        step = ppm if ppm >= 3 else 5 * ppm
        tick_len = np.where(np.mod(np.round(along / step), 10) == 0, 0.6, 0.35) * width
        ticks = strip & (np.abs(along / step - np.round(along / step)) * step < 0.5) & (depth <= tick_len)
        colour = (np.array([0.85, 0.85, 0.82], np.float32) if rng.random() < 0.6
                  else np.array([0.85, 0.75, 0.25], np.float32))
        light = _local_light(lin, mask, ppm)[..., None] * 0.9
        ruler = np.where(ticks[..., None], 0.03, colour[None, None, :]) * light
        lin = np.where(strip[..., None], ruler, lin)
        return _to_srgb(lin), strip & ~mask
    cx, cy = _ring_point(rng, ring)
    if kind == "mole":
        yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
        r = max(rng.uniform(1.0, 3.0) * ppm, 1.5)
        rho = np.hypot(xx - cx, (yy - cy) / rng.uniform(0.75, 1.0)) / r
        amount = np.clip((1.15 - rho) / 0.3, 0, 1) * rng.uniform(1.2, 3.0)
        amount[mask] = 0.0
        lin = lin * np.exp(-amount[..., None] * MELANIN_OD)
        return _to_srgb(lin), (rho < 1.0) & ~mask
    if kind in ("tattoo", "hair"):
        n = int(rng.integers(1, 4)) if kind == "tattoo" else int(rng.integers(6, 16))
        starts = np.array([cx, cy]) + rng.normal(0, (1.0 if kind == "tattoo" else 1.5) * ppm, (n, 2))
        lengths = rng.uniform(6, 14, n) * ppm
        widths = (np.maximum(rng.uniform(0.6, 1.5, n) * ppm, 1.0) if kind == "tattoo"
                  else np.full(n, max(0.08 * ppm, 1.0)))
        curves = random_curves(rng, n, starts, lengths, wiggle=0.35 if kind == "tattoo" else 0.08, steps=12,
                               heading=None if kind == "tattoo" else rng.uniform(0, 2 * np.pi), spread=np.pi)
        cover = draw_curves(shape, curves, widths)
        cover[mask] = 0.0
        if kind == "tattoo":
            lin = lin * np.exp(-2.0 * cover[..., None] * rng.uniform(0.6, 1.5) * INK_OD)
        else:
            hair_rgb = np.array([0.02, 0.015, 0.012], np.float32) * _local_light(lin, mask, ppm)[..., None]
            a = 0.85 * cover[..., None]
            lin = lin * (1 - a) + a * hair_rgb
        return _to_srgb(lin), (cover > 0.35) & ~mask
    # marker: surgical skin-marker dots (gentian violet) along a short line in the ring
    n = int(rng.integers(3, 8))
    ang = rng.uniform(0, 2 * np.pi)
    spacing = rng.uniform(1.0, 2.5) * ppm
    canvas = np.zeros(shape, np.uint8)
    for k in range(n):
        x, y = cx + k * spacing * np.cos(ang), cy + k * spacing * np.sin(ang)
        cv2.circle(canvas, (int(round(x * 16)), int(round(y * 16))), int(max(0.5 * ppm, 1.0) * 16), 255,
                   -1, cv2.LINE_AA, shift=4)
    amount = canvas.astype(np.float32) / 255.0 * rng.uniform(0.7, 1.0)
    amount[mask] = 0.0
    lin = lin * (1 - amount[..., None] * (1 - MARKER_T))
    return _to_srgb(lin), (amount > 0.3) & ~mask
