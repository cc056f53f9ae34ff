"""Height (flawed: absolute brightness): mean L* inside the lesion.

Empty mask: NaN.
"""

import numpy as np
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"elevation_cue": float("nan")}
    lab_l = color.rgb2lab(image)[..., 0]
    return {"elevation_cue": float(lab_l[mask].mean())}
