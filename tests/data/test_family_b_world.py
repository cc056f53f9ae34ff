"""Family B's world: gloss shows as a highlight, claws leave the scar (docs/PHANTOMS.md, session 2)."""

from __future__ import annotations

import numpy as np
import pytest

from scafe.data.family_b import shape, surface


def _dome(n: int = 96, sp: float = 0.1, height: float = 1.0) -> np.ndarray:
    yy, xx = (np.mgrid[:n, :n] - (n - 1) / 2) * sp
    r = np.hypot(xx, yy) / (0.35 * n * sp)
    return height * np.clip(1 - r**2, 0, None) ** 1.5


@pytest.mark.parametrize("elevation", [30.0, 55.0, 80.0])
def test_glossy_dome_shows_a_highlight_at_any_light_elevation(elevation: float) -> None:
    h = _dome()
    view = np.array([0.0, 0.0, 1.0])

    def peak(gloss: float) -> float:
        weight = np.full(h.shape, gloss * 10.0)
        rough = np.full(h.shape, 0.45 - 0.7 * gloss)
        _, _, spec = surface.shade(h, 0.1, elevation, 20.0, view, rough, weight)
        return float(spec.max())

    matte, glossy = peak(0.02), peak(0.5)
    # a shiny scar's highlight is several times brighter than a matte one's, whatever the light
    assert glossy > 0.3
    assert glossy > 5 * matte


def test_flash_highlight_sits_where_the_surface_faces_the_camera() -> None:
    h = _dome()
    view = np.array([0.0, 0.0, 1.0])
    weight = np.where(h > 0.05, 5.0, 0.0)  # only the scar is glossy, as in the renderer
    rough = np.full(h.shape, 0.1)
    # a grazing key light from the side: its own highlight needs a steep wall
    _, _, spec = surface.shade(h, 0.1, 30.0, 0.0, view, rough, weight)
    iy, ix = np.unravel_index(int(np.argmax(spec)), spec.shape)
    centre = (h.shape[0] - 1) / 2
    assert np.hypot(iy - centre, ix - centre) < 6  # at the top of the dome, not on the wall


def test_claws_leave_the_body_across_the_wound_path(monkeypatch: pytest.MonkeyPatch) -> None:
    claws: list[np.ndarray] = []
    paths: list[np.ndarray] = []
    real_chain = shape.chain

    def spy(path: np.ndarray, radius: object, spacing: float = 0.6) -> shape.Balls:
        (claws if spacing == 0.5 else paths).append(np.asarray(path, float))
        return real_chain(path, radius, spacing)  # type: ignore[arg-type]

    monkeypatch.setattr(shape, "chain", spy)
    sines: list[float] = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        p = {"extension_ratio": 1.8, "solidity": 0.9, "pseudopod_count": 3,
             "pseudopod_lengths": (0.4, 0.4, 0.4)}
        claws.clear()
        paths.clear()
        shape.build(rng, p, 30.0, 1.5)
        wound_path = paths[0]
        for claw in claws[-3:]:  # the last make() call is the final layout
            start, first = claw[0], claw[1] - claw[0]
            i = int(np.argmin(np.linalg.norm(wound_path - start, axis=1)))
            tangent = wound_path[min(i + 1, len(wound_path) - 1)] - wound_path[max(i - 1, 0)]
            cos = abs(float(first @ tangent)) / float(np.linalg.norm(first) * np.linalg.norm(tangent))
            sines.append(float(np.sqrt(max(1.0 - cos * cos, 0.0))))
    # uniform directions would give a median |sin| of 0.71; claws leave within +-40 deg of the normal
    assert np.median(sines) > 0.85
    assert np.mean(np.array(sines) > 0.5) > 0.8  # uniform: 0.67
