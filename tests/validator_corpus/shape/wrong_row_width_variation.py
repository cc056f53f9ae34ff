"""Shape (flawed: orientation-dependent): coefficient of variation of the lesion's width per image row.

Empty mask: NaN.
"""

import numpy as np


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"shape_irregularity": float("nan")}
    widths = mask.sum(axis=1).astype(np.float64)
    widths = widths[widths > 0]
    return {"shape_irregularity": float(widths.std() / max(widths.mean(), 1.0))}
