"""Skin optics: calibration against a real photograph, inverse look-ups, illuminants."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import color, data

from scafe.data import optics


def test_light_skin_matches_the_astronaut_photo() -> None:
    """skimage's astronaut: facial skin patches (L* ~75, a* ~8, b* ~17) are the calibration point."""
    lab = color.rgb2lab(data.astronaut())
    patches = np.concatenate([lab[120:136, 180:196].reshape(-1, 3), lab[160:176, 200:216].reshape(-1, 3)])
    target = patches.mean(0)
    ita = float(optics.ita_deg(target))
    assert 50 < ita < 62
    rendered = optics.lab_of(optics.melanin_for_ita(ita), optics.HB_BASELINE)[0]
    assert optics.delta_e(rendered, target) < 4.0, (rendered, target)


@pytest.mark.parametrize("ita", [-50.0, -20.0, 10.0, 41.0, 55.0, 70.0])
def test_melanin_for_ita_round_trips(ita: float) -> None:
    mel = optics.melanin_for_ita(ita)
    assert float(optics.ita_deg(optics.lab_of(mel, optics.HB_BASELINE)[0])) == pytest.approx(ita, abs=0.3)


def test_darker_skin_has_more_melanin_and_lower_lightness() -> None:
    mels = [optics.melanin_for_ita(v) for v in (70, 40, 10, -20, -50)]
    assert mels == sorted(mels)
    lightness = optics.lab_of(np.array(mels), optics.HB_BASELINE)[:, 0]
    assert np.all(np.diff(lightness) < 0)
    assert lightness[0] > 80
    assert lightness[-1] < 30


def test_ita_outside_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the renderable range"):
        optics.melanin_for_ita(120.0)


@pytest.mark.parametrize(("mel", "delta"), [(0.3, 2.0), (0.3, 12.0), (1.5, 6.0), (2.4, 10.0)])
def test_hb_increment_hits_the_target_delta_a(mel: float, delta: float) -> None:
    dhb = optics.hb_increment_for_delta_a(mel, 0.22, delta)
    assert dhb > 0
    got = optics.lab_of(mel, 0.22 + dhb)[0, 1] - optics.lab_of(mel, 0.22)[0, 1]
    assert got == pytest.approx(delta, abs=0.05)


def test_illuminant_white_points() -> None:
    assert np.allclose(optics.illuminant_rgb(6504.0), 1.0, atol=0.02)
    warm = optics.illuminant_rgb(3000.0)
    assert warm[0] > warm[1] > warm[2]
    cool = optics.illuminant_rgb(9000.0)
    assert cool[2] > cool[1] > cool[0]
    with pytest.raises(ValueError, match="outside"):
        optics.illuminant_rgb(1000.0)
