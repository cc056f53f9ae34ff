"""Benign extractors (colour, shape, texture, cv2 contours) that must pass the battery.

Each is a complete module written the way the prompt asks LLMs to write them; the tests compare
their sandboxed values with plain Python running the same text.
"""

from __future__ import annotations

BENIGN: dict[str, str] = {}

BENIGN["lab_a_inside"] = '''"""Mean CIELAB a* inside the lesion.

Measures: mean a* (CIELAB, D65) over mask pixels. Range: about -20..60. Empty mask: NaN.
"""
import numpy as np
from skimage import color


def extract(image, mask):
    if not mask.any():
        return {"lab_a_inside": float("nan")}
    lab = color.rgb2lab(image)
    return {"lab_a_inside": float(lab[..., 1][mask].mean())}
'''

BENIGN["rim_delta_a"] = '''"""Rim erythema contrast.

Measures: mean a* in a ring 3-15 px outside the mask minus mean a* inside. Empty mask or empty
ring: NaN.
"""
import numpy as np
from scipy import ndimage
from skimage.color import rgb2lab


def extract(image, mask):
    outer = ndimage.binary_dilation(mask, iterations=15)
    inner = ndimage.binary_dilation(mask, iterations=3)
    ring = outer & ~inner
    if not mask.any() or not ring.any():
        return {"rim_delta_a": float("nan")}
    a = rgb2lab(image)[..., 1]
    return {"rim_delta_a": float(a[ring].mean() - a[mask].mean())}
'''

BENIGN["area_perimeter"] = '''"""Area fraction and perimeter of the mask.

Measures: mask pixels / image pixels, and the skimage perimeter (px). Range: 0..1 and 0..inf.
"""
from skimage import measure


def extract(image, mask):
    frac = float(mask.sum()) / float(mask.size)
    return {"area_fraction": frac, "perimeter_px": float(measure.perimeter(mask))}
'''

BENIGN["cv2_solidity"] = '''"""Solidity of the largest contour (cv2).

Measures: contour area / convex hull area of the largest external contour. Range 0..1.
Empty mask or degenerate contour: NaN.
"""
import cv2
import numpy as np


def extract(image, mask):
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if len(contours) == 0:
        return {"solidity": float("nan")}
    largest = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(largest)
    hull_area = cv2.contourArea(hull)
    if hull_area <= 0:
        return {"solidity": float("nan")}
    return {"solidity": float(cv2.contourArea(largest) / hull_area)}
'''

BENIGN["cv2_circularity"] = '''"""Circularity of the mask outline (cv2).

Measures: 4 pi area / perimeter^2 summed over external contours. Range 0..~1.
Empty mask or zero perimeter: NaN.
"""
import math

import cv2
import numpy as np


def extract(image, mask):
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area = sum(cv2.contourArea(c) for c in contours)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    if perimeter <= 0:
        return {"circularity": float("nan")}
    return {"circularity": float(4.0 * math.pi * area / perimeter ** 2)}
'''

BENIGN["glcm_contrast"] = '''"""GLCM contrast and homogeneity of the grey lesion box.

Measures: skimage graycoprops contrast/homogeneity at distance 1, angles 0 and 90 degrees, on
the bounding box of the mask quantised to 32 levels. Empty mask: NaN.
"""
import numpy as np
from skimage.feature import graycomatrix, graycoprops


def extract(image, mask):
    if not mask.any():
        return {"glcm_contrast": float("nan"), "glcm_homogeneity": float("nan")}
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    box = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float64)
    grey = (box.mean(axis=2) / 8.0).astype(np.uint8)
    glcm = graycomatrix(grey, distances=[1], angles=[0.0, np.pi / 2], levels=32, symmetric=True, normed=True)
    return {
        "glcm_contrast": float(graycoprops(glcm, "contrast").mean()),
        "glcm_homogeneity": float(graycoprops(glcm, "homogeneity").mean()),
    }
'''

BENIGN["lbp_uniformity"] = '''"""Local binary pattern uniformity inside the mask.

Measures: fraction of mask pixels whose uniform LBP code (P=8, R=1) is below 9. Empty mask: NaN.
"""
import numpy as np
from skimage.color import rgb2gray
from skimage.feature import local_binary_pattern


def extract(image, mask):
    if not mask.any():
        return {"lbp_uniform_fraction": float("nan")}
    grey = (rgb2gray(image) * 255).astype(np.uint8)
    lbp = local_binary_pattern(grey, 8, 1, method="uniform")
    return {"lbp_uniform_fraction": float(np.mean(lbp[mask] < 9))}
'''

BENIGN["hsv_saturation"] = '''"""Saturation statistics inside the lesion (HSV).

Measures: mean and standard deviation of HSV saturation over the mask. Range 0..1. Empty mask: NaN.
"""
import numpy as np
from skimage import color


def extract(image, mask):
    if not mask.any():
        return {"sat_mean": float("nan"), "sat_std": float("nan")}
    s = color.rgb2hsv(image)[..., 1][mask]
    return {"sat_mean": float(s.mean()), "sat_std": float(s.std())}
'''

BENIGN["components"] = '''"""Connected components of the mask.

Measures: number of 8-connected components, and the largest one's share of the mask area.
Empty mask: 0 components and NaN share.
"""
import numpy as np
import scipy.ndimage as ndi


def extract(image, mask):
    labels, n = ndi.label(mask, structure=np.ones((3, 3)))
    if n == 0:
        return {"n_components": 0.0, "largest_share": float("nan")}
    sizes = np.bincount(labels.ravel())[1:]
    return {"n_components": float(n), "largest_share": float(sizes.max() / sizes.sum())}
'''

BENIGN["boundary_gradient"] = '''"""Mean grey-level gradient magnitude on the mask boundary.

Measures: Sobel gradient magnitude (skimage.filters.sobel on grey in 0..1) averaged over
boundary pixels (mask minus its erosion). Empty mask: NaN.
"""
import numpy as np
from scipy import ndimage
from skimage import filters
from skimage.color import rgb2gray


def extract(image, mask):
    boundary = mask & ~ndimage.binary_erosion(mask)
    if not boundary.any():
        return {"boundary_gradient": float("nan")}
    grad = filters.sobel(rgb2gray(image))
    return {"boundary_gradient": float(grad[boundary].mean())}
'''

BENIGN["regionprops_shape"] = '''"""Eccentricity and extent of the largest region (skimage regionprops).

Range: 0..1 each. Empty mask: NaN.
"""
import numpy as np
from skimage import measure


def extract(image, mask):
    props = measure.regionprops(measure.label(mask))
    if len(props) == 0:
        return {"eccentricity": float("nan"), "extent": float("nan")}
    largest = max(props, key=lambda p: p.area)
    return {"eccentricity": float(largest.eccentricity), "extent": float(largest.extent)}
'''

BENIGN["ita_skin"] = '''"""Individual typology angle (ITA) of the skin outside the mask.

Measures: ITA = atan2(L* - 50, b*) in degrees from mean CIELAB outside the mask.
Range about -90..90. Full mask (no skin): NaN.
"""
import math

import numpy as np
from skimage import color


def extract(image, mask):
    skin = ~mask
    if not skin.any():
        return {"ita_deg": float("nan")}
    lab = color.rgb2lab(image)
    lightness = float(lab[..., 0][skin].mean())
    b = float(lab[..., 2][skin].mean())
    return {"ita_deg": math.degrees(math.atan2(lightness - 50.0, b))}
'''

BENIGN["cv2_hu_moment"] = '''"""First Hu moment of the mask (cv2), log-scaled.

Measures: -sign(h1) * log10(|h1|) of the binary mask's first Hu moment. Empty mask: NaN.
"""
import math

import cv2
import numpy as np


def extract(image, mask):
    m = cv2.moments(mask.astype(np.uint8), True)
    if m["m00"] == 0:
        return {"hu1_log": float("nan")}
    h1 = float(cv2.HuMoments(m)[0, 0])
    if h1 == 0:
        return {"hu1_log": 0.0}
    return {"hu1_log": -math.copysign(1.0, h1) * math.log10(abs(h1))}
'''

BENIGN["redness_float"] = '''"""Red minus green inside the lesion, computed in float (no uint8 wrap-around).

Measures: mean(R - G) over the mask in 0..255 units. Range -255..255. Empty mask: NaN.
"""
import numpy as np


def extract(image, mask):
    if not mask.any():
        return {"red_minus_green": float("nan")}
    rgb = image.astype(np.float64)
    diff = rgb[..., 0] - rgb[..., 1]
    return {"red_minus_green": float(diff[mask].mean())}
'''

BENIGN["ratio_errstate"] = '''"""Red/green ratio inside the lesion, with numpy's division warnings silenced.

Measures: mean of R / G over mask pixels with G > 0 (pixels with G = 0 are skipped).
Range 0..255. Empty mask or no pixel with G > 0: NaN.
"""
import numpy as np


def extract(image, mask):
    rgb = image.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = rgb[..., 0] / rgb[..., 1]
    valid = mask & (rgb[..., 1] > 0)
    if not valid.any():
        return {"red_green_ratio": float("nan")}
    return {"red_green_ratio": float(ratio[valid].mean())}
'''
