"""Relief (flawed: orientation-dependent): mean |horizontal derivative| inside over the ring.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"relief": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 5) & (far <= 25)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"relief": 0.0}
    lab_l = color.rgb2lab(image)[..., 0]
    gx = np.abs(np.diff(lab_l, axis=1))
    m = mask[:, 1:]
    r = ring[:, 1:]
    if not m.any() or not r.any():
        return {"relief": 0.0}
    return {"relief": float(gx[m].mean() / (gx[r].mean() + 1e-3))}
