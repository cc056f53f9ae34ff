"""Lesion size and extent, relative to the field of view.

Criterion: JSW / size — "Size of the lesion (maximum diameter times minimum diameter, cm^2);
larger lesions score higher."
Measures (no physical scale is known from the pixels alone, so sizes are fractions of the image):
  size_area_fraction     = A / (H * W)                             (lesion area, 0..1)
  size_diameter_product  = D_max * D_min / (H * W)                 (JSW's max x min diameter)
  size_major_axis_fraction = D_max / sqrt(H * W)
D_max, D_min: major and minor axis lengths of the moment ellipse of the whole mask,
D = 4 * sqrt(lambda) with lambda the eigenvalues of the pixel-coordinate covariance (px).
With a calibration marker, multiply by (H * W) / (px per mm)^2 to get mm^2.
Range: 0..1 (the product can reach ~1.3 for a full mask). Empty mask: NaN for all three.
"""
import math

import numpy as np

KEYS = ("size_area_fraction", "size_diameter_product", "size_major_axis_fraction")


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    height, width = lesion.shape
    field = float(height * width)
    area = float(np.count_nonzero(lesion))
    if area == 0:
        return {key: float("nan") for key in KEYS}
    ys, xs = np.nonzero(lesion)
    ys = ys.astype("float64")
    xs = xs.astype("float64")
    dy = ys - ys.mean()
    dx = xs - xs.mean()
    # 1/12 px^2 per axis: the variance of a unit pixel, so a one-pixel mask has axes of 1 px.
    syy = float(np.mean(dy * dy)) + 1.0 / 12.0
    sxx = float(np.mean(dx * dx)) + 1.0 / 12.0
    sxy = float(np.mean(dx * dy))
    half_trace = 0.5 * (sxx + syy)
    spread = math.sqrt(max(0.25 * (sxx - syy) ** 2 + sxy * sxy, 0.0))
    major = 4.0 * math.sqrt(half_trace + spread)
    minor = 4.0 * math.sqrt(max(half_trace - spread, 0.0))
    return {
        "size_area_fraction": area / field,
        "size_diameter_product": major * minor / field,
        "size_major_axis_fraction": major / math.sqrt(field),
    }
