"""The active colour and gloss extractors on scenes where the physics is exact.

A cast shadow multiplies the linear R, G and B of the skin by one factor; a cream plastic ruler
has a chromaticity of its own; a colour cast of the light multiplies each channel by its own
gain. Each scene below is built in linear light and run through the sandbox; the deprecated
versions (read from their files) show what each check catches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sandbox import ExtractorRunner
from scafe.library import Library

EXTRACTORS = Path(__file__).resolve().parents[2] / "feature_library" / "extractors"
LIBRARY = Library.open()
SIZE = 192


def _linear(srgb: np.ndarray) -> np.ndarray:
    v = srgb / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _encode(lin: np.ndarray) -> np.ndarray:
    v = np.clip(lin, 0.0, 1.0)
    return np.round(255 * np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)).astype(np.uint8)


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """Skin (linear RGB, mild texture) with a darker, redder elliptical scar in the middle."""
    rng = np.random.default_rng(7)
    lin = np.empty((SIZE, SIZE, 3))
    lin[:] = _linear(np.array([205.0, 160.0, 135.0]))
    lin *= 1 + 0.02 * rng.standard_normal((SIZE, SIZE, 1))  # texture: brightness only
    yy, xx = np.mgrid[:SIZE, :SIZE]
    lesion = ((yy - 96) / 16.0) ** 2 + ((xx - 96) / 26.0) ** 2 <= 1.0
    lin[lesion] = _linear(np.array([165.0, 105.0, 95.0]))
    return lin, lesion


def _run(source: str, images: list[np.ndarray], mask: np.ndarray) -> list[dict[str, float]]:
    with ExtractorRunner(source) as runner:
        results = runner.run_many([(image, mask) for image in images])
    out = []
    for result in results:
        assert result.features is not None, result.error
        out.append(result.features)
    return out


def _active(name: str) -> str:
    return LIBRARY.source(LIBRARY.get(name))


COLOUR = [("vss_pigmentation", "pigmentation_delta_mel_takiwaki", "vss_pigmentation/v4.py"),
          ("colour_mismatch", "colour_mismatch_delta_e", "colour_mismatch/v6.py"),
          ("vss_vascularity", "vascularity_delta_a", "vss_vascularity/v4.py")]


@pytest.mark.parametrize(("name", "key", "old"), COLOUR, ids=[c[0] for c in COLOUR])
def test_a_shadow_over_most_of_the_frame_leaves_the_reference_skin_alone(name, key, old):
    """Shadows (depth 45 %) cover four fifths of the skin; the scar and a band beside it stay lit."""
    lin, lesion = _scene()
    shadowed = lin.copy()
    yy, xx = np.mgrid[:SIZE, :SIZE]
    # two straight-edged shadows (above and below the scar) and a third to its right, each
    # starting 4 px (1 mm) beyond it: only a band of skin to the scar's left stays lit
    shade = (yy < 96 - 16 - 4) | (yy > 96 + 16 + 4) | (xx > 96 + 26 + 4)
    assert not (shade & lesion).any()
    assert shade[~lesion].mean() > 0.8
    shadowed[shade] *= 0.55
    images = [_encode(lin), _encode(shadowed)]
    plain, dark = (f[key] for f in _run(_active(name), images, lesion))
    before, after = (f[key] for f in _run((EXTRACTORS / old).read_text(), images, lesion))
    # the active version barely moves; the version that picked skin by lightness moved a lot more
    assert abs(dark - plain) <= 0.05 * max(abs(plain), 5.0), (plain, dark)
    assert abs(after - before) > 3 * abs(dark - plain) + 0.5, (before, after, plain, dark)


@pytest.mark.parametrize(("name", "key", "old"), COLOUR, ids=[c[0] for c in COLOUR])
def test_a_cream_ruler_filling_the_far_skin_is_not_taken_for_skin(name, key, old):
    """A lit cream ruler (reflectance 0.85, 0.85, 0.82) along two frame edges, 4 mm from the scar."""
    lin, lesion = _scene()
    ruled = lin.copy()
    yy, xx = np.mgrid[:SIZE, :SIZE]
    strip = (yy > 96 + 16 + 16) | (xx < 52)
    assert not (strip & lesion).any()
    ruled[strip] = np.array([0.85, 0.85, 0.82]) * 0.75
    images = [_encode(lin), _encode(ruled)]
    plain, ruler = (f[key] for f in _run(_active(name), images, lesion))
    assert abs(ruler - plain) <= 0.05 * max(abs(plain), 5.0), (plain, ruler)


def _glossy(cast: tuple[float, float, float]) -> np.ndarray:
    """The scene with a soft white highlight on the scar, seen under a light of colour ``cast``."""
    lin, lesion = _scene()
    yy, xx = np.mgrid[:SIZE, :SIZE]
    shading = 1.0 - 0.15 * (((yy - 96) / 16.0) ** 2 + ((xx - 96) / 26.0) ** 2)  # a dome
    lin = np.where(lesion[..., None], lin * np.clip(shading, 0.7, 1.0)[..., None], lin)
    spot = 0.35 * np.exp(-(((yy - 92) ** 2 + (xx - 100) ** 2) / (2 * 1.5**2)))
    lin = lin + (spot * lesion)[..., None]  # specular: the light's colour, neutral here
    return _encode(lin * np.array(cast))


def test_gloss_does_not_follow_the_colour_of_the_light():
    """A warm cast (blue gain 0.75) and a cool one (red gain 0.85) against a neutral light."""
    _, lesion = _scene()
    images = [_glossy((1.0, 1.0, 1.0)), _glossy((1.0, 0.93, 0.75)), _glossy((0.85, 0.95, 1.0))]
    key = "gloss_highlight_index"
    neutral, warm, cool = (f[key] for f in _run(_active("surface_gloss"), images, lesion))
    assert neutral > 0.05  # the highlight is seen
    old = [f[key] for f in _run((EXTRACTORS / "surface_gloss/v4.py").read_text(), images, lesion)]
    new_spread = (max(neutral, warm, cool) - min(neutral, warm, cool)) / neutral
    old_spread = (max(old) - min(old)) / old[0]
    assert new_spread < 0.5 * old_spread, (neutral, warm, cool, old)
