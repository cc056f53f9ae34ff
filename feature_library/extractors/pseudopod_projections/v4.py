"""Claw-like projections (pseudopods) of the lesion into the surrounding skin.

Criterion: JSW / horizontal_growth — "Growth of the lesion beyond the margins of the original
wound, typically as claw-like or crab-leg projections into the surrounding skin."
Measures:
  pseudopod_notch_count   = convexity defects (cv2.convexityDefects on each outer contour holding
                            at least 2 % of the area) deeper than NOTCH_DEPTH * R_eq: the notches
                            between a projection and the body or the next projection
  pseudopod_opening_count = pieces cut off by a morphological opening with a disc of radius
                            r = OPEN_FRACTION * R_in (R_in = the largest inscribed radius) that hold
                            at least MIN_PIECE * A; opening via distance transforms:
                            core = {EDT(mask) >= r}, opened = {EDT(~core) <= r}
  pseudopod_area_fraction = |mask - opened| / A                              (0..1)
  pseudopod_max_reach     = max over pieces of (max EDT(~opened) in the piece) / R_eq
R_eq = sqrt(A / pi) px. Resolution-free (ratios and counts). v3 leads with the notch count: on the
validation phantoms it tracks the pseudopod count with Spearman ~0.9, the opening count ~0.56.
Speed: for the opening, masks larger than WORK_SIZE px on the long side are first reduced by an exact block
mean (cv2 INTER_AREA, integer factor round(long side / WORK_SIZE)), keeping blocks at least half
lesion; every output is a ratio or a count, so the reduction does not change its meaning.
Range: counts 0..~20, fractions 0..1, reach 0..~3. Empty mask: NaN for all four.
v4: same features as v3, faster: the distance transforms by cv2 (exact L2, the squared
distances rounded back to integers) instead of scipy.ndimage; identical values.
"""
import math

import cv2
import numpy as np
from scipy import ndimage

OPEN_FRACTION = 0.55
MIN_PIECE = 0.01
WORK_SIZE = 256
NOTCH_DEPTH = 0.1
KEYS = ("pseudopod_notch_count", "pseudopod_opening_count", "pseudopod_area_fraction",
        "pseudopod_max_reach")


def edt(region):
    """scipy.ndimage.distance_transform_edt(region), exactly: cv2's exact L2 transform, with the
    squared distances (integers) rounded back before the square root."""
    d32 = cv2.distanceTransform(np.ascontiguousarray(region, dtype=np.uint8), cv2.DIST_L2,
                                cv2.DIST_MASK_PRECISE)
    return np.sqrt(np.rint(d32.astype(np.float64) ** 2))


def reduce(mask):
    """Block-mean the mask down to about WORK_SIZE px (kept when already small)."""
    height, width = mask.shape
    factor = max(1, int(round(max(height, width) / WORK_SIZE)))
    if factor == 1 or height < 2 * factor or width < 2 * factor:
        return mask
    h = (height // factor) * factor
    w = (width // factor) * factor
    share = cv2.resize(mask[:h, :w].astype("float32"), (w // factor, h // factor),
                       interpolation=cv2.INTER_AREA)
    small = share >= 0.5
    return small if small.any() else share > 0


def notch_count(lesion):
    """Convexity defects deeper than NOTCH_DEPTH * R_eq on the outer contours of the mask."""
    area = float(np.count_nonzero(lesion))
    depth_min = NOTCH_DEPTH * math.sqrt(area / math.pi)
    found = cv2.findContours(np.pad(lesion, 1).astype("uint8"), cv2.RETR_EXTERNAL,
                             cv2.CHAIN_APPROX_NONE)
    contours = found[0] if len(found) == 2 else found[1]
    count = 0
    for contour in contours:
        if len(contour) < 4 or abs(float(cv2.contourArea(contour))) < 0.02 * area:
            continue
        index = cv2.convexHull(contour, returnPoints=False)
        if index is None or len(index) < 3:
            continue
        defects = cv2.convexityDefects(contour, np.sort(index.reshape(-1)).reshape(-1, 1))
        if defects is not None:
            depth = defects.reshape(-1, 4)[:, 3].astype("float64") / 256.0
            count = count + int(np.count_nonzero(depth >= depth_min))
    return float(count)


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    if not lesion.any():
        return {key: float("nan") for key in KEYS}
    notches = notch_count(lesion)
    lesion = reduce(lesion)
    area = float(np.count_nonzero(lesion))
    if area == 0:
        return {key: float("nan") for key in KEYS}
    rows = np.flatnonzero(np.any(lesion, axis=1))
    cols = np.flatnonzero(np.any(lesion, axis=0))
    sub = np.pad(lesion[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 2)
    inside = edt(sub)
    radius = OPEN_FRACTION * float(inside.max())
    if radius < 1.0:  # too thin to have a body distinct from projections
        return {"pseudopod_notch_count": notches, "pseudopod_opening_count": 0.0,
                "pseudopod_area_fraction": 0.0, "pseudopod_max_reach": 0.0}
    core = inside >= radius
    opened = (edt(~core) <= radius) & sub
    rest = sub & ~opened
    pieces, count = ndimage.label(rest, structure=np.ones((3, 3)))
    if count == 0:
        return {"pseudopod_notch_count": notches, "pseudopod_opening_count": 0.0,
                "pseudopod_area_fraction": 0.0, "pseudopod_max_reach": 0.0}
    index = np.arange(1, count + 1)
    sizes = ndimage.sum_labels(np.ones(sub.shape), pieces, index=index)
    keep = sizes >= MIN_PIECE * area
    reach_map = edt(~opened)
    reach = ndimage.maximum(reach_map, pieces, index=index)
    r_eq = math.sqrt(area / math.pi)
    kept_reach = np.asarray(reach)[keep]
    return {
        "pseudopod_notch_count": notches,
        "pseudopod_opening_count": float(np.count_nonzero(keep)),
        "pseudopod_area_fraction": float(np.sum(np.asarray(sizes)[keep]) / area),
        "pseudopod_max_reach": float(kept_reach.max() / r_eq) if kept_reach.size else 0.0,
    }
