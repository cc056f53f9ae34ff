"""Size (flawed: orientation-dependent): horizontal extent of the lesion's bounding box (px).

Empty mask: NaN.
"""

import numpy as np


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"lesion_size": float("nan")}
    cols = np.nonzero(mask.any(axis=0))[0]
    return {"lesion_size": float(cols.max() - cols.min() + 1)}
