"""Surface (flawed: absolute brightness): mean V inside the lesion.

Empty mask: NaN.
"""

import numpy as np
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"gloss": float("nan")}
    hsv = color.rgb2hsv(image)
    return {"gloss": float(hsv[..., 2][mask].mean())}
