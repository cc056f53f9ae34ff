"""Pigmentation (signed): log ratio of the melanin index MI = -log10(R) (red optical density), lesion over ring 3-15 px.

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"pigment_contrast": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 3) & (far <= 15)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"pigment_contrast": 0.0}
    red = np.clip(image[..., 0].astype(np.float64) / 255.0, 1.0 / 255.0, 1.0)
    mi = -np.log10(red) + 0.01
    return {"pigment_contrast": float(math.log(mi[mask].mean() / mi[ring].mean()))}
