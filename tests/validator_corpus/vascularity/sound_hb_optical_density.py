"""Vascularity: haemoglobin optical density OD_G - OD_R (OD = -log10 of reflectance), lesion minus ring 5-25 px, trimmed means.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"redness_contrast": float("nan")}
    far = ndimage.distance_transform_edt(~mask)
    ring = (far > 5) & (far <= 25)
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"redness_contrast": 0.0}
    refl = np.clip(image.astype(np.float64) / 255.0, 1.0 / 255.0, 1.0)
    od = -np.log10(refl)
    hb = od[..., 1] - od[..., 0]
    lo_in, hi_in = np.percentile(hb[mask], [10, 90])
    lo_r, hi_r = np.percentile(hb[ring], [10, 90])
    inside = hb[mask][(hb[mask] >= lo_in) & (hb[mask] <= hi_in)]
    around = hb[ring][(hb[ring] >= lo_r) & (hb[ring] <= hi_r)]
    if inside.size == 0 or around.size == 0:
        return {"redness_contrast": float(hb[mask].mean() - hb[ring].mean())}
    return {"redness_contrast": float(inside.mean() - around.mean())}
