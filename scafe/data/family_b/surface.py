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
        return np.zeros_like(F)
    top = float(np.percentile(F[inside], 90))
    u = np.clip((F - 1.0) / max(top - 1.0, 1e-3), 0, 1)
    shape = np.sin(0.5 * np.pi * u) if label == "hypertrophic" else 1 - (1 - u) ** 3
    return height * shape


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
        depth = np.maximum(depth, np.abs(np.sin(np.pi * along / period + phase)) ** 8)
    pits = np.zeros_like(depth)
    count = int(rng.poisson(0.8 * (lat.n * lat.sp) ** 2))
    pits[rng.integers(0, lat.n, count), rng.integers(0, lat.n, count)] = 1.0
    pits = cv2.GaussianBlur(pits, (0, 0), max(0.07 / lat.sp, 0.5))
    pits = pits / (pits.max() + 1e-9)
    return (0.008 + 0.02 * texture) * depth + 0.04 * pits


def _horizon_shadow(h: np.ndarray, sp: float, az: float, el: float) -> np.ndarray:
    """1 where the light is blocked by the relief (soft), scanning along the light direction."""
    n = h.shape[0]
    d = int(np.ceil(n * 1.415))
    c = (n - 1) / 2
    lx, ly = np.cos(az), np.sin(az)
    jj, ii = np.mgrid[:d, :d].astype(np.float32) - (d - 1) / 2
    # rotated frame: column i runs towards the light, row j across it
    sx = (c + ii * lx - jj * ly).astype(np.float32)
    sy = (c + ii * ly + jj * lx).astype(np.float32)
    hr = cv2.remap(h.astype(np.float32), sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    drop = sp * np.tan(el) * np.arange(d, dtype=np.float32)
    g = hr - drop[None, :]
    ahead = np.maximum.accumulate(g[:, ::-1], axis=1)[:, ::-1]
    ahead = np.concatenate([ahead[:, 1:], np.full((d, 1), -np.inf, np.float32)], axis=1)
    occl = np.clip((ahead + drop[None, :] - hr) / 0.15, 0, 1)
    # back to the lattice
    yy, xx = np.mgrid[:n, :n].astype(np.float32) - c
    ri = (xx * lx + yy * ly + (d - 1) / 2).astype(np.float32)
    rj = (-xx * ly + yy * lx + (d - 1) / 2).astype(np.float32)
    return cv2.remap(occl.astype(np.float32), ri, rj, cv2.INTER_LINEAR)


def shade(h: np.ndarray, sp: float, light_el_deg: float, light_az_deg: float, view: np.ndarray,
          roughness: np.ndarray, spec_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Direct diffuse factor (flat = 1), sky factor and specular radiance on the lattice."""
    el, az = np.radians(light_el_deg), np.radians(light_az_deg)
    gy, gx = np.gradient(h.astype(np.float64), sp)
    nrm = np.stack([-gx, -gy, np.ones_like(gx)], -1)
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
    light = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    nl = np.clip(nrm @ light, 0, 1)
    nv = np.clip(nrm @ view, 1e-3, 1)
    # Oren-Nayar
    s2 = ON_SIGMA**2
    a, b = 1 - 0.5 * s2 / (s2 + 0.33), 0.45 * s2 / (s2 + 0.09)
    lt = light[None, None, :] - nl[..., None] * nrm
    vt = view[None, None, :] - nv[..., None] * nrm
    cos_phi = np.clip((lt * vt).sum(-1) / (np.linalg.norm(lt, axis=-1) * np.linalg.norm(vt, axis=-1) + 1e-9), 0, 1)
    ti, tr = np.arccos(nl), np.arccos(nv)
    alpha, beta = np.maximum(ti, tr), np.minimum(ti, tr)
    on = nl * (a + b * cos_phi * np.sin(alpha) * np.tan(beta))
    flat_tr = np.arccos(np.clip(view[2], 1e-3, 1))
    flat_ti = np.pi / 2 - el
    flat = np.sin(el) * (a + b * max(np.cos(az - np.arctan2(view[1], view[0])), 0) * np.sin(max(flat_ti, flat_tr))
                         * np.tan(min(flat_ti, flat_tr)))
    shadow = _horizon_shadow(h, sp, az, el) if float(h.max()) > 0.03 else np.zeros_like(h)
    shadow = cv2.GaussianBlur(shadow.astype(np.float32), (0, 0), max(0.15 / sp, 0.6))
    diffuse = on / max(flat, 1e-3) * (1 - shadow)
    sky = 0.3 * (1 + nrm[..., 2]) / 2
    # Cook-Torrance
    half = light + view
    half /= np.linalg.norm(half)
    nh = np.clip(nrm @ half, 1e-3, 1)
    vh = float(np.clip(view @ half, 1e-3, 1))
    m2 = roughness**2
    d_beck = np.exp((nh**2 - 1) / (m2 * nh**2)) / (np.pi * m2 * nh**4)
    fres = 0.028 + (1 - 0.028) * (1 - vh) ** 5
    geo = np.minimum(1, np.minimum(2 * nh * nv / vh, 2 * nh * nl / vh))
    spec = spec_weight * d_beck * fres * geo / (4 * nv) * (1 - shadow)
    # the on-camera fill flash (light along the view): its highlight sits where the surface faces
    # the camera (the top of every raised scar), whatever the key light's angle; its diffuse part
    # is n.v, normalised like the key light so that flat skin gets FLASH
    d_flash = np.exp((nv**2 - 1) / (m2 * nv**2)) / (np.pi * m2 * nv**4)
    spec = spec + FLASH * spec_weight * d_flash * 0.028 * np.minimum(1, 2 * nv * nv) / (4 * nv)
    diffuse = diffuse + FLASH * nv / max(float(view[2]), 1e-3)
    return diffuse, sky, spec
