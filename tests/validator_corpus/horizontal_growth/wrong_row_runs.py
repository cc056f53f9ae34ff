"""Horizontal growth (flawed: orientation-dependent): mean number of separate runs of lesion pixels per image row.

Empty mask: NaN.
"""

import numpy as np


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"projection_count": float("nan")}
    rows = mask.any(axis=1)
    runs = (mask[:, 1:] & ~mask[:, :-1]).sum(axis=1) + mask[:, 0]
    return {"projection_count": float(runs[rows].mean())}
