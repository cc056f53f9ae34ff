"""Surface (flawed: skin-tone proxy): brightness of the skin ring 3-20 px around the lesion (99th
percentile of V), which reads how light the skin is, not how shiny the scar is.

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
    v = color.rgb2hsv(image)[..., 2]
    return {"gloss": float(np.percentile(v[ring], 99))}
