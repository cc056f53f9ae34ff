"""Height (flawed: uint8 wrap-around): border shading as the mean absolute horizontal and
vertical pixel differences of the green channel taken on uint8 (a darkening step wraps to ~255),
band 4 px either side of the border minus the skin 12-30 px out.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"elevation_cue": float("nan")}
    g = image[..., 1]
    dx = np.zeros(g.shape, dtype=np.uint8)
    dy = np.zeros(g.shape, dtype=np.uint8)
    dx[:, 1:] = g[:, 1:] - g[:, :-1]
    dy[1:, :] = g[1:, :] - g[:-1, :]
    grad = dx.astype(float) + dy.astype(float)
    inside_d = ndimage.distance_transform_edt(mask)
    outside_d = ndimage.distance_transform_edt(~mask)
    band = (mask & (inside_d <= 4)) | ((outside_d > 0) & (outside_d <= 4))
    skin = (outside_d > 12) & (outside_d <= 30)
    if not skin.any() or not band.any():
        return {"elevation_cue": 0.0}
    return {"elevation_cue": float(grad[band].mean() - grad[skin].mean())}
