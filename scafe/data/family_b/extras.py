"""Family B hair and distractors, drawn on the skin-plane lattice (so the camera foreshortens them).

Kinds: ``mole`` (a lumpy naevus: extra melanin, darker centre), ``marker`` (surgical skin-marker
dots or a dashed line in gentian violet), ``tattoo`` (blue-black dermal ink strokes), ``ruler``
(a white plastic scale lying on the skin, black millimetre ticks), ``shadow`` (an object between
lamp and skin: removes the direct light, not the sky light). With ``ring`` the first distractor is
placed just outside the scar (0.3-4 mm beyond its rim): clinical photos have rulers, marks and
shadows right next to the lesion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from scafe.data.family_b.surface import Lattice

KINDS = ("mole", "marker", "tattoo", "ruler", "shadow")
VIOLET_T = np.array([0.55, 0.18, 0.62])  # gentian violet transmittance (camera R, G, B)


@dataclass
class Extras:
    melanin: np.ndarray
    ink: np.ndarray
    tint: np.ndarray  # (n, n, 3) multiplicative transmittance (marker)
    direct_shade: np.ndarray  # multiplies the direct light only
    opaque: np.ndarray  # coverage of opaque objects (ruler)
    opaque_rgb: np.ndarray
    masks: dict[str, np.ndarray] = field(default_factory=dict)


def _blob(lat: Lattice, rng: np.random.Generator, cx: float, cy: float, r: float) -> np.ndarray:
    ang = np.arctan2(lat.Y - cy, lat.X - cx)
    wobble = 1 + 0.15 * np.sin(3 * ang + rng.uniform(0, 6)) + 0.1 * np.sin(5 * ang + rng.uniform(0, 6))
    return np.hypot(lat.X - cx, lat.Y - cy) / (r * wobble)


def _centre(rng: np.random.Generator, lat: Lattice, free: np.ndarray, ring: np.ndarray | None) -> tuple[float, float]:
    pool = free & ring if ring is not None and (free & ring).any() else free
    ys, xs = np.nonzero(pool)
    k = int(rng.integers(0, ys.size))
    return float(lat.X[ys[k], xs[k]]), float(lat.Y[ys[k], xs[k]])


def place(rng: np.random.Generator, lat: Lattice, count: int, lesion_mm: np.ndarray, rim_mm: float,
          ring_first: bool) -> Extras:
    """``lesion_mm``: signed distance to the scar border on the lattice (mm, > 0 inside)."""
    n = lat.n
    ex = Extras(np.zeros((n, n), np.float32), np.zeros((n, n), np.float32), np.ones((n, n, 3), np.float32),
                np.ones((n, n), np.float32), np.zeros((n, n), np.float32), np.zeros((n, n, 3), np.float32))
    free = lesion_mm < -0.4
    ring = (lesion_mm < -(rim_mm * 0.5 + 0.3)) & (lesion_mm > -(rim_mm + 4.0))
    for k in range(count):
        kind = str(rng.choice(KINDS))
        use_ring = ring if (ring_first and k == 0) else None
        for _ in range(10):
            if not free.any():
                return ex
            cx, cy = _centre(rng, lat, free, use_ring)
            made = _MAKE[kind](rng, lat, cx, cy)
            cover = made[0]
            if cover.any() and not (cover & ~free).any():
                _apply(ex, kind, made)
                ex.masks[f"{kind}_{k}"] = cover
                free &= ~cv2.dilate(cover.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
                break
    return ex


def _apply(ex: Extras, kind: str, made: tuple) -> None:
    amount = made[1]
    if kind == "mole":
        ex.melanin += amount
    elif kind == "tattoo":
        ex.ink += amount
    elif kind == "marker":
        ex.tint *= 1 - amount[..., None] * (1 - VIOLET_T)
    elif kind == "shadow":
        ex.direct_shade *= amount
    else:
        ex.opaque = np.maximum(ex.opaque, amount)
        ex.opaque_rgb = np.where(amount[..., None] > 0, made[2], ex.opaque_rgb)


def _mole(rng, lat, cx, cy):
    r = rng.uniform(0.8, 2.5)
    rho = _blob(lat, rng, cx, cy, r)
    amount = (np.clip(1.1 - rho, 0, 1) ** 0.5 * rng.uniform(1.5, 4.0)).astype(np.float32)
    return rho < 1.0, amount * (1 + 0.5 * np.clip(1 - 2 * rho, 0, 1))


def _marker(rng, lat, cx, cy):
    amount = np.zeros((lat.n, lat.n), np.float32)
    ang = rng.uniform(0, np.pi)
    for t in np.arange(int(rng.integers(1, 6))) * rng.uniform(2.0, 4.0):
        px, py = cx + t * np.cos(ang), cy + t * np.sin(ang)
        rho = np.hypot(lat.X - px, lat.Y - py) / rng.uniform(0.4, 0.9)
        amount = np.maximum(amount, np.clip(1.2 - rho, 0, 1).astype(np.float32) * 0.9)
    return amount > 0.3, amount


def _tattoo(rng, lat, cx, cy):
    canvas = np.zeros((lat.n, lat.n), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        ang = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.3, 10))
        step = rng.uniform(0.8, 2.0) / lat.sp
        pts = np.stack([np.cumsum(np.cos(ang) * step), np.cumsum(np.sin(ang) * step)], 1)
        pts += np.array([(cx - lat.x0) / lat.sp, (cy - lat.y0) / lat.sp])
        width = max(int(rng.uniform(0.5, 1.5) / lat.sp), 1)
        cv2.polylines(canvas, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], False, 255, width, cv2.LINE_AA)
    cover = cv2.GaussianBlur(canvas.astype(np.float32) / 255, (0, 0), max(0.1 / lat.sp, 0.5))
    return cover > 0.3, cover * rng.uniform(0.5, 1.3)


def _ruler(rng, lat, cx, cy):
    ang = rng.uniform(0, np.pi)
    u = (lat.X - cx) * np.cos(ang) + (lat.Y - cy) * np.sin(ang)
    v = -(lat.X - cx) * np.sin(ang) + (lat.Y - cy) * np.cos(ang)
    width = rng.uniform(6.0, 12.0)
    side = rng.choice([-1.0, 1.0])  # the body of the ruler lies on one side of the line through (cx, cy)
    body = (side * v >= 0) & (side * v < width)
    ticks = (np.abs(u - np.round(u)) < 0.06) & (side * v < np.where(np.abs(u / 10 - np.round(u / 10)) < 0.01, 4.0, 2.0))
    rgb = np.where((body & ticks)[..., None], np.array([0.03, 0.03, 0.03]), np.array([0.80, 0.80, 0.78]))
    return body, body.astype(np.float32), rgb.astype(np.float32)


def _shadow(rng, lat, cx, cy):
    ang = rng.uniform(0, 2 * np.pi)
    d = (lat.X - cx) * np.cos(ang) + (lat.Y - cy) * np.sin(ang)
    soft = rng.uniform(0.5, 3.0)
    cover = np.clip(d / soft + 0.5, 0, 1)
    depth = rng.uniform(0.5, 0.85)  # share of direct light the occluder removes
    return cover > 0.5, (1 - depth * cover).astype(np.float32)


_MAKE = {"mole": _mole, "marker": _marker, "tattoo": _tattoo, "ruler": _ruler, "shadow": _shadow}


def hair(rng: np.random.Generator, lat: Lattice, density_cm2: float) -> np.ndarray:
    """Hair coverage on the lattice: quadratic Bezier strands, one growth direction per site."""
    area_cm2 = (lat.n * lat.sp / 10) ** 2
    count = int(min(rng.poisson(density_cm2 * area_cm2), 1200))
    canvas = np.zeros((lat.n, lat.n), np.float32)
    if count == 0:
        return canvas
    heading = rng.uniform(0, 2 * np.pi)
    diameter_mm = rng.uniform(0.04, 0.1)
    t = np.linspace(0, 1, 9)[None, :, None]
    for level in (0.35, 0.7, 1.0):
        layer = np.zeros((lat.n, lat.n), np.uint8)
        m = count // 3 + 1  # strands of this shade, drawn together
        p0 = rng.uniform(0, lat.n, (m, 2))
        ang = heading + rng.normal(0, 0.35, m)
        length = rng.uniform(3.0, 14.0, m) / lat.sp
        p2 = p0 + length[:, None] * np.stack([np.cos(ang), np.sin(ang)], 1)
        p1 = (p0 + p2) / 2 + rng.normal(0, 1, (m, 2)) * (0.12 * length)[:, None]
        curve = (1 - t) ** 2 * p0[:, None] + 2 * (1 - t) * t * p1[:, None] + t**2 * p2[:, None]
        lines = list(np.round(curve * 16).astype(np.int32).reshape(m, -1, 1, 2))
        width = max(1, int(round(diameter_mm / lat.sp)))
        cv2.polylines(layer, lines, False, 255, width, cv2.LINE_AA, shift=4)
        cover = layer.astype(np.float32) / 255 * np.float32(min(1.0, diameter_mm / lat.sp) * level)
        canvas = np.maximum(canvas, cover)
    return canvas * np.float32(0.9)
