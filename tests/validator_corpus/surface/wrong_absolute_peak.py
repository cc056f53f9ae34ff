"""Surface (flawed: absolute, no skin reference): 99th percentile of V inside.

Empty mask: NaN.
"""

import numpy as np
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"gloss": float("nan")}
    hsv = color.rgb2hsv(image)
    return {"gloss": float(np.percentile(hsv[..., 2][mask], 99))}
