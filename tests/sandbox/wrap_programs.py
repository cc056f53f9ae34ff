"""Extractors for the uint8 wrap-around probe: real wrap-around bugs and noisy but correct code.

``WRAPPING`` programs subtract colour channels on uint8 (so R - G = -1 becomes 255) in the ways
LLM-written code does; the battery must flag each. ``SOUND`` programs are correct, several of
them texture statistics on rounded grey levels whose values wobble from probe to probe (the
false alarms of issue 11); the battery must pass each.
"""

from __future__ import annotations

_HEAD = '''"""{doc}

Criterion: test program. Empty, one-pixel or full mask: NaN.
"""
import cv2
import numpy as np
from skimage.color import rgb2hsv, rgb2lab
from skimage.feature import graycomatrix, graycoprops, local_binary_pattern
from skimage.measure import shannon_entropy


def extract(image, mask):
    if mask.sum() < 2 or mask.all():
        return {{"{key}": float("nan")}}
    r = image[..., 0]
    g = image[..., 1]
    b = image[..., 2]
'''


def _program(doc: str, key: str, body: str) -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return _HEAD.format(doc=doc, key=key) + lines + "\n"


WRAPPING: dict[str, str] = {
    "mean_r_minus_g": _program("Mean R - G (uint8 bug).", "redness",
                               'return {"redness": float((r - g)[mask].mean())}'),
    "mean_g_minus_r": _program("Mean G - R (uint8 bug).", "greenness",
                               'return {"greenness": float((g - r)[mask].mean())}'),
    "log_redness": _program("Log of the mean R - G (uint8 bug).", "log_redness",
                            'return {"log_redness": float(np.log1p((r - g)[mask].mean()))}'),
    "abs_r_minus_g": _program("Mean |R - G| (uint8 bug: abs of a wrapped difference).", "abs_rg",
                              'return {"abs_rg": float(np.abs(r - g)[mask].mean())}'),
    "p90_r_minus_g": _program("90th percentile of R - G / 255 (uint8 bug).", "p90_rg",
                              'return {"p90_rg": float(np.percentile((r - g)[mask], 90) / 255.0)}'),
    "sqrt_redness": _program("Square root of the median R - G (uint8 bug).", "sqrt_rg",
                             'return {"sqrt_rg": float(np.sqrt(np.median((r - g)[mask])))}'),
    "erythema_offset": _program("Erythema score 100 + (R - G) / 100 (uint8 bug; large offset).", "score",
                                'return {"score": float(100.0 + (r - g)[mask].mean() / 100.0)}'),
    # lesion minus surrounding skin on uint8: on a uniform patch both sides wrap alike and the
    # contrast hardly moves; only a probe that moves R - G inside the mask alone sees it (issue 11)
    "lesion_minus_ring_uint8": _program(
        "Lesion-minus-ring redness contrast: mean R - G in the lesion minus a 6 px ring (uint8 bug).", "contrast", '''
m8 = mask.astype(np.uint8)
ring = (cv2.dilate(m8, np.ones((13, 13), np.uint8)) > 0) & ~mask
if not ring.any():
    ring = ~mask
rg = r - g
return {"contrast": float(rg[mask].mean() - rg[ring].mean())}'''),
    "near_ring_minus_far_skin_uint8": _program(
        "Rim erythema: R - G of the skin 3-15 px from the lesion minus 25-45 px away (uint8 bug).", "rim", '''
from_lesion = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
near = (from_lesion > 3) & (from_lesion <= 15)
away = from_lesion > 25
if not near.any() or not away.any():
    return {"rim": 0.0}
rg = r - g
return {"rim": float(rg[near].mean() - rg[away].mean())}'''),
    "lesion_minus_outside_median_uint8": _program(
        "Median R - G of the lesion minus that of all outside skin (uint8 bug).", "contrast",
        'rg = r - g\nreturn {"contrast": float(np.median(rg[mask]) - np.median(rg[~mask]))}'),
}

SOUND: dict[str, str] = {
    "mean_r_minus_g_float": _program("Mean R - G in float.", "redness",
                                     'return {"redness": float((r.astype(float) - g)[mask].mean())}'),
    "fraction_r_gt_g": _program("Fraction of lesion pixels with R > G.", "frac",
                                'return {"frac": float((r > g)[mask].mean())}'),
    "abs_r_minus_g_int": _program("Mean |R - G| in int.", "abs_rg",
                                  'return {"abs_rg": float(np.abs(r.astype(int) - g)[mask].mean())}'),
    "lbp_entropy_cv2_grey": _program(
        "Entropy (bits) of uniform LBP codes (P=8, R=1) of the cv2 grey image inside the mask.", "lbp_entropy", '''
grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
codes = local_binary_pattern(grey.astype(float), 8, 1, method="uniform")
hist = np.bincount(codes[mask].astype(int), minlength=10).astype(float)
p = hist / hist.sum()
p = p[p > 0]
return {"lbp_entropy": float(-(p * np.log2(p)).sum())}'''),
    "lbp_entropy_uint8_grey": _program(
        "Entropy (bits) of uniform LBP codes of a luma grey image cast to uint8.", "lbp_entropy", '''
grey = (0.299 * r + 0.587 * g + 0.114 * b).astype(np.uint8)
codes = local_binary_pattern(grey, 8, 1, method="uniform")
hist = np.bincount(codes[mask].astype(int), minlength=10).astype(float)
p = hist / hist.sum()
p = p[p > 0]
return {"lbp_entropy": float(-(p * np.log2(p)).sum())}'''),
    "glcm_correlation_cv2_grey": _program(
        "Mean GLCM correlation (distance 1, four angles, 256 levels) of the lesion box.", "glcm_corr", '''
grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
ys, xs = np.nonzero(mask)
box = grey[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
glcm = graycomatrix(box, [1], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], levels=256, symmetric=True, normed=True)
return {"glcm_corr": float(np.nan_to_num(graycoprops(glcm, "correlation")).mean())}'''),
    "glcm_contrast_lightness": _program(
        "Mean GLCM contrast of 64-level CIELAB lightness in the lesion box.", "glcm_contrast", '''
light = rgb2lab(image)[..., 0]
ys, xs = np.nonzero(mask)
box = light[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
levels = np.clip(box / 100.0 * 63.0, 0, 63).astype(np.uint8)
glcm = graycomatrix(levels, [1], [0, np.pi / 2], levels=64, symmetric=True, normed=True)
return {"glcm_contrast": float(graycoprops(glcm, "contrast").mean())}'''),
    "grey_entropy": _program("Shannon entropy of the uint8 grey lesion pixels.", "grey_entropy", '''
grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
return {"grey_entropy": float(shannon_entropy(grey[mask]))}'''),
    "mean_hue_cv2": _program("Mean OpenCV hue (0-179) inside the lesion.", "hue",
                             'hsv = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2HSV)\n'
                             'return {"hue": float(hsv[..., 0][mask].mean())}'),
    "mean_hue_skimage": _program("Mean hue (0-1) inside the lesion.", "hue",
                                 'return {"hue": float(rgb2hsv(image)[..., 0][mask].mean())}'),
    "lab_a_star": _program("Mean CIELAB a* inside the lesion.", "a_star",
                           'return {"a_star": float(rgb2lab(image)[..., 1][mask].mean())}'),
    "lesion_minus_ring_float": _program(
        "Lesion-minus-ring redness contrast: mean R - G in the lesion minus a 6 px ring, in float.", "contrast", '''
m8 = mask.astype(np.uint8)
ring = (cv2.dilate(m8, np.ones((13, 13), np.uint8)) > 0) & ~mask
if not ring.any():
    ring = ~mask
rg = r.astype(np.float64) - g.astype(np.float64)
return {"contrast": float(rg[mask].mean() - rg[ring].mean())}'''),
    "near_ring_minus_far_skin_float": _program(
        "Rim erythema: R - G of the skin 3-15 px from the lesion minus 25-45 px away, in float.", "rim", '''
from_lesion = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
near = (from_lesion > 3) & (from_lesion <= 15)
away = from_lesion > 25
if not near.any() or not away.any():
    return {"rim": 0.0}
rg = r.astype(np.float64) - g.astype(np.float64)
return {"rim": float(rg[near].mean() - rg[away].mean())}'''),
    "lesion_minus_ring_a_star": _program(
        "Lesion-minus-ring CIELAB a* contrast (medians).", "delta_a", '''
a = rgb2lab(image)[..., 1]
return {"delta_a": float(np.median(a[mask]) - np.median(a[~mask]))}'''),
}
