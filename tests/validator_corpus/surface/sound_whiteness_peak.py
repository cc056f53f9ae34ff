"""Surface: highlight strength as the 99th percentile of (L* minus chroma) inside minus its median inside, over the ring's 99-50 spread.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"gloss": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 3) & (far <= 20)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"gloss": 0.0}
    lab = color.rgb2lab(image)
    white = lab[..., 0] - np.hypot(lab[..., 1], lab[..., 2])
    inside = np.percentile(white[mask], 99) - np.median(white[mask])
    around = np.percentile(white[ring], 99) - np.median(white[ring])
    return {"gloss": float(inside - around)}
