"""Surface gloss: the strength of the specular highlight on the scar, against the skin beside it.

Criterion: Manchester / surface — "Appearance of the scar surface: matte like normal skin, or
shiny."
Measures: a dichromatic reflection model, pixel = diffuse (the tissue's own colour times the
shading) + specular (the light's colour, about neutral after white balance). In linear sRGB, with
k = the lesion's median blue/red ratio (its diffuse chromaticity, capped at 0.9), the specular
part of a pixel is
  s = (B - k * R) / (1 - k)
(the diffuse term cancels, the neutral specular term remains); S = s smoothed by a Gaussian
(sigma 0.7 px, against single-pixel noise). The highlight strength is a high quantile of S over
the lesion (the 99.5th percentile: the brightest highlight without trusting one pixel), expressed
against the skin beside the scar (median linear green G_skin of the ring 3-20 px outside):
  gloss_highlight_index  = q99.5_lesion(S) / sqrt(G_skin)
Why sqrt: a highlight's radiance does not depend on the skin's colour, but s leaves a diffuse
residual that grows with the skin's lightness (k near its cap), so q99.5(S) alone rises with
lighter skin; the contrast q99.5(S) / G_skin over-corrects (a highlight stands out more on dark
skin, so the contrast falls steeply with lighter skin). The geometric mean of the two scales
follows neither. Dividing by the skin beside the scar also cancels the light's intensity and
smooth illumination gradients.
  gloss_specular_peak    = max_lesion S    (v3's main output, kept for comparison)
Speed: images larger than WORK_SIZE px on the long side are first reduced by block averaging
(cv2 INTER_AREA, integer factor round(long side / WORK_SIZE); the mask keeps blocks that are at
least half lesion, or any lesion block when that would leave none).
Range: index about 0..3 (0 = no highlight); peak in linear intensity about -0.2..1.2.
Empty mask: NaN for both. No ring (the mask fills the image): the lesion's own median green is
the reference.
v4 (replaces v3, which failed on phantom family B: rho 0.31-0.34 and +0.66-0.70 with lighter skin):
the quantile and the skin reference; same specular model; v3's glint-area excess dropped (rho
0.11-0.33 on both families: highlight area follows the dome's curvature more than the gloss).
"""
import cv2
import numpy as np

WORK_SIZE = 256
SMOOTH_SIGMA = 0.7
QUANTILE = 99.5
RING = (3.0, 20.0)
KEYS = ("gloss_highlight_index", "gloss_specular_peak")

LEVELS = np.arange(256) / 255.0
LINEAR = np.where(LEVELS <= 0.04045, LEVELS / 12.92, ((LEVELS + 0.055) / 1.055) ** 2.4)


def reduce(image, mask):
    """Block-average the uint8 image and the mask down to about WORK_SIZE px."""
    height, width = mask.shape
    factor = max(1, int(round(max(height, width) / WORK_SIZE)))
    if factor == 1 or height < 2 * factor or width < 2 * factor:
        return np.asarray(image), mask
    h = (height // factor) * factor
    w = (width // factor) * factor
    size = (w // factor, h // factor)
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
    green = LINEAR[small[..., 1]]
    blue = LINEAR[small[..., 2]]
    k = min(float(np.median(blue[lesion] / np.maximum(red[lesion], 1e-3))), 0.9)
    raw = ((blue - k * red) / (1.0 - k)).astype(np.float32)
    spec = cv2.GaussianBlur(raw, (0, 0), SMOOTH_SIGMA, borderType=cv2.BORDER_REFLECT)
    inside = spec[lesion]
    outside = cv2.distanceTransform((~lesion).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ring = (~lesion) & (outside > RING[0]) & (outside < RING[1])
    skin_green = float(np.median(green[ring] if ring.sum() >= 20 else green[lesion]))
    index = float(np.percentile(inside, QUANTILE)) / max(skin_green, 1e-3) ** 0.5
    return {
        "gloss_highlight_index": index,
        "gloss_specular_peak": float(inside.max()),
    }
