"""Pigmentation (flawed: skin-tone proxy): 100 - mean L* of the surrounding skin ring.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


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
    lab = color.rgb2lab(image)
    return {"pigment_contrast": float(100.0 - lab[..., 0][ring].mean())}
