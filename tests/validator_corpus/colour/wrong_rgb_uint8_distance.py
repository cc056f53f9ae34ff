"""Colour (flawed: uint8 wrap-around): RGB distance computed on uint8 differences, lesion mean vs ring mean per pixel.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"colour_mismatch": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 3) & (far <= 15)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"colour_mismatch": 0.0}
    ref = np.round(image[ring].mean(axis=0)).astype(np.uint8)
    diff = image[mask] - ref
    return {"colour_mismatch": float(np.sqrt((diff.astype(np.float64) ** 2).sum(axis=1)).mean())}
