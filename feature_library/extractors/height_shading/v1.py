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
"""
import math

import numpy as np
from scipy import ndimage

KEYS = ("height_border_shading_deficit", "height_border_slope_deg")
WALL = (0.1, 0.5)
TOP = 0.75
MARGIN = 4


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
        coef = np.linalg.lstsq(design[keep], s[keep], rcond=None)[0]
        resid = s - design @ coef
        spread = 1.4826 * float(np.median(np.abs(resid[keep]))) + 1e-6
        keep = np.abs(resid) < 3.0 * spread
        rounds = rounds + 1
    return coef


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    if not lesion.any():
        return nan_result()
    rows = np.flatnonzero(lesion.any(axis=1))
    cols = np.flatnonzero(lesion.any(axis=0))
    r0 = max(int(rows[0]) - MARGIN, 0)
    r1 = min(int(rows[-1]) + MARGIN + 1, lesion.shape[0])
    c0 = max(int(cols[0]) - MARGIN, 0)
    c1 = min(int(cols[-1]) + MARGIN + 1, lesion.shape[1])
    crop = lesion[r0:r1, c0:c1]
    v = np.asarray(image[r0:r1, c0:c1, :3]).astype(np.float64) / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    # the frame edge counts as border (pad with background before the distance transform)
    dist = ndimage.distance_transform_edt(np.pad(crop, 1))[1:-1, 1:-1]
    dmax = float(dist.max())
    if dmax < 2:
        return flat_result()
    smooth = ndimage.gaussian_filter(dist, 1.5)
    gy, gx = np.gradient(smooth)
    norm = np.hypot(gx, gy) + 1e-9
    nx = -gx / norm
    ny = -gy / norm
    shade = ndimage.median_filter(lin[..., 0] - lin[..., 2], size=3)
    valid = shade > 1e-3
    s = np.log(np.maximum(shade, 1e-3))
    wall = crop & valid & (dist > WALL[0] * dmax) & (dist <= WALL[1] * dmax)
    top = crop & valid & (dist > TOP * dmax)
    if wall.sum() < 5 or top.sum() < 1:
        return flat_result()
    coef = robust_plane(s[wall], nx[wall], ny[wall])
    deficit = float(np.median(s[top])) - float(coef[0])
    slope = math.degrees(math.acos(math.exp(-max(deficit, 0.0))))
    return {"height_border_shading_deficit": deficit, "height_border_slope_deg": slope}
