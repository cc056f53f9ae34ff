"""Rim erythema (flawed: uint8 wrap-around): R - G on uint8 pixels, near ring minus far ring.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"rim_redness": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    near = (far > 3) & (far <= 15)
    away = (far > 25) & (far <= 45)
    if not near.any() or not away.any():
        near = (far > 0) & (far <= max(float(far.max()) / 2.0, 1.0))
        away = far > max(float(far.max()) / 2.0, 1.0)
    if not near.any() or not away.any():
        return {"rim_redness": 0.0}
    diff = image[..., 0] - image[..., 1]
    return {"rim_redness": float(diff[near].mean() - diff[away].mean())}
