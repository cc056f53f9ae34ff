"""Colour: Euclidean Lab distance of 10-90 % trimmed channel means, lesion vs ring 5-25 px.

Empty mask: NaN.
"""
import math

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"colour_mismatch": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 5) & (far <= 25)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"colour_mismatch": 0.0}
    lab = color.rgb2lab(image)
    total = 0.0
    for c in range(3):
        a = lab[..., c][mask]
        b = lab[..., c][ring]
        a = a[(a >= np.percentile(a, 10)) & (a <= np.percentile(a, 90))] if a.size > 10 else a
        b = b[(b >= np.percentile(b, 10)) & (b <= np.percentile(b, 90))] if b.size > 10 else b
        total += float(a.mean() - b.mean()) ** 2
    return {"colour_mismatch": float(math.sqrt(total))}
