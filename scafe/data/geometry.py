"""Lesion and wound geometry in physical millimetres, as implicit fields.

Every shape is a field ``f(x, y)`` in mm that is negative inside (a signed distance or a close
approximation of one), so a shape can be rasterised on any grid: on the camera's pixel grid for
the image and mask, and on a clean physical grid to measure the true area, solidity, aspect and
extension ratio. The wound (the original incision) lies along the physical x axis, centred at 0.

* wound: a slightly curved band ``y = s(x)`` of length L with a half-width that tapers to the ends,
  ``r(t) = r0 * sqrt(1 - |2t - 1|^3)``;
* hypertrophic: the same band widened by the extension ratio, with 1-D Fourier noise along it;
* keloid: an ovoid, dumbbell or nodular base grown beyond the wound, Fourier radial noise
  ``delta(theta) = amp * R_eq * sum_k (a_k cos k theta + b_k sin k theta)`` on its boundary, and
  claw-like pseudopods (tapered capsules) of length ``frac * R_eq``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from skimage.measure import moments_central
from skimage.morphology import convex_hull_image

from scafe.data.params import LesionParams

Field = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Wound:
    """The original incision: length ``length`` mm, half-width ``r0`` mm, sagitta ``sag`` mm."""

    length: float
    r0: float
    sag: float

    def centre_line(self, x: np.ndarray) -> np.ndarray:
        """``s(x)``: the parabola through the ends with height ``sag`` at the middle (mm)."""
        return self.sag * (1.0 - (2.0 * x / self.length) ** 2)

    def half_width(self, x: np.ndarray) -> np.ndarray:
        """Tapered half-width ``r(t)`` with ``t = x / L + 1/2``; zero beyond the ends."""
        t = np.clip(2.0 * np.abs(x) / self.length, 0.0, 1.0)
        return self.r0 * np.sqrt(np.clip(1.0 - t**3, 0.0, 1.0))

    def band_field(self, x: np.ndarray, y: np.ndarray, widen: float | np.ndarray = 1.0) -> np.ndarray:
        """Field of the band widened ``widen`` times (vertical distance corrected by the slope)."""
        slope = -8.0 * self.sag * x / self.length**2
        dist = np.abs(y - self.centre_line(x)) / np.sqrt(1.0 + slope**2)
        inside_len = np.abs(x) <= self.length / 2
        f = dist - self.half_width(x) * widen
        # beyond the ends: distance to the end point, so the field stays continuous
        end = np.hypot(np.abs(x) - self.length / 2, y)
        return np.where(inside_len, f, end)

    def area(self) -> float:
        """Area in mm^2: integral of 2 r(t) dx (numerically)."""
        xs = np.linspace(-self.length / 2, self.length / 2, 401)
        return float(np.trapezoid(2 * self.half_width(xs), xs))


def _fourier(rng: np.random.Generator, k_min: int, k_max: int) -> np.ndarray:
    """A random periodic profile ``n(theta)``, |n| <= 1, tabulated on 1024 angles for ``np.interp``.

    ``n = sum_k (a_k cos k theta + b_k sin k theta) / sum_k (|a_k| + |b_k|)`` with
    ``a_k, b_k ~ N(0, 1/k^2)``: a 1/k spectrum gives smooth, lumpy outlines.
    """
    ks = np.arange(k_min, k_max + 1)
    a, b = rng.normal(size=(2, ks.size)) / ks
    theta = np.linspace(-np.pi, np.pi, 1025)
    table = (a[:, None] * np.cos(ks[:, None] * theta) + b[:, None] * np.sin(ks[:, None] * theta)).sum(0)
    return table / (np.abs(a).sum() + np.abs(b).sum())


_THETA = np.linspace(-np.pi, np.pi, 1025)


def _eval_fourier(table: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.interp(theta, _THETA, table)


def _capsule(p0: np.ndarray, p1: np.ndarray, r0: float, r1: float) -> Field:
    """Tapered capsule from p0 (radius r0) to p1 (radius r1), mm."""
    d = p1 - p0
    dd = float(d @ d) or 1e-9

    def field(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        t = np.clip(((x - p0[0]) * d[0] + (y - p0[1]) * d[1]) / dd, 0.0, 1.0)
        return np.hypot(x - p0[0] - t * d[0], y - p0[1] - t * d[1]) - (r0 + (r1 - r0) * t)

    return field


def _ellipse(cx: float, cy: float, a: float, b: float) -> Field:
    def field(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (np.hypot((x - cx) / a, (y - cy) / b) - 1.0) * min(a, b)

    return field


@dataclass
class Lesion:
    """A rasterisable lesion: ``field(x, y) < 0`` inside; ``extent`` bounds it (mm, about 0)."""

    wound: Wound
    field: Field
    extent: float


def _grid(extent: float, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    axis = np.linspace(-extent, extent, n)
    x, y = np.meshgrid(axis, axis)
    return x, y, float(axis[1] - axis[0])


def _area(field: Field, extent: float, n: int = 128) -> float:
    x, y, step = _grid(extent, n)
    return float((field(x, y) < 0).sum() * step * step)


def _fit_scale(make: Callable[[float], Field], target_area: float, extent: float) -> float:
    """Bisection on a scale ``lam`` so that the area of ``make(lam)`` is ``target_area`` mm^2."""
    lo, hi = 0.2, 4.0
    for _ in range(12):  # 4.0 / 2^12: 0.1 % of the scale, far below one pixel
        mid = 0.5 * (lo + hi)
        if _area(make(mid), extent * max(1.0, mid), 72) < target_area:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def build_lesion(rng: np.random.Generator, lesion: LesionParams, wound: Wound) -> Lesion:
    """Construct the lesion field for the targets in ``lesion`` around ``wound``."""
    length = wound.length
    target = lesion.extension_ratio * wound.area()
    # amplitude of boundary noise from the solidity target: 1 - solidity ~ 1.6 * amp (fitted by eye
    # on measured phantoms; the *measured* solidity is what gets exported)
    amp = float(np.clip((1.0 - lesion.solidity) / 1.6, 0.0, 0.3))
    if lesion.shape == "band":
        coeffs = _fourier(rng, 2, 7)

        def make(lam: float) -> Field:
            def field(x: np.ndarray, y: np.ndarray) -> np.ndarray:
                t = np.clip(x / length, -0.5, 0.5) * 2 * np.pi
                widen = lam * (1.0 + 2.5 * amp * _eval_fourier(coeffs, t))
                return wound.band_field(x, y, widen)

            return field

        lam = _fit_scale(make, target, length * 0.75)
        base = make(lam)
    else:
        base = _keloid_base(rng, lesion.shape, wound, target)
        coeffs = _fourier(rng, 3, 11)
        plain = base
        req0 = np.sqrt(target / np.pi)

        def base(x: np.ndarray, y: np.ndarray) -> np.ndarray:  # noqa: F811 - wraps the plain base
            theta = np.arctan2(y, x)
            return plain(x, y) - amp * req0 * 1.8 * _eval_fourier(coeffs, theta)

    req = float(np.sqrt(target / np.pi))
    parts: list[Field] = [base]
    if lesion.label == "keloid":  # a keloid always covers its wound and grows beyond it
        parts.append(lambda x, y: wound.band_field(x, y, 1.05))
    for frac in lesion.pseudopod_lengths:
        parts.append(_pseudopod(rng, base, req, frac))

    def union(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.minimum.reduce([p(x, y) for p in parts])

    extent = max(length * 0.6, req * 1.2) * (1.0 + max(lesion.pseudopod_lengths, default=0.0)) + 2.0
    return Lesion(wound=wound, field=union, extent=extent)


def _keloid_base(rng: np.random.Generator, shape: str, wound: Wound, target: float) -> Field:
    length = wound.length
    grow = float(rng.uniform(1.02, 1.25))  # keloids pass the ends of the wound
    if shape == "ovoid":
        a = length / 2 * grow

        def make(lam: float) -> Field:
            return _ellipse(0.0, 0.0, a * max(1.0, lam ** 0.35), max(lam * a / 4, wound.r0 * 1.1))

    elif shape == "dumbbell":
        w1, w2 = rng.uniform(0.8, 1.2, 2)

        def make(lam: float) -> Field:
            lobes = [
                _ellipse(-length * 0.42 * grow, 0.0, lam * w1 * length / 6, lam * w1 * length / 6),
                _ellipse(length * 0.42 * grow, 0.0, lam * w2 * length / 6, lam * w2 * length / 6),
            ]
            return lambda x, y: np.minimum.reduce(
                [lobes[0](x, y), lobes[1](x, y), wound.band_field(x, y, 1.0 + 0.8 * lam)]
            )

    else:  # nodular: 2-5 overlapping nodules strung along the wound
        k = int(rng.integers(2, 6))
        xs = np.linspace(-0.45, 0.45, k) * length * grow + rng.normal(0, 0.04 * length, k)
        ys = rng.normal(0, 0.06 * length, k)
        rs = rng.uniform(0.7, 1.3, k) * length / (2.2 * k) + wound.r0

        def make(lam: float) -> Field:
            nodes = [_ellipse(float(cx), float(cy), lam * float(r), lam * float(r)) for cx, cy, r in zip(xs, ys, rs, strict=True)]
            return lambda x, y: np.minimum.reduce([n(x, y) for n in nodes] + [wound.band_field(x, y, 1.1)])

    lam = _fit_scale(make, target, length * 0.75)
    return make(lam)


def _pseudopod(rng: np.random.Generator, base: Field, req: float, frac: float) -> Field:
    """A claw: starts on the base boundary along a random direction and tapers outwards."""
    theta = rng.uniform(0, 2 * np.pi)
    ray = np.linspace(0.0, 4.0 * req, 400)
    vals = base(ray * np.cos(theta), ray * np.sin(theta))
    outside = np.nonzero(vals > 0)[0]
    r_edge = float(ray[outside[0]]) if outside.size else 2.0 * req
    length = frac * req
    bend = theta + rng.uniform(-0.5, 0.5)
    p0 = np.array([np.cos(theta), np.sin(theta)]) * (r_edge - 0.3 * length)
    p1 = p0 + np.array([np.cos(bend), np.sin(bend)]) * length * 1.3
    width = rng.uniform(0.3, 0.5) * length
    return _capsule(p0, p1, width, width * 0.45)


def measure(lesion: Lesion, n: int = 128) -> dict[str, float]:
    """True physical measures on a clean grid: area mm^2, solidity, aspect, extension ratio, max depth."""
    x, y, step = _grid(lesion.extent, n)
    mask = lesion.field(x, y) < 0
    wound = lesion.wound.band_field(x, y) < 0
    area = float(mask.sum() * step * step)
    if not mask.any():
        return {"max_depth_mm": 0.0, "area_mm2": 0.0, "solidity": float("nan"), "aspect_ratio": float("nan"),
                "extension_ratio": 0.0}
    hull = convex_hull_image(mask)
    mu = moments_central(mask.astype(float), order=2)
    cov = np.array([[mu[2, 0], mu[1, 1]], [mu[1, 1], mu[0, 2]]]) / mu[0, 0]
    ev = np.sort(np.linalg.eigvalsh(cov))
    return {
        "max_depth_mm": float(max(-lesion.field(x, y).min(), 0.0)),  # half-width of the widest part
        "area_mm2": area,
        "solidity": float(mask.sum() / max(hull.sum(), 1)),
        "aspect_ratio": float(np.sqrt(ev[1] / max(ev[0], 1e-12))),
        "extension_ratio": float(mask.sum() / max(wound.sum(), 1)),
    }
