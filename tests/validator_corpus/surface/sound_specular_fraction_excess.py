"""Surface: fraction of specular pixels (V above the ring's 99th percentile, low saturation) inside minus the same fraction in the ring 3-20 px.

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
    hsv = color.rgb2hsv(image)
    v = hsv[..., 2]
    s = hsv[..., 1]
    thr = np.percentile(v[ring], 99)
    spec = (v > thr) & (s < np.median(s[ring]))
    return {"gloss": float(spec[mask].mean() - spec[ring].mean())}
