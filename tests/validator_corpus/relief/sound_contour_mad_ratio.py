"""Relief: robust spread (MAD) of the green-channel log derivative along the scar's contour lines
over its spread across them, on the scar core (the border's colour edge left out).

Shading is a brightness factor, so the log of any channel carries it; bumps shade along the
contour lines, a smooth dome only across them. MAD keeps glints and vessels from dominating.
Empty mask: NaN.
"""

import cv2
import numpy as np


def mad(values):
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any() or mask.all():
        return {"relief": float("nan")}
    green = np.log(np.asarray(image, dtype=np.float32)[..., 1] + 2.0)
    green = cv2.GaussianBlur(green, (0, 0), 0.9)
    m8 = np.pad(mask.astype(np.uint8), 1)
    inside = cv2.distanceTransform(m8, cv2.DIST_L2, 5)[1:-1, 1:-1]
    outside = cv2.distanceTransform(1 - m8, cv2.DIST_L2, 5)[1:-1, 1:-1]
    level = cv2.GaussianBlur(inside - outside, (0, 0), 2.0)
    ly = cv2.Sobel(level, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    lx = cv2.Sobel(level, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    norm = np.sqrt(lx * lx + ly * ly)
    core = mask & (inside > 2.5) & (norm > 0.3)
    if core.sum() < 5:
        core = mask
    gy = cv2.Sobel(green, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    gx = cv2.Sobel(green, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    nx = lx / (norm + 1e-6)
    ny = ly / (norm + 1e-6)
    along = (gy * nx - gx * ny)[core]
    across = (gx * nx + gy * ny)[core]
    return {"relief": float(mad(along) / (mad(across) + 1e-6))}
