"""Scar height from the shading of its border, in pixels: wall slope times wall width.

Criterion: VSS / height — "Elevation of the scar above (or depression below) the surrounding
skin, in millimetres."
Measures: a photograph shows height only through shading, and shading shows the slope of the
scar's wall, not its height: a low narrow scar and a tall wide one have the same walls. Slope
times the wall's width is the height; without a scale marker that width is in pixels, so the
output is the height in pixels (it rises with the camera's zoom, like every size in pixels).
For a raised scar lit from azimuth a at elevation e, a wall pixel whose outward normal points
at azimuth phi has Lambertian radiance ~ cos(theta) sin(e) + sin(theta) cos(e) cos(phi - a), so
on log luminance the wall shows a first angular harmonic (lit side bright, far side dark) of
amplitude about tan(theta) cot(e), and its azimuth-average falls below the flat top by
-log cos(theta). Steps (on the lesion's bounding box plus 4 px):
- d = distance to the border inside the mask (the frame edge counts as border), D = max d (the
  widest inscribed radius, px); outward normal n = -grad(d) / |grad(d)| (d smoothed, sigma 1.5 px);
- log luminance l = ln(mean(R, G, B) + 2) on the 8-bit values; on the border band d <= 6 px a
  robust least-squares fit  l = a + bx nx + by ny  (3 rounds, residuals beyond 3 robust SD
  dropped): A = |(bx, by)| is the lit-versus-dark amplitude (its direction, the light's azimuth,
  is discarded, so the value does not depend on where the light comes from);
  height_border_px = A * D        (the main output: wall slope times the inscribed radius)
- v3's azimuth-averaged deficit on the specular-free channel S = R - B (linear sRGB, 3x3 median):
  the same plane fit on the wall band 0.1 D < d <= 0.5 D; deficit = median_top ln S - a over
  the top d > 0.75 D, a slope estimate theta = arccos(exp(-deficit)):
  height_border_px_deficit = tan(theta) * D   (theta capped at 80 degrees)
  height_border_shading_deficit = deficit      (v3's main output, a slope index)
The light elevation scales every shading cue (cot(e)); the criterion test compares photos at the
same elevation. A flat scar gives about 0.
Range: px outputs 0..about 30 at 256 px; deficit about -0.2..1.
Empty mask: NaN for all. A lesion with no measurable wall (inscribed radius under 2 px, or fewer
than 5 border / wall pixels, or no top pixel with S > 0): 0.0 for all (no measurable relief).
Resolution: images larger than 383 px on the long side are first reduced by block averaging
(cv2 INTER_AREA, integer factor round(long side / WORK_SIZE), WORK_SIZE = 256; the mask keeps
blocks that are at least half lesion, or any lesion block when that would leave none), so the
pixel constants and the output's pixel unit act at about the 256 px scale the criterion tests
validate; images up to 383 px are used as they are.
v4 (replaces v3, which failed on phantom family B: rho 0.30-0.35 and -0.56 with the lesion's area
once height is accounted for, because a slope falls with width at a given height): the output
is a height (slope times width), not a slope.
"""
import math

import cv2
import numpy as np

KEYS = ("height_border_px", "height_border_px_deficit", "height_border_shading_deficit")
BAND_PX = 6
MAX_SLOPE_DEG = 80.0
WALL = (0.1, 0.5)
TOP = 0.75
MARGIN = 4
SIGMA = 1.5
RADIUS = 6  # int(4 * SIGMA + 0.5), scipy's default truncation

LEVELS = np.arange(256) / 255.0
LINEAR = np.where(LEVELS <= 0.04045, LEVELS / 12.92, ((LEVELS + 0.055) / 1.055) ** 2.4)
# every (R, B) pair's shading value R - B (linear), and its rank among the distinct values
PAIR_SHADE = (LINEAR[:, None] - LINEAR[None, :]).ravel()
SHADE_VALUES, PAIR_RANK = np.unique(PAIR_SHADE, return_inverse=True)
SHADE_RANK = PAIR_RANK.reshape(-1).astype(np.uint16)
WORK_SIZE = 256


def reduce(image, mask):
    """Block-average the uint8 image and the mask down to about WORK_SIZE px."""
    height, width = mask.shape
    factor = max(1, int(round(max(height, width) / WORK_SIZE)))
    if factor == 1 or height < 2 * factor or width < 2 * factor:
        return np.asarray(image), mask
    h = (height // factor) * factor
    w = (width // factor) * factor
    size = (w // factor, h // factor)
    # INTER_AREA with an integer factor is an exact block mean (and fast on uint8)
    small = cv2.resize(np.ascontiguousarray(image[:h, :w]), size, interpolation=cv2.INTER_AREA)
    share = cv2.resize(mask[:h, :w].astype("float32"), size, interpolation=cv2.INTER_AREA)
    small_mask = share >= 0.5
    if not small_mask.any():
        small_mask = share > 0
    return small, small_mask


def nan_result():
    return {key: float("nan") for key in KEYS}


def flat_result():
    return {key: 0.0 for key in KEYS}


def robust_plane(s, nx, ny):
    design = np.stack([np.ones_like(nx), nx, ny], 1)
    keep = np.ones(s.size, dtype=bool)
    coef = np.zeros(3)
    rounds = 0
    while rounds < 3 and keep.sum() >= 3:
        a = design[keep]
        coef = np.linalg.solve(a.T @ a, a.T @ s[keep])
        resid = s - design @ coef
        spread = 1.4826 * float(np.median(np.abs(resid[keep]))) + 1e-6
        keep = np.abs(resid) < 3.0 * spread
        rounds = rounds + 1
    return coef


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    if not lesion.any():
        return nan_result()
    image, lesion = reduce(image, lesion)
    rows = np.flatnonzero(lesion.any(axis=1))
    cols = np.flatnonzero(lesion.any(axis=0))
    r0 = max(int(rows[0]) - MARGIN, 0)
    r1 = min(int(rows[-1]) + MARGIN + 1, lesion.shape[0])
    c0 = max(int(cols[0]) - MARGIN, 0)
    c1 = min(int(cols[-1]) + MARGIN + 1, lesion.shape[1])
    crop = lesion[r0:r1, c0:c1]
    # the frame edge counts as border (pad with background before the distance transform)
    padded = np.pad(crop, 1).astype(np.uint8)
    d32 = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    dist = np.sqrt(np.rint(d32.astype(np.float64) ** 2))
    dmax = float(dist.max())
    if dmax < 2:
        return flat_result()
    smooth = cv2.GaussianBlur(dist, (2 * RADIUS + 1, 2 * RADIUS + 1), SIGMA, sigmaY=SIGMA,
                              borderType=cv2.BORDER_REFLECT)
    gy, gx = np.gradient(smooth)
    norm = np.hypot(gx, gy) + 1e-9
    nx = -gx / norm
    ny = -gy / norm
    band = crop & (dist <= BAND_PX)
    if band.sum() < 5:
        return flat_result()
    lum = np.log(image[r0:r1, c0:c1].astype(np.float64).mean(axis=2) + 2.0)
    coef = robust_plane(lum[band], nx[band], ny[band])
    lit_dark = float(np.hypot(coef[1], coef[2]))
    red = image[r0:r1, c0:c1, 0].astype(np.intp)
    blue = image[r0:r1, c0:c1, 2].astype(np.intp)
    rank = np.ascontiguousarray(SHADE_RANK[red * 256 + blue])
    shade = SHADE_VALUES[cv2.medianBlur(rank, 3)]
    valid = shade > 1e-3
    wall = crop & valid & (dist > WALL[0] * dmax) & (dist <= WALL[1] * dmax)
    top = crop & valid & (dist > TOP * dmax)
    deficit = 0.0
    if wall.sum() >= 5 and top.sum() >= 1:
        plane = robust_plane(np.log(shade[wall]), nx[wall], ny[wall])
        deficit = float(np.median(np.log(shade[top]))) - float(plane[0])
    theta = min(math.acos(math.exp(-max(deficit, 0.0))), math.radians(MAX_SLOPE_DEG))
    return {
        "height_border_px": lit_dark * dmax,
        "height_border_px_deficit": math.tan(theta) * dmax,
        "height_border_shading_deficit": deficit,
    }
