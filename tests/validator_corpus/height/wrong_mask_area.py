"""Height (flawed: size instead of height): area of the mask as a fraction of the image.

Empty mask: NaN.
"""

import numpy as np


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"elevation_cue": float("nan")}
    return {"elevation_cue": float(mask.mean())}
