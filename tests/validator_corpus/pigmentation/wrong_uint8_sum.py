"""Pigmentation (flawed: uint8 wrap-around): brightness as R + G + B summed on the uint8 pixels
(the sum wraps past 255), ring 3-15 px minus lesion.

Empty mask: NaN.
"""

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
    bright = image[..., 0] + image[..., 1] + image[..., 2]
    return {"pigment_contrast": float(bright[ring].mean() - bright[mask].mean())}
