"""Horizontal growth: number of parts that an isotropic morphological opening (radius 0.35 x the equivalent radius) removes and that are longer than 0.25 x that radius.

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
    area = float(mask.sum())
    radius = math.sqrt(area / math.pi)
    r = max(int(round(0.35 * radius)), 1)
    opened = morphology.isotropic_opening(mask, r)
    residue = mask & ~opened
    labels, n = ndimage.label(residue)
    if n == 0 or not opened.any():
        return {"projection_count": 0.0}
    reach = ndimage.distance_transform_edt(~opened)
    depths = ndimage.maximum(reach, labels, index=np.arange(1, n + 1))
    count = int(np.sum(np.asarray(depths) >= 0.25 * radius))
    return {"projection_count": float(count)}
