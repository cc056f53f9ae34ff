"""Pigmentation (flawed: orientation-dependent): L* of the lower half of the lesion minus L* of its upper half.

Empty mask: NaN.
"""

import numpy as np
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"pigment_contrast": float("nan")}
    lab = color.rgb2lab(image)
    rows = np.nonzero(mask.any(axis=1))[0]
    mid = (rows.min() + rows.max()) / 2.0
    yy = np.arange(mask.shape[0])[:, None] + np.zeros(mask.shape)
    top = mask & (yy <= mid)
    bottom = mask & (yy > mid)
    if not top.any() or not bottom.any():
        return {"pigment_contrast": 0.0}
    return {"pigment_contrast": float(lab[..., 0][bottom].mean() - lab[..., 0][top].mean())}
