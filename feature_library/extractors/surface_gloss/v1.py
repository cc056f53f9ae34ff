"""Surface gloss: specular highlights on the scar.

Criterion: Manchester / surface — "Appearance of the scar surface: matte like normal skin, or
shiny."
Measures: a dichromatic reflection model, pixel = diffuse (the lesion's own colour) + specular
(the illuminant's colour, ~white after white balance). In linear sRGB, with k = the lesion's
median blue/red ratio (its diffuse chromaticity, capped at 0.9), the specular part of a pixel is
  s = (B - k * R) / (1 - k)
(exact when the illuminant is neutral: the diffuse term cancels, the white term remains).
  gloss_specular_peak    = max over the lesion of s smoothed by a Gaussian (sigma = 0.7 px)
                           (how bright the strongest highlight is: shinier = brighter, sharper)
  gloss_specular_excess  = mean(s > 0.1 * median R) over the lesion minus the same over
                           reference skin (fraction of glinting pixels beyond the skin's own)
  gloss_specular_mean    = mean of max(s, 0) over the lesion
Reference skin: outside pixels at or beyond the 60th percentile of outside distances.
Units: linear intensity (0..1) for peak and mean; fraction (-1..1) for the excess.
Empty mask: NaN for all three. Mask covering the whole image: excess 0 (no skin to compare).
"""
import numpy as np
from scipy import ndimage

FAR_QUANTILE = 0.6
SMOOTH_SIGMA = 0.7
GLINT_FRACTION = 0.1
KEYS = ("gloss_specular_peak", "gloss_specular_excess", "gloss_specular_mean")


def specular(lin, region):
    red = lin[..., 0]
    blue = lin[..., 2]
    k = min(float(np.median(blue[region] / np.maximum(red[region], 1e-3))), 0.9)
    return (blue - k * red) / (1.0 - k), float(np.median(red[region]))


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    if not lesion.any():
        return {key: float("nan") for key in KEYS}
    v = np.asarray(image).astype("float64") / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    spec, red_level = specular(lin, lesion)
    peak = float(ndimage.gaussian_filter(spec, SMOOTH_SIGMA)[lesion].max())
    glint_in = float(np.mean(spec[lesion] > GLINT_FRACTION * max(red_level, 1e-3)))
    mean_in = float(np.mean(np.maximum(spec[lesion], 0.0)))
    outside = ~lesion
    if outside.any():
        distance = ndimage.distance_transform_edt(outside)
        skin = outside & (distance >= np.quantile(distance[outside], FAR_QUANTILE))
        skin_spec, skin_red = specular(lin, skin)
        excess = glint_in - float(np.mean(skin_spec[skin] > GLINT_FRACTION * max(skin_red, 1e-3)))
    else:
        excess = 0.0  # the mask fills the image: no skin to compare with
    return {"gloss_specular_peak": peak, "gloss_specular_excess": excess,
            "gloss_specular_mean": mean_in}
