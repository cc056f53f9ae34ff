"""Size: product of the moment-ellipse major and minor axis lengths (px^2).

Empty mask: NaN.
"""

import numpy as np
from skimage import measure


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"lesion_size": float("nan")}
    props = measure.regionprops(mask.astype(np.uint8))
    if not props:
        return {"lesion_size": 0.0}
    p = props[0]
    return {"lesion_size": float(p.axis_major_length * max(p.axis_minor_length, 1.0))}
