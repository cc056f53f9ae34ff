"""Scar height from the shading of its border, with the scar's own flat top as the reference.

Criterion: VSS / height — "Elevation of the scar above (or depression below) the surrounding
skin, in millimetres."
Measures: for a raised scar lit from a direction at elevation e, a wall pixel whose outward
normal makes the angle phi with the light azimuth and whose slope is theta has Lambertian
radiance proportional to  cos(theta) sin(e) + sin(theta) cos(e) cos(phi) , the flat top
proportional to sin(e). Averaged over the azimuth of the wall the cos(phi) term cancels, so
  (wall, azimuth-averaged) / (top) = cos(theta)        (the light elevation drops out),
and the shading contrast lit side vs dark side (which does scale with cot(e), the bas-relief
ambiguity) is not used. The scar's own top is the reference, so skin tone and lesion colour
cancel (ratio of the same tissue), and so does uneven illumination at first order.
Steps: linear sRGB; a specular-free shading channel S = R - B (dichromatic model: a white
specular term adds equally to R and B and cancels, the diffuse term keeps the tissue's
chromaticity times the shading), 3x3 median against noise, s = log S. Inside the mask, with
d = distance to the border and D = max d: wall band 0.1 D < d <= 0.5 D, top d > 0.75 D.
Outward normal n = -grad(d) / |grad(d)| (d smoothed, sigma 1.5 px). On the wall, a robust
least-squares fit  s = a + bx nx + by ny  (3 rounds, residuals beyond 3 robust SD dropped):
a is the azimuth-averaged wall shading, (bx, by) the lit-vs-dark term (discarded).
  height_border_shading_deficit = median_top s - a      (= -log cos(theta), natural-log units)
  height_border_slope_deg       = degrees(arccos(exp(-deficit))) (deficit clipped at 0)
A steeper (taller for its width) scar gives a larger deficit; cast shadows on the wall add to
it. Ambient light and subsurface scattering (wrapped diffuse) shrink the deficit by a roughly
constant factor, so the slope in degrees is a pure-Lambert estimate (an underestimate) and the
deficit is best read as a monotone index. Width is not used (pixel size is unknown), so this is
a slope, i.e. height per width, not millimetres.
Range: deficit about -0.2..1 (a flat scar about 0; negative when the top is darker than the
wall, e.g. a depressed centre); slope 0..90 degrees.
Empty mask: NaN for both. A lesion with no measurable wall and top (max inscribed distance under
2 px, or fewer than 5 wall / 1 top pixels with S > 0, e.g. a grey or bluish region that is not
skin-coloured): 0.0 for both (no measurable relief).
Resolution: images larger than 383 px on the long side are first reduced by block averaging
(cv2 INTER_AREA, integer factor round(long side / WORK_SIZE), WORK_SIZE = 256; the mask keeps
blocks that are at least half lesion, or any lesion block when that would leave none), so every
pixel-scale constant above (margin, smoothing, the 2 px minimum) acts at about the 256 px scale
the criterion tests validate; images up to 383 px are used as they are.
v3: the reduction above (v2 measured 512 px images at full resolution): about 3x faster at
512 px, identical results at 256 px and below.
v2: same measurement, about 4x faster (no change in meaning; values equal to v1 to float
rounding): sRGB linearisation by a 256-entry table on the uint8 crop (R and B only); the 3x3
median of R - B as cv2.medianBlur on the 16-bit rank of each (R, B) pair's value (exact: the
median of 9 values is one of them and the rank is order-preserving; replicated border, as v1's
reflect mode for 3x3); the distance transform by cv2 (L2, precise mask) with the squared
distances rounded back to integers (exact); the Gaussian by cv2 with v1's kernel (radius 6,
reflect border); the wall plane fit from the 3x3 normal equations instead of lstsq.
"""
import math

import cv2
import numpy as np

KEYS = ("height_border_shading_deficit", "height_border_slope_deg")
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
    red = image[r0:r1, c0:c1, 0].astype(np.intp)
    blue = image[r0:r1, c0:c1, 2].astype(np.intp)
    rank = np.ascontiguousarray(SHADE_RANK[red * 256 + blue])
    shade = SHADE_VALUES[cv2.medianBlur(rank, 3)]
    valid = shade > 1e-3
    wall = crop & valid & (dist > WALL[0] * dmax) & (dist <= WALL[1] * dmax)
    top = crop & valid & (dist > TOP * dmax)
    if wall.sum() < 5 or top.sum() < 1:
        return flat_result()
    s_wall = np.log(shade[wall])
    s_top = np.log(shade[top])
    coef = robust_plane(s_wall, nx[wall], ny[wall])
    deficit = float(np.median(s_top)) - float(coef[0])
    slope = math.degrees(math.acos(math.exp(-max(deficit, 0.0))))
    return {"height_border_shading_deficit": deficit, "height_border_slope_deg": slope}
