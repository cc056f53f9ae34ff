"""Extractors that run cleanly but measure the wrong thing; the criterion tests must reject them.

Kept as plain source text: like every extractor they are executed only inside the sandbox.
"""

# Redness via R - G computed in uint8: G > R pixels wrap around to ~250, so the "redness" of a
# lesion depends on how many of its pixels are greenish (vessels, shadows), not on its redness.
UINT8_WRAP_REDNESS = '''"""Vascularity via R - G (buggy: uint8 arithmetic).

Criterion: VSS / vascularity - test fixture.
Measures: mean(R - G) inside the lesion minus the same on all skin, uint8 arithmetic. Empty: NaN.
"""
import numpy as np


def extract(image, mask):
    if not mask.any() or mask.all():
        return {"redness_wrapped": float("nan") if not mask.any() else 0.0}
    diff = image[..., 0] - image[..., 1]
    return {"redness_wrapped": float(diff[mask].mean()) - float(diff[~mask].mean())}
'''

# Measures the patient's skin tone (a* of the skin far from the lesion), not the lesion.
SKIN_TONE_REDNESS = '''"""Vascularity (buggy: looks at the surrounding skin only).

Criterion: VSS / vascularity - test fixture.
Measures: median a* of every pixel outside the lesion. Empty mask: NaN.
"""
import numpy as np
from skimage import color


def extract(image, mask):
    if not mask.any():
        return {"skin_a": float("nan")}
    if mask.all():
        return {"skin_a": 0.0}
    return {"skin_a": float(np.median(color.rgb2lab(image[~mask][None])[0][:, 1]))}
'''

# Rim erythema measured in the wrong ring: the lesion itself against far skin (that is
# vascularity, an independent latent), instead of the skin just outside the border.
WRONG_RING_RIM = '''"""Rim erythema (buggy: measures inside the lesion instead of the ring around it).

Criterion: JSW / rim_erythema - test fixture.
Measures: median a* of the lesion minus median a* of all outside pixels. Empty mask: NaN.
"""
import numpy as np
from skimage import color


def extract(image, mask):
    if not mask.any():
        return {"rim_a_wrong": float("nan")}
    if mask.all():
        return {"rim_a_wrong": 0.0}
    inside = np.median(color.rgb2lab(image[mask][None])[0][:, 1])
    outside = np.median(color.rgb2lab(image[~mask][None])[0][:, 1])
    return {"rim_a_wrong": float(inside - outside)}
'''

# Irregularity as the width/height ratio of the bounding box: tracks nothing about solidity and
# changes when the image is rotated by 90 degrees.
ORIENTED_SHAPE = '''"""Shape irregularity (buggy: bounding-box width over height).

Criterion: JSW / shape - test fixture.
Measures: bounding-box width / height of the mask (px / px). Empty mask: NaN.
"""
import numpy as np


def extract(image, mask):
    if not mask.any():
        return {"bbox_ratio": float("nan")}
    rows = np.flatnonzero(np.any(mask, axis=1))
    cols = np.flatnonzero(np.any(mask, axis=0))
    return {"bbox_ratio": float(cols[-1] - cols[0] + 1) / float(rows[-1] - rows[0] + 1)}
'''
