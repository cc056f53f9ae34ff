"""Surface relief: how irregular (bumpy) the scar's surface is, from the direction of its shading.

Criterion: POSAS observer / relief — "The extent to which surface irregularities are present,
preferably compared with adjacent normal skin."
Measures: a photograph shows relief through shading, and a raised scar shades in two ways. Its
smooth dome changes brightness across its contour lines only (walls lit or dark, the top between):
along a contour line (a line parallel to the border) a smooth dome's shading is nearly constant.
Bumps and nodules shade in every direction alike. So the brightness derivative along the contour
lines, over the derivative across them, is near 0 on a smooth scar and near 1 on a bumpy one;
the light's intensity and colour, the skin's tone and the camera's gain cancel in the ratio, and
the dome's own shading is its reference (normal skin, which has no dome, is smooth at this scale
too). Steps:
- log luminance l = ln(mean(R, G, B) + 2) on the 8-bit values, smoothed by a Gaussian of 1 px;
- d = distance to the border inside the mask, e = distance outside it (the frame edge counts as
  border); the contour direction is the perpendicular of n = grad(s) / |grad(s)|, s = d - e
  smoothed by a Gaussian of 2 px; pixels where |grad(s)| < 0.3 (the medial ridge, where the
  contour direction is undefined) are left out;
- on the scar's core (d > 2.5 px, so the outline's colour edge is left out):
  relief_isotropy = median |dl/dt| / median |dl/dn|   (t along, n across the contour lines).
The light elevation scales both derivatives' bump part alike but the dome part less, so the value
depends on the elevation; the criterion test compares photos at the same elevation.
Range: 0..about 1.5 (0 = a smooth dome; about 1 = shading as irregular along the contours as across).
Empty mask: NaN; a mask that covers the whole image (no border): NaN. A lesion with fewer than 5
usable pixels (core, else the whole mask): 0.0 (no measurable relief).
Resolution: images larger than 383 px on the long side are first reduced by block averaging (cv2
INTER_AREA, integer factor round(long side / 256); the mask keeps blocks that are at least half
lesion, or any lesion block when that would leave none), so the pixel constants act at about the
256 px scale the criterion tests validate.
"""
import cv2
import numpy as np

WORK_SIZE = 256
KEY = "relief_isotropy"


def reduce_to_work_size(rgb, lesion):
    factor = int(round(max(rgb.shape[:2]) / WORK_SIZE))
    if max(rgb.shape[:2]) <= 1.5 * WORK_SIZE or factor < 2:
        return rgb, lesion
    size = (max(1, rgb.shape[1] // factor), max(1, rgb.shape[0] // factor))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    share = cv2.resize(lesion.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    mask = share >= 0.5
    if not mask.any():
        mask = share > 0
    return small, mask


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    if not lesion.any() or lesion.all():
        return {KEY: float("nan")}
    rgb = np.asarray(image, dtype=np.float32)
    rgb, lesion = reduce_to_work_size(rgb, lesion)
    lum = cv2.GaussianBlur(np.log(rgb.mean(axis=2) + 2.0), (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
    padded = np.pad(lesion.astype(np.uint8), 1)
    inside = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    outside = cv2.distanceTransform(1 - padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    signed = cv2.GaussianBlur(inside - outside, (0, 0), 2.0, borderType=cv2.BORDER_REFLECT)
    sy, sx = np.gradient(signed)
    steep = np.hypot(sx, sy)
    nx, ny = sx / (steep + 1e-6), sy / (steep + 1e-6)
    ly, lx = np.gradient(lum)
    along = np.abs(ly * nx - lx * ny)
    across = np.abs(lx * nx + ly * ny)
    usable = lesion & (steep >= 0.3)
    core = usable & (inside > 2.5)
    if core.sum() < 5:
        core = usable
    if core.sum() < 5:
        return {KEY: 0.0}
    denom = float(np.median(across[core]))
    return {KEY: float(np.median(along[core]) / max(denom, 1e-4))}
