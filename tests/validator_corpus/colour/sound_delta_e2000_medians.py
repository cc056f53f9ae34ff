"""Colour: CIEDE2000 between median Lab inside and median Lab in a dilation ring 4-20 px.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"colour_mismatch": float("nan")}
    outer = ndimage.binary_dilation(mask, iterations=20)
    inner = ndimage.binary_dilation(mask, iterations=4)
    ring = outer & ~inner
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"colour_mismatch": 0.0}
    lab = color.rgb2lab(image)
    inside = np.median(lab[mask], axis=0)[None, :]
    around = np.median(lab[ring], axis=0)[None, :]
    return {"colour_mismatch": float(color.deltaE_ciede2000(inside, around)[0])}
