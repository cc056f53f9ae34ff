"""Deterministic images and masks of the contract battery (built once per process, cached).

Images are skin-like: a smooth base colour, mild deterministic texture, and a redder lesion
under the mask, so a sensible extractor sees a non-degenerate inside/outside contrast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SKIN = (200.0, 150.0, 130.0)
LESION = (185.0, 95.0, 95.0)
# The wrap-around probes (see battery.wraparound_failures): a path of R - G offsets, far ends and
# steps of 1 around zero, rendered on two independent textures (replicates), in three families
# that set R - G where they say, every other pixel keeping R - G = SKIN_R_MINUS_G:
# "whole" over the whole patch; "lesion" inside the mask only; "ring" in the band of skin within
# WRAP_RING_PX of the mask. A uint8 lesion-minus-ring contrast wraps inside and outside alike on
# "whole" (the difference stays small) and is caught by "lesion" (issue 11 item 6); a uint8
# near-ring-minus-far-skin contrast (rim erythema) is caught by "ring".
WRAP_OFFSETS = (60, 3, 2, 1, -1, -2, -3, -60)
WRAP_SEEDS = (7, 8)
WRAP_FAMILIES = ("whole", "lesion", "ring")
SKIN_R_MINUS_G = 20
WRAP_RADIUS = 16  # the probe lesion: a disk of this radius in the middle of a 64 x 64 patch
WRAP_RING_PX = 10
# (name, family, texture seed, R - G offset) of every probe, family by family, replicate by replicate
WRAP_PROBES = tuple((f"wrap{rep}_{'' if family == 'whole' else family + '_'}r_minus_g_{offset:+d}", family, seed,
                     offset)
                    for family in WRAP_FAMILIES
                    for rep, seed in enumerate(WRAP_SEEDS, start=1) for offset in WRAP_OFFSETS)


@dataclass(frozen=True)
class BatteryInput:
    """One battery case.

    ``noncontiguous`` asks the child to hand the arrays over as strided views. ``degenerate``
    marks masks where a measurement may be undefined (empty, one pixel, the whole image: no
    ring, no outside skin, no contour area); only there may a value be NaN, and only when the
    docstring says so.
    """

    name: str
    image: np.ndarray
    mask: np.ndarray
    noncontiguous: bool = False
    degenerate: bool = False


def disk(h: int, w: int, cy: float, cx: float, r: float) -> np.ndarray:
    """Boolean disk of radius ``r`` px centred at (cy, cx)."""
    yy, xx = np.mgrid[0:h, 0:w]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def skin_image(h: int, w: int, mask: np.ndarray, *, seed: int, skin=SKIN, lesion=LESION,
               scale: float = 1.0) -> np.ndarray:
    """Skin colour with texture and a lesion under ``mask``; ``scale`` darkens (<1) or saturates (>1).

    Texture is a seeded 67x71 noise tile repeated over the image (cheap for 2048x1536, and the
    prime tile size avoids aligning with any power-of-two block an extractor might use).
    """
    rng = np.random.default_rng(seed)
    tile = (rng.normal(0.0, 4.0, size=(67, 71, 1)) + rng.normal(0.0, 2.0, size=(67, 71, 3))).astype(np.float32)
    reps = (-(-h // 67), -(-w // 71), 1)
    noise = np.tile(tile, reps)[:h, :w]
    shading = 1.0 + 0.08 * np.outer(np.cos(np.arange(h) / max(h, 1) * 2.3), np.sin(np.arange(w) / max(w, 1) * 3.1))
    colours = np.where(mask[..., None], np.asarray(lesion, np.float32), np.asarray(skin, np.float32))
    img = colours * shading[..., None].astype(np.float32) + noise
    return np.clip(img * scale, 0, 255).astype(np.uint8)


def wrap_probe_mask() -> np.ndarray:
    """The lesion of every wrap-around probe: a disk in the middle of a 64 x 64 patch."""
    return disk(64, 64, 32, 32, WRAP_RADIUS)


def wrap_probe_region(family: str) -> np.ndarray:
    """Where a probe of ``family`` sets R - G to its offset (see ``WRAP_FAMILIES``)."""
    lesion = wrap_probe_mask()
    if family == "whole":
        return np.ones_like(lesion)
    if family == "lesion":
        return lesion
    return disk(64, 64, 32, 32, WRAP_RADIUS + WRAP_RING_PX) & ~lesion


def _wrap_probe(offset: int, seed: int, family: str = "whole") -> np.ndarray:
    """Yellowish patch with R - G = ``offset`` exactly in the family's region (texture shared by
    R and G), ``SKIN_R_MINUS_G`` elsewhere."""
    h = w = 64
    rng = np.random.default_rng(seed)
    noise = rng.integers(-3, 4, size=(h, w))
    g = 120 + noise
    d = np.where(wrap_probe_region(family), offset, SKIN_R_MINUS_G)
    img = np.stack([g + d, g, 40 + rng.integers(-3, 4, size=(h, w))], axis=-1)
    return np.clip(img, 0, 255).astype(np.uint8)


@lru_cache(maxsize=1)
def battery_inputs() -> list[BatteryInput]:
    """All battery cases, small first (a broken candidate fails fast)."""
    cases: list[BatteryInput] = []

    def add(name: str, h: int, w: int, mask: np.ndarray, seed: int, **kw) -> None:
        flags = {k: kw.pop(k) for k in ("noncontiguous",) if k in kw}
        degenerate = int(mask.sum()) <= 1 or bool(mask.all())
        cases.append(BatteryInput(name, skin_image(h, w, mask, seed=seed, **kw), mask,
                                  degenerate=degenerate, **flags))

    m = np.zeros((8, 8), bool)
    m[2:6, 2:6] = True
    add("tiny_8x8", 8, 8, m, 1)
    m = np.zeros((64, 64), bool)
    m[31, 40] = True
    add("one_pixel_64x64", 64, 64, m, 2)
    add("empty_mask_64x64", 64, 64, np.zeros((64, 64), bool), 3)
    add("full_mask_64x64", 64, 64, np.ones((64, 64), bool), 4)
    m = np.zeros((96, 128), bool)
    m[:40, :50] = True
    add("border_touching_96x128", 96, 128, m, 5)
    m = disk(128, 128, 30, 30, 12) | disk(128, 128, 90, 40, 18) | disk(128, 128, 60, 100, 9)
    add("multi_component_128x128", 128, 128, m, 6)
    m = disk(128, 128, 64, 64, 30)
    add("dark_128x128", 128, 128, m, 7, scale=0.06)
    add("saturated_128x128", 128, 128, m, 8, scale=2.5)
    add("g_gt_r_128x128", 128, 128, m, 9, skin=(120.0, 170.0, 120.0), lesion=(150.0, 160.0, 110.0))
    add("noncontiguous_120x160", 120, 160, disk(120, 160, 60, 70, 25), 10, noncontiguous=True)
    add("odd_97x203", 97, 203, disk(97, 203, 48, 100, 30), 11)
    for name, family, seed, offset in WRAP_PROBES:
        cases.append(BatteryInput(name, _wrap_probe(offset, seed, family), wrap_probe_mask()))
    add("typical_512x512", 512, 512, disk(512, 512, 250, 260, 110), 12)
    # 2048x1536 as an 8x pixel-replicated 192x256 scene: same content class, ~20x cheaper to build
    small_mask = disk(192, 256, 95, 125, 50)
    small = skin_image(192, 256, small_mask, seed=13)
    cases.append(BatteryInput("large_1536x2048", np.repeat(np.repeat(small, 8, axis=0), 8, axis=1),
                              np.repeat(np.repeat(small_mask, 8, axis=0), 8, axis=1)))
    return cases
