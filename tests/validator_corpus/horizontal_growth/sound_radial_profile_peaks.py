"""Horizontal growth: prominent peaks of the boundary's radial profile r(theta) (farthest border pixel per 2-degree bin, seen from the centroid): local maxima that stand out from the valleys on both sides by at least 0.15 x the equivalent radius. Prominence, not height above the median radius, so the two ends of an elongated body count once each whatever the claws, and a claw next to an end is still counted.

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage

BINS = 180


def prominences(prof):
    """Prominence of every local maximum of a circular profile (global maximum rotated to index 0)."""
    start = int(np.argmax(prof))
    r = np.concatenate([np.roll(prof, -start), [prof[start]]])  # the global maximum at both ends
    out = [float(r[0] - r.min())]
    for i in range(1, len(r) - 1):
        if not (r[i] > r[i - 1] and r[i] >= r[i + 1]):
            continue
        left = i - 1
        while left > 0 and r[left] <= r[i]:
            left -= 1
        right = i + 1
        while right < len(r) - 1 and r[right] <= r[i]:
            right += 1
        base = max(r[left:i].min(), r[i + 1:right + 1].min())
        out.append(float(r[i] - base))
    return out


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"projection_count": float("nan")}
    cy, cx = ndimage.center_of_mass(mask)
    edge = mask & ~ndimage.binary_erosion(mask)
    yy, xx = np.nonzero(edge)
    ang = np.arctan2(yy - cy, xx - cx)
    rad = np.hypot(yy - cy, xx - cx)
    bins = np.floor((ang + math.pi) / (2 * math.pi) * BINS).astype(int) % BINS
    prof = np.zeros(BINS)
    np.maximum.at(prof, bins, rad)
    empty = prof == 0
    if empty.all():
        return {"projection_count": 0.0}
    if empty.any():  # bins no border pixel fell into (small lesions): interpolate around the circle
        idx = np.arange(BINS)
        prof[empty] = np.interp(idx[empty], idx[~empty], prof[~empty], period=BINS)
    smooth = np.convolve(np.concatenate([prof[-2:], prof, prof[:2]]), np.ones(5) / 5.0, mode="valid")
    radius = math.sqrt(float(mask.sum()) / math.pi)
    count = sum(p >= 0.15 * radius for p in prominences(smooth))
    return {"projection_count": float(count)}
