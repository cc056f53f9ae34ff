"""Horizontal growth: number of concavities (connected parts of convex hull minus mask) deeper than 0.15 x the equivalent radius.

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage
from skimage import morphology


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"projection_count": float("nan")}
    hull = morphology.convex_hull_image(mask)
    gaps = hull & ~mask
    radius = math.sqrt(float(mask.sum()) / math.pi)
    labels, n = ndimage.label(gaps)
    depth = ndimage.distance_transform_edt(~mask)
    count = 0
    for idx in range(1, n + 1):
        if depth[labels == idx].max() >= 0.15 * radius:
            count += 1
    return {"projection_count": float(count)}
