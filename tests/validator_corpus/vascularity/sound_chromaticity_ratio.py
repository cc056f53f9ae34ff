"""Vascularity: log ratio of red chromaticity R/(R+G+B), lesion over ring 3-12 px.

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"redness_contrast": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 3) & (far <= 12)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"redness_contrast": 0.0}
    rgb = image.astype(np.float64) + 1.0
    chroma = rgb[..., 0] / rgb.sum(axis=2)
    return {"redness_contrast": float(math.log(chroma[mask].mean() / chroma[ring].mean()))}
