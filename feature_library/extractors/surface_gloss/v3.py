"""Surface gloss: specular highlights on the scar.

Criterion: Manchester / surface — "Appearance of the scar surface: matte like normal skin, or
shiny."
Measures: a dichromatic reflection model, pixel = diffuse (the region's own colour) + specular
(the illuminant's colour, ~white after white balance). In linear sRGB, with k = the region's
median blue/red ratio (its diffuse chromaticity, capped at 0.9), the specular part of a pixel is
  s = (B - k * R) / (1 - k)
(exact for a neutral illuminant: the diffuse term cancels, the white term remains). With
S = s smoothed by a Gaussian (sigma = 0.7 px, against single-pixel noise):
  gloss_specular_peak    = max_lesion S      (the strongest highlight on the scar)
  gloss_specular_peak_over_skin = max_lesion S - max_skin S   (beyond the skin's own glints)
  gloss_specular_excess  = fraction of lesion pixels with s > 0.1 * median R minus the same
      fraction on reference skin (glinting area beyond the skin's own)
Reference skin: outside pixels at or beyond the 60th percentile of outside distances.
Speed: images larger than WORK_SIZE px on the long side are first reduced by block averaging
(cv2 INTER_AREA, integer factor round(long side / WORK_SIZE); the mask keeps blocks that are at
least half lesion, or any lesion block when that would leave none); images up to 383 px are used
as is.
Range: peaks in linear intensity, about -0.2..1.2 (0 = no highlight); excess a fraction, -1..1.
Empty mask: NaN for all three. Mask covering the whole image (no skin): skin terms taken as 0.
v3: same measurement, about 2-3x faster (no change in meaning; values equal to v2 to float
rounding): sRGB linearisation by a 256-entry table on the uint8 reduced image (R and B only);
the Gaussian by cv2 with v2's kernel (radius 3, reflect border), on the lesion's bounding box
plus the kernel radius for the lesion term (same values as on the whole image); the outside
distance transform by cv2 (L2, precise mask) with the squared distances rounded back to
integers (exact).
"""
import cv2
import numpy as np

FAR_QUANTILE = 0.6
WORK_SIZE = 256
SMOOTH_SIGMA = 0.7
RADIUS = 3  # int(4 * SMOOTH_SIGMA + 0.5), scipy's default truncation
GLINT_FRACTION = 0.1
KEYS = ("gloss_specular_peak", "gloss_specular_peak_over_skin", "gloss_specular_excess")

LEVELS = np.arange(256) / 255.0
LINEAR = np.where(LEVELS <= 0.04045, LEVELS / 12.92, ((LEVELS + 0.055) / 1.055) ** 2.4)


def specular(red, blue, region):
    k = min(float(np.median(blue[region] / np.maximum(red[region], 1e-3))), 0.9)
    spec = cv2.GaussianBlur((blue - k * red) / (1.0 - k), (2 * RADIUS + 1, 2 * RADIUS + 1),
                            SMOOTH_SIGMA, sigmaY=SMOOTH_SIGMA, borderType=cv2.BORDER_REFLECT)
    inside = spec[region]
    glint = float(np.mean(inside > GLINT_FRACTION * max(float(np.median(red[region])), 1e-3)))
    return float(inside.max()), glint


def reduce(image, mask):
    """Block-average the uint8 image and the mask down to about WORK_SIZE px."""
    height, width = mask.shape
    factor = max(1, int(round(max(height, width) / WORK_SIZE)))
    if factor == 1 or height < 2 * factor or width < 2 * factor:
        return np.asarray(image), mask
    h = (height // factor) * factor
    w = (width // factor) * factor
    size = (w // factor, h // factor)
    # INTER_AREA with an integer factor is an exact block mean (and fast on uint8)
    small = cv2.resize(np.ascontiguousarray(image[:h, :w]), size, interpolation=cv2.INTER_AREA)
    share = cv2.resize(mask[:h, :w].astype("float32"), size, interpolation=cv2.INTER_AREA)
    small_mask = share >= 0.5
    if not small_mask.any():
        small_mask = share > 0
    return small, small_mask


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    if not lesion.any():
        return {key: float("nan") for key in KEYS}
    small, lesion = reduce(image, lesion)
    red = LINEAR[small[..., 0]]
    blue = LINEAR[small[..., 2]]
    # the lesion term on its bounding box plus the kernel radius: the same smoothed values
    rows = np.flatnonzero(lesion.any(axis=1))
    cols = np.flatnonzero(lesion.any(axis=0))
    r0 = max(int(rows[0]) - RADIUS, 0)
    r1 = min(int(rows[-1]) + RADIUS + 1, lesion.shape[0])
    c0 = max(int(cols[0]) - RADIUS, 0)
    c1 = min(int(cols[-1]) + RADIUS + 1, lesion.shape[1])
    peak, glint = specular(red[r0:r1, c0:c1], blue[r0:r1, c0:c1], lesion[r0:r1, c0:c1])
    outside = ~lesion
    skin_peak = 0.0
    skin_glint = 0.0
    if outside.any():
        d32 = cv2.distanceTransform(outside.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        distance = np.sqrt(np.rint(d32.astype(np.float64) ** 2))
        skin = outside & (distance >= np.quantile(distance[outside], FAR_QUANTILE))
        skin_peak, skin_glint = specular(red, blue, skin)
    return {
        "gloss_specular_peak": peak,
        "gloss_specular_peak_over_skin": peak - skin_peak,
        "gloss_specular_excess": glint - skin_glint,
    }
