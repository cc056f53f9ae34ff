"""Vascularity (flawed: uint8 wrap-around): R - G computed on uint8 pixels, lesion minus ring.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"redness_contrast": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 3) & (far <= 15)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"redness_contrast": 0.0}
    diff = image[..., 0] - image[..., 1]
    return {"redness_contrast": float(diff[mask].mean() - diff[ring].mean())}
