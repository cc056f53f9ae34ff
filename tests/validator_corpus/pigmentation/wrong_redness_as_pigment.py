"""Pigmentation (flawed: measures redness): mean a* inside minus ring.

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
    return {"pigment_contrast": float(lab[..., 1][mask].mean() - lab[..., 1][ring].mean())}
