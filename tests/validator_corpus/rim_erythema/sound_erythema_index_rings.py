"""Rim erythema: erythema index 100*log10(R/G), median 2-7 px outside minus median 20-40 px
outside. The near ring hugs the border: the halo is 1-4 mm wide and fades outwards, so a ring
reaching 15 px out (up to 6 mm) mostly averages unaffected skin; it starts 2 px out so camera
blur does not bring the lesion's own colour in (corpus fix, session 2).

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"rim_redness": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    near = (far > 2) & (far <= 7)
    away = (far > 20) & (far <= 40)
    if not near.any() or not away.any():
        near = (far > 0) & (far <= max(float(far.max()) / 2.0, 1.0))
        away = far > max(float(far.max()) / 2.0, 1.0)
    if not near.any() or not away.any():
        return {"rim_redness": 0.0}
    rgb = image.astype(np.float64) + 1.0
    ei = 100.0 * np.log10(rgb[..., 0] / rgb[..., 1])
    return {"rim_redness": float(np.median(ei[near]) - np.median(ei[away]))}
