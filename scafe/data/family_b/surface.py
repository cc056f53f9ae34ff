"""Family B surface: world-space lattice, height field, micro-relief and shading.

Everything physical is computed on a square lattice in skin-plane millimetres (spacing ``sp``
mm) and only then projected into the camera (``cv2.remap`` with the pixel-to-plane map), so
perspective, tilt and lens distortion act on the finished scene as they would on real skin.

* scar elevation: ``u = clip((F - 1) / (F_top - 1), 0, 1)`` of the metaball field, shaped
  ``sin(pi u / 2)`` (hypertrophic dome) or ``1 - (1 - u)^3`` (keloid: steep wall, plateau), height
  ``H = min(H_target, 0.8 * widest inscribed radius)``;
* scar relief: sparse papules (Poisson, 2.5 per mm^2) of one radius 0.25-0.5 mm with exponential
  heights, rescaled so their RMS height on the scar is the target ``relief`` (mm), faded in over
  the outer 0.4 mm;
* skin micro-relief: two families of sharp furrows (``|sin|^8`` gratings of period 0.5-1.1 mm,
  phase-modulated by noise) plus follicle pits, depth 0.008-0.03 mm (pits 0.04 mm); scar tissue has none;
* shading: Oren-Nayar diffuse (roughness 0.35) normalised to flat skin = 1, a sky term
  ``0.3 (1 + n_z) / 2``, Cook-Torrance specular (Beckmann, Schlick F0 = 0.028, roughness
  ``0.45 - 0.7 gloss``, weight ``GLOSS_WEIGHT gloss``), and cast shadows by horizon scanning along the light direction;
* an on-camera fill flash (``FLASH`` = half the key light, along the view): diffuse ``n.v`` and a
  Cook-Torrance highlight where the scar faces the camera, so a glossy scar shows a highlight at
  any key-light elevation (the key light alone needs a slope of half the light's zenith angle).
"""

from __future__ import annotations

import cv2
import numpy as np

ON_SIGMA = 0.35
FLASH = 0.5  # on-camera fill flash, relative to the key light (clinical photos use one)


class Lattice:
    """Square lattice over the part of the skin plane the camera sees."""

    def __init__(self, x: np.ndarray, y: np.ndarray, size: int):
        pad = 1.0
        self.x0, self.y0 = float(x.min()) - pad, float(y.min()) - pad
        span = max(float(x.max()) - self.x0, float(y.max()) - self.y0) + pad
        self.n = int(min(max(1.2 * size, 64), 1.6 * size))
        self.sp = span / self.n
        ax = self.x0 + (np.arange(self.n) + 0.5) * self.sp
        ay = self.y0 + (np.arange(self.n) + 0.5) * self.sp
        self.X, self.Y = np.meshgrid(ax, ay)
        self.map_x = ((x - self.x0) / self.sp - 0.5).astype(np.float32)
        self.map_y = ((y - self.y0) / self.sp - 0.5).astype(np.float32)

    def to_pixels(self, arr: np.ndarray, nearest: bool = False) -> np.ndarray:
        flag = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        return cv2.remap(np.ascontiguousarray(arr, dtype=np.float32), self.map_x, self.map_y, flag,
                         borderMode=cv2.BORDER_REPLICATE)

    def noise(self, rng: np.random.Generator, corr_mm: float) -> np.ndarray:
        """Unit-variance Gaussian random field with correlation length ``corr_mm``."""
        sig = max(corr_mm / self.sp, 0.6)
        factor = int(max(1, min(8, sig // 4)))
        m = max(4, -(-self.n // factor))
        field = cv2.GaussianBlur(rng.standard_normal((m, m)).astype(np.float32), (0, 0), sig / factor)
        if factor > 1:
            field = cv2.resize(field, (self.n, self.n), interpolation=cv2.INTER_CUBIC)
        field = field[: self.n, : self.n]
        return (field - field.mean()) / (field.std() + 1e-9)

    def mm(self, px: float) -> float:
        return px * self.sp


def elevation(F: np.ndarray, label: str, height: float) -> np.ndarray:
    inside = F > 1.0
    if not inside.any():
        return np.zeros(F.shape, np.float32)
    top = float(np.percentile(F[inside], 90))
    u = np.clip((F - 1.0) / max(top - 1.0, 1e-3), 0, 1)
    shape = np.sin(0.5 * np.pi * u) if label == "hypertrophic" else 1 - (1 - u) ** 3
    return (height * shape).astype(np.float32)


def papules(rng: np.random.Generator, lat: Lattice, mask: np.ndarray, signed_mm: np.ndarray,
            rms_mm: float) -> np.ndarray:
    """Bumps on the scar with RMS height ``rms_mm`` over the scar (0 outside)."""
    if rms_mm <= 0 or not mask.any():
        return np.zeros(mask.shape, np.float32)
    area = mask.sum() * lat.sp**2
    count = int(rng.poisson(2.5 * area)) + 1
    ys, xs = np.nonzero(mask)
    pick = rng.integers(0, ys.size, count)
    canvas = np.zeros(mask.shape, np.float32)
    np.add.at(canvas, (ys[pick], xs[pick]), rng.exponential(1.0, count).astype(np.float32))
    radius = rng.uniform(0.25, 0.5)
    bumps = cv2.GaussianBlur(canvas, (0, 0), max(radius / lat.sp, 0.7))
    bumps = bumps - bumps[mask].mean()
    fade = np.clip(signed_mm / 0.4, 0, 1)
    bumps *= fade
    rms = float(np.sqrt(np.mean(bumps[mask] ** 2)))
    return (bumps * (rms_mm / max(rms, 1e-9))).astype(np.float32)


def skin_furrows(rng: np.random.Generator, lat: Lattice, texture: float) -> np.ndarray:
    """Depth (mm, >= 0) of the skin's furrows and follicle pits."""
    depth: np.ndarray = np.zeros((lat.n, lat.n), np.float32)
    base = rng.uniform(0, np.pi)
    for angle in (base, base + rng.uniform(0.8, 1.3)):
        period = rng.uniform(0.5, 1.1)
        phase = lat.noise(rng, 1.5) * 2.5
        along = lat.X * np.cos(angle) + lat.Y * np.sin(angle)
        wave = np.sin((np.pi / period * along).astype(np.float32) + phase)
        wave *= wave  # |sin|^8 by squaring three times (float32 keeps 1e-5 rad of phase here)
        wave *= wave
        wave *= wave
        depth = np.maximum(depth, wave)
    pits = np.zeros_like(depth)
    count = int(rng.poisson(0.8 * (lat.n * lat.sp) ** 2))
    pits[rng.integers(0, lat.n, count), rng.integers(0, lat.n, count)] = 1.0
    pits = cv2.GaussianBlur(pits, (0, 0), max(0.07 / lat.sp, 0.5))
    pits = pits / (pits.max() + 1e-9)
    return np.float32(0.008 + 0.02 * texture) * depth + np.float32(0.04) * pits


def _horizon_shadow(h: np.ndarray, sp: float, az: float, el: float) -> np.ndarray:
    """1 where the light is blocked by the relief (soft), scanning along the light direction."""
    f32 = np.float32
    n = h.shape[0]
    d = int(np.ceil(n * 1.415))
    c = (n - 1) / 2
    lx, ly = f32(np.cos(az)), f32(np.sin(az))
    axis = np.arange(d, dtype=f32) - f32((d - 1) / 2)
    ii, jj = axis[:, None], axis[None, :]
    # rotated frame: row i runs towards the light, column j across it (so the running maximum below
    # goes down the rows, a whole row at a time)
    sx = f32(c) + ii * lx - jj * ly
    sy = f32(c) + ii * ly + jj * lx
    hr = cv2.remap(np.asarray(h, f32), sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    drop = (f32(sp * np.tan(el)) * np.arange(d, dtype=f32))[:, None]
    g = hr - drop
    ahead = np.maximum.accumulate(g[::-1], axis=0)[::-1]
    ahead = np.concatenate([ahead[1:], np.full((1, d), -np.inf, f32)], axis=0)
    occl = np.clip((ahead + drop - hr) / f32(0.15), 0, 1)
    # back to the lattice
    back = np.arange(n, dtype=f32) - f32(c)
    xx, yy = back[None, :], back[:, None]
    half = f32((d - 1) / 2)
    along = xx * lx + yy * ly + half
    across = yy * lx - xx * ly + half
    return cv2.remap(occl, across, along, cv2.INTER_LINEAR)


def shade(h: np.ndarray, sp: float, light_el_deg: float, light_az_deg: float, view: np.ndarray,
          roughness: np.ndarray, spec_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Direct diffuse factor (flat = 1), sky factor and specular radiance on the lattice (float32).

    Per-pixel work runs on the normal's three components in float32 (an 8-bit photo needs far less
    than float32's 7 digits); the few per-image constants stay float64.
    """
    f32 = np.float32
    el, az = np.radians(light_el_deg), np.radians(light_az_deg)
    gy, gx = np.gradient(np.asarray(h, f32), f32(sp))
    inv = 1 / np.sqrt(gx * gx + gy * gy + 1)
    nx, ny, nz = -gx * inv, -gy * inv, inv
    light = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    lx, ly, lz = (f32(c) for c in light)
    vx, vy, vz = (f32(c) for c in view)
    n_dot_l = nx * lx + ny * ly + nz * lz
    n_dot_v = nx * vx + ny * vy + nz * vz
    nl = np.clip(n_dot_l, 0, 1)
    nv = np.clip(n_dot_v, f32(1e-3), 1)
    # Oren-Nayar: the angle between the light and view directions projected onto the tangent plane
    s2 = ON_SIGMA**2
    a, b = 1 - 0.5 * s2 / (s2 + 0.33), 0.45 * s2 / (s2 + 0.09)
    ltx, lty, ltz = lx - nl * nx, ly - nl * ny, lz - nl * nz
    vtx, vty, vtz = vx - nv * nx, vy - nv * ny, vz - nv * nz
    lt_vt = ltx * vtx + lty * vty + ltz * vtz
    lt_len = np.sqrt(ltx * ltx + lty * lty + ltz * ltz)
    vt_len = np.sqrt(vtx * vtx + vty * vty + vtz * vtz)
    cos_phi = np.clip(lt_vt / (lt_len * vt_len + f32(1e-9)), 0, 1)
    # alpha = max(theta_i, theta_r), beta = min(...): arccos falls, so cos(alpha) = min(n.l, n.v) and
    # cos(beta) = max(n.l, n.v); sin(alpha) tan(beta) then needs no trigonometric call
    cos_a, cos_b = np.minimum(nl, nv), np.maximum(nl, nv)
    sin_a_tan_b = np.sqrt((1 - cos_a * cos_a) * (1 - cos_b * cos_b)) / cos_b
    on = nl * (f32(a) + f32(b) * cos_phi * sin_a_tan_b)
    flat_tr = np.arccos(np.clip(view[2], 1e-3, 1))
    flat_ti = np.pi / 2 - el
    flat = np.sin(el) * (a + b * max(np.cos(az - np.arctan2(view[1], view[0])), 0) * np.sin(max(flat_ti, flat_tr))
                         * np.tan(min(flat_ti, flat_tr)))
    shadow = _horizon_shadow(h, sp, az, el) if float(h.max()) > 0.03 else np.zeros(h.shape, f32)
    shadow = cv2.GaussianBlur(shadow.astype(f32), (0, 0), max(0.15 / sp, 0.6))
    lit = 1 - shadow
    diffuse = on * lit * f32(1 / max(flat, 1e-3))
    sky = f32(0.15) * (1 + nz)  # 0.3 (1 + n_z) / 2
    # Cook-Torrance
    half = light + view
    half /= np.linalg.norm(half)
    hx, hy, hz = (f32(c) for c in half)
    nh = np.clip(nx * hx + ny * hy + nz * hz, f32(1e-3), 1)
    vh = float(np.clip(view @ half, 1e-3, 1))
    m2 = np.asarray(roughness, f32) ** 2
    weight = np.asarray(spec_weight, f32)

    def beckmann(c: np.ndarray) -> np.ndarray:
        c2 = c * c
        return np.exp((c2 - 1) / (m2 * c2)) / (f32(np.pi) * m2 * c2 * c2)

    fres = f32(0.028 + (1 - 0.028) * (1 - vh) ** 5)
    geo = np.minimum(1, np.minimum(nh * nv, nh * nl) * f32(2 / vh))
    spec = weight * beckmann(nh) * fres * geo / (4 * nv) * lit
    # the on-camera fill flash (light along the view): its highlight sits where the surface faces
    # the camera (the top of every raised scar), whatever the key light's angle; its diffuse part
    # is n.v, normalised like the key light so that flat skin gets FLASH
    spec = spec + f32(FLASH * 0.028) * weight * beckmann(nv) * np.minimum(1, 2 * nv * nv) / (4 * nv)
    diffuse = diffuse + f32(FLASH / max(float(view[2]), 1e-3)) * nv
    return diffuse, sky, spec
