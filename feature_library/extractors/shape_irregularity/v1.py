"""Shape irregularity of the lesion outline.

Criterion: JSW / shape — "Shape of the lesion: a linear band or dome along the incision, or an
irregular, nodular, dumbbell or butterfly shape with projections."
Measures (the whole mask is one region, so a dumbbell's two lobes share one convex hull):
  shape_irregularity      = 1 - A / A_hull                     (1 - solidity; 0 = convex)
  shape_circularity_deficit = 1 - 4*pi*A / P^2                 (0 = disc, -> 1 for ragged outlines)
  shape_convexity_deficit = 1 - P_hull / P                     (0 = convex outline)
  shape_concavity_count   = number of hull-minus-mask pockets larger than 2 % of A_hull
A in px^2, P the perimeter in px (skimage.measure.perimeter, 4-neighbourhood weighting).
All outputs are ratios or counts, so they do not depend on image resolution.
Range: 0..1 for the first three, 0..~20 for the count. Empty mask: NaN for all four.
"""
import math

import numpy as np
from scipy import ndimage
from skimage import measure, morphology

POCKET_MIN_FRACTION = 0.02
KEYS = ("shape_irregularity", "shape_circularity_deficit", "shape_convexity_deficit",
        "shape_concavity_count")


def extract(image, mask):
    lesion = np.asarray(mask, dtype=bool)
    area = float(np.count_nonzero(lesion))
    if area == 0:
        return {key: float("nan") for key in KEYS}
    rows = np.flatnonzero(np.any(lesion, axis=1))
    cols = np.flatnonzero(np.any(lesion, axis=0))
    # Pad by one pixel so the perimeter of a border-touching mask is closed.
    sub = np.pad(lesion[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 1)
    hull = morphology.convex_hull_image(sub)
    hull_area = float(np.count_nonzero(hull))
    perimeter = float(measure.perimeter(sub))
    hull_perimeter = float(measure.perimeter(hull))
    solidity = area / hull_area if hull_area > 0 else 1.0
    if perimeter > 0:
        circularity = min(4.0 * math.pi * area / (perimeter * perimeter), 1.0)
        convexity = min(hull_perimeter / perimeter, 1.0)
    else:  # a single pixel has perimeter 0: treat it as a perfect disc
        circularity = 1.0
        convexity = 1.0
    pockets, count = ndimage.label(hull & ~sub)
    if count > 0:
        sizes = ndimage.sum_labels(np.ones(sub.shape), pockets, index=np.arange(1, count + 1))
        big = int(np.count_nonzero(sizes >= POCKET_MIN_FRACTION * hull_area))
    else:
        big = 0
    return {
        "shape_irregularity": float(1.0 - solidity),
        "shape_circularity_deficit": float(1.0 - circularity),
        "shape_convexity_deficit": float(1.0 - convexity),
        "shape_concavity_count": float(big),
    }
