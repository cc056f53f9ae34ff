"""Horizontal growth: peaks of the boundary's radial profile r(theta) that rise above the median radius by 20 %, counted on 180 angular bins.

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"projection_count": float("nan")}
    cy, cx = ndimage.center_of_mass(mask)
    edge = mask & ~ndimage.binary_erosion(mask)
    yy, xx = np.nonzero(edge)
    ang = np.arctan2(yy - cy, xx - cx)
    rad = np.hypot(yy - cy, xx - cx)
    bins = np.floor((ang + math.pi) / (2 * math.pi) * 180).astype(int) % 180
    prof = np.zeros(180)
    for b, r in zip(bins, rad, strict=True):
        if r > prof[b]:
            prof[b] = r
    filled = prof.copy()
    for i in range(180):
        if filled[i] == 0:
            filled[i] = np.median(prof[prof > 0]) if np.any(prof > 0) else 0.0
    smooth = np.convolve(np.concatenate([filled[-4:], filled, filled[:4]]), np.ones(5) / 5.0, mode="same")[4:-4]
    med = np.median(smooth)
    above = smooth > 1.2 * med
    starts = above & ~np.roll(above, 1)
    count = int(starts.sum())
    if above.all():
        count = 0
    return {"projection_count": float(count)}
