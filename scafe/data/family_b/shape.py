"""Family B lesion geometry: metaballs strung along a spline wound (shares nothing with family A).

The wound is a Catmull-Rom spline through 5 jittered control points along the x axis (mm). The
lesion is the iso-contour ``F = 1`` of a sum of Gaussian "balls"
``F(p) = sum_i w_i exp(-|p - c_i|^2 / (2 r_i^2))``:

* the wound's own balls (a scar covers its wound) and a chain of balls along the wound
  (spacing 0.6 r), their radius set by the extension ratio
  (bisection on the area of ``F > 1`` against ``extension_ratio * wound area``);
* lobes: 0-4 extra balls on the chain's flanks, whose weight (how far they bulge) is set by the
  target irregularity ``1 - solidity``;
* claws (pseudopods): chains of 4-7 shrinking balls that walk outwards from the body, leaving it
  within +-40 deg of the wound path's normal (a claw along the path would merge into the body).

The wound itself is the iso-contour of the same construction with the wound's own width. True
measures (area mm^2, solidity, aspect ratio, extension ratio, the widest inscribed radius) come
from rasterising ``F`` on a fine physical grid, not from the camera image.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
from skimage import measure as skm

LEVEL = 1.0

@dataclass
class Balls:
    """Gaussian balls: centres (k, 2) mm, radii (k,) mm, weights (k,)."""

    centres: np.ndarray
    radii: np.ndarray
    weights: np.ndarray
    tags: list[str] = field(default_factory=list)

    def field(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``F`` on a regular grid ``x, y = np.meshgrid(ax, ay)`` (ascending axes).

        A Gaussian ball is separable, ``exp(-dx^2) exp(-dy^2)``, so the whole field is one matrix
        product ``(w * Gy)^T @ Gx`` of the per-ball profiles along each axis (each cut off at 3.5
        radii, as a ball's own patch): no Python loop over the balls.
        """
        ax, ay = x[0], y[:, 0]
        r = self.radii[:, None]
        reach, two_r2 = 3.5 * r, 2 * r * r

        def profile(axis: np.ndarray, c: np.ndarray) -> np.ndarray:
            g = np.exp(-((axis[None, :] - c) ** 2) / two_r2)
            g[(axis[None, :] < c - reach) | (axis[None, :] >= c + reach)] = 0.0
            return g

        gx = profile(ax, self.centres[:, :1])
        gy = profile(ay, self.centres[:, 1:2])
        return np.asarray((gy * self.weights[:, None]).T @ gx, dtype=np.float64)

    def __add__(self, other: Balls) -> Balls:
        return Balls(np.concatenate([self.centres, other.centres]), np.concatenate([self.radii, other.radii]),
                     np.concatenate([self.weights, other.weights]), self.tags + other.tags)

def spline(ctrl: np.ndarray, n: int) -> np.ndarray:
    """Catmull-Rom curve through control points ``ctrl`` (k, 2), ``n`` samples."""
    pts = np.vstack([2 * ctrl[0] - ctrl[1], ctrl, 2 * ctrl[-1] - ctrl[-2]])
    seg = len(ctrl) - 1
    t = np.linspace(0, seg, n, endpoint=True)
    i = np.minimum(t.astype(int), seg - 1)
    u = (t - i)[:, None]
    p0, p1, p2, p3 = pts[i], pts[i + 1], pts[i + 2], pts[i + 3]
    return 0.5 * ((2 * p1) + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u**2
                  + (-p0 + 3 * p1 - 3 * p2 + p3) * u**3)

def chain(path: np.ndarray, radius: np.ndarray | float, spacing: float = 0.6) -> Balls:
    """Balls of ``radius`` (scalar or per path point) every ``spacing * radius`` along ``path``."""
    seg = np.hypot(*np.diff(path, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)]).tolist()
    r_path = np.broadcast_to(np.asarray(radius, float), (len(path),)).tolist()
    picks, radii = [], []
    pos, last = 0.0, len(path) - 1
    while pos <= s[-1] + 1e-9:  # plain floats and bisect: ~2000 steps per phantom, numpy calls cost more
        k = min(bisect.bisect_left(s, pos), last)
        r = r_path[k]
        picks.append(k)
        radii.append(max(r, 1e-3))
        pos += spacing * max(r, 0.05)
    c = path[picks]
    rr = np.array(radii)
    # a chain's F on its axis is ~ sqrt(2 pi) / spacing ~ 4.2 times one ball's peak: rescale so that
    # the iso-line F = 1 lies ~1 radius off the axis
    w = np.full(len(rr), 1.0 / (np.sqrt(2 * np.pi) / spacing * np.exp(-0.5)))
    return Balls(c, rr, w, ["body"] * len(rr))

@dataclass
class Layout:
    """Everything the renderer needs: the lesion and wound fields, extent and true measures."""

    lesion: Balls
    wound: Balls
    extent: float  # half-size (mm) of a square that holds the lesion
    measures: dict[str, float]

def _wound_path(rng: np.random.Generator, length: float) -> np.ndarray:
    xs = np.linspace(-length / 2, length / 2, 5)
    ys = rng.normal(0, 0.06 * length, 5)
    ys[[0, -1]] *= 0.3
    return spline(np.stack([xs, ys], 1), 60)

def _width_profile(n: int, half_width: float) -> np.ndarray:
    t = np.linspace(-1, 1, n)
    return half_width * np.clip(1 - t**4, 0.25, 1)

def build(rng: np.random.Generator, p: dict, length: float, wound_half_width: float) -> Layout:
    """Lay out wound and lesion for the class targets ``p`` (see ``scene.sample_lesion``)."""
    path = _wound_path(rng, length)
    wound = chain(path, _width_profile(len(path), wound_half_width))
    wound_area = _area(wound, length)
    target = p["extension_ratio"] * wound_area
    irregular = float(np.clip((1.0 - p["solidity"]) / 0.3, 0, 1))
    n_lobes = int(round(irregular * 4 + rng.uniform(-0.5, 0.5)))
    lobe_side = rng.choice([-1.0, 1.0], max(n_lobes, 1))
    lobe_at = rng.uniform(0.1, 0.9, max(n_lobes, 1))
    claw_dirs = rng.uniform(0, 2 * np.pi, p["pseudopod_count"])
    claw_bend = rng.normal(0, 0.4, (p["pseudopod_count"], 7))
    claw_at = rng.uniform(0.05, 0.95, p["pseudopod_count"])

    def make(scale: float) -> Balls:
        body = chain(path, _width_profile(len(path), wound_half_width * scale))
        extra = []
        for k in range(n_lobes):
            c = path[int(lobe_at[k] * (len(path) - 1))]
            r = wound_half_width * scale * (0.7 + 0.8 * irregular)
            extra.append(Balls(np.array([c + np.array([0, lobe_side[k] * 1.3 * r])]), np.array([r]),
                               np.array([0.9]), ["lobe"]))
        for k in range(p["pseudopod_count"]):
            start = path[int(claw_at[k] * (len(path) - 1))]
            r0 = wound_half_width * scale * 0.6
            length_mm = p["pseudopod_lengths"][k] * np.sqrt(target / np.pi) * 1.6 + 2 * r0
            # a claw grows out of the scar into the skin: it leaves the body on one side, within
            # +-40 deg of the path's normal (along the path it would merge into the body), and
            # bends gently as it goes
            i = int(claw_at[k] * (len(path) - 1))
            tangent = path[min(i + 1, len(path) - 1)] - path[max(i - 1, 0)]
            side = 1.0 if claw_dirs[k] < np.pi else -1.0
            spread = 1.4 * ((claw_dirs[k] % np.pi) / np.pi - 0.5)
            ang = (np.arctan2(tangent[1], tangent[0]) + side * np.pi / 2 + spread
                   + 0.6 * np.cumsum(claw_bend[k]))
            steps = np.linspace(0, length_mm, 7)
            pts = start + np.stack([np.cumsum(np.r_[0, np.diff(steps)] * np.cos(ang)),
                                    np.cumsum(np.r_[0, np.diff(steps)] * np.sin(ang))], 1)
            extra.append(chain(pts, np.linspace(r0, 0.35 * r0, 7), spacing=0.5))
        out = body + wound  # a scar always covers its wound
        for e in extra:
            out = out + e
        return out

    lo, hi = 0.8, 8.0
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        if _area(make(mid), length * (0.5 + mid * 0.2)) < target:
            lo = mid
        else:
            hi = mid
    lesion = make(0.5 * (lo + hi))
    extent = float(np.max(np.abs(lesion.centres)) + 3.5 * lesion.radii.max())
    return Layout(lesion, wound, extent, measure(lesion, wound, extent))

def _area(balls: Balls, extent: float, n: int = 96) -> float:
    ext = float(np.max(np.abs(balls.centres)) + 3.0 * balls.radii.max())
    ax = np.linspace(-ext, ext, n)
    x, y = np.meshgrid(ax, ax)
    step = ax[1] - ax[0]
    return float((balls.field(x, y) > LEVEL).sum() * step * step)

def measure(lesion: Balls, wound: Balls, extent: float, n: int = 160) -> dict[str, float]:
    """True area (mm^2), solidity, aspect ratio, extension ratio and widest inscribed radius (mm)."""
    from scipy import ndimage

    ax = np.linspace(-extent, extent, n)
    x, y = np.meshgrid(ax, ax)
    step = float(ax[1] - ax[0])
    mask = lesion.field(x, y) > LEVEL
    wmask = wound.field(x, y) > LEVEL
    if not mask.any():
        return {"area_mm2": 0.0, "solidity": float("nan"), "aspect_ratio": float("nan"),
                "extension_ratio": 0.0, "inscribed_mm": 0.0}
    props = skm.regionprops(mask.astype(np.uint8))[0]
    inscribed = float(ndimage.distance_transform_edt(mask).max() * step)
    return {
        "area_mm2": float(mask.sum() * step * step),
        "solidity": float(props.solidity),
        "aspect_ratio": float(props.axis_major_length / max(props.axis_minor_length, 1e-9)),
        "extension_ratio": float(mask.sum() / max(wmask.sum(), 1)),
        "inscribed_mm": inscribed,
    }
