"""Vascularity (flawed: orientation-dependent): a* of the left half of the lesion minus a* of the right half of its ring.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


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
    lab = color.rgb2lab(image)
    cols = np.nonzero(mask.any(axis=0))[0]
    mid = (cols.min() + cols.max()) / 2.0
    xx = np.arange(mask.shape[1])[None, :] + np.zeros(mask.shape)
    left = mask & (xx <= mid)
    right = ring & (xx > mid)
    if not left.any() or not right.any():
        return {"redness_contrast": 0.0}
    return {"redness_contrast": float(lab[..., 1][left].mean() - lab[..., 1][right].mean())}
