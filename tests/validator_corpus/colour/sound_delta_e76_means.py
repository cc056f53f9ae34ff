"""Colour: CIE76 delta E between mean Lab inside and in a ring 3-15 px.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


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
    lab = color.rgb2lab(image)
    d = lab[mask].mean(axis=0) - lab[ring].mean(axis=0)
    return {"colour_mismatch": float(np.sqrt((d * d).sum()))}
