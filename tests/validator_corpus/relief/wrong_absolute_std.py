"""Relief (flawed: no skin reference): standard deviation of L* inside the lesion.

Empty mask: NaN.
"""

import numpy as np
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"relief": float("nan")}
    lab_l = color.rgb2lab(image)[..., 0]
    return {"relief": float(lab_l[mask].std())}
