"""Size: mask area in pixels over the image area.

Empty mask: NaN.
"""

import numpy as np


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"lesion_size": float("nan")}
    return {"lesion_size": float(mask.sum()) / float(mask.size)}
