"""Height: excess shading at the border: mean gradient magnitude of log luminance (shading multiplies brightness, so the log cancels skin tone) in a band 4 px either side of the border minus the same on the skin 12-30 px outside.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"elevation_cue": float("nan")}
    inside_d = ndimage.distance_transform_edt(mask)
    outside_d = ndimage.distance_transform_edt(~mask)
    lum = np.log(color.rgb2gray(image) + 0.01)
    grad = ndimage.gaussian_gradient_magnitude(lum, 1.5)
    band = (inside_d <= 4) & mask | ((outside_d > 0) & (outside_d <= 4))
    skin = (outside_d > 12) & (outside_d <= 30)
    if not skin.any():
        skin = ~mask
    if not skin.any() or not band.any():
        return {"elevation_cue": 0.0}
    return {"elevation_cue": float(grad[band].mean() - grad[skin].mean())}
