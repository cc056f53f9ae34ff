"""How visible is the phantom's surface relief (``latent_relief``) in the rendered pixels?

Diagnostic for the one criterion item without a reference extractor (POSAS relief, Manchester
texture; see ``tests/criterion/near_miss/NOTES.md``). For the validation phantoms (same seeds as
``scafe.criterion_tests``) it renders each scene three times with the real renderer, identical
in every random draw except the relief amplitude (its sampled value, 0, and the class maximum), and
reports, for texture statistics of the kind CLINICAL.md suggests (high-pass of log luminance at
sigma 1/2/4 px: standard deviation inside the lesion core, and its log ratio to a perilesional
ring) and for the contour-direction isotropy of ``surface_relief@v1`` (``contour_iso``: derivative
of log luminance along the scar's contour lines over the derivative across them):

- ``effect``: median over phantoms of |stat(relief max) - stat(relief 0)| — what relief does;
- ``spread``: inter-quartile range of stat(relief 0) over phantoms — what everything else does;
- ``rho``: Spearman correlation of the statistic (sampled relief) with ``latent_relief``;
- ``rho_blur``: the same with the camera blur nuisance.

It also prints the slope of the scar surface itself (relief 0): the median over phantoms of the
median |grad h| inside the mask, and the share of lesion pixels steeper than 0.5 (27 deg). Relief
shading can only show where the surface is flat enough for small slopes to change it.

A measurable item needs ``effect`` well above ``spread``. Run:
``python scripts/relief_visibility.py [--n 96] [--size 256]``; prints a table, writes JSON with
``--json PATH``.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import cv2
import numpy as np
from scipy import ndimage, stats

from scafe.criterion_tests import VALIDATION_SEED as SEED  # the criterion tests' phantoms

SIGMAS = (1.0, 2.0, 4.0)


def _render(index: int, size: int, relief: float | None) -> tuple[np.ndarray, np.ndarray, dict]:
    from scafe.data import render
    from scafe.data.params import CLASS_RANGES, sample_lesion, sample_scene

    heights: list[np.ndarray] = []
    shading = render._shading

    def spy(h: np.ndarray, gloss: np.ndarray, scene: object) -> tuple[np.ndarray, np.ndarray]:
        heights.append(h)  # the height map (mm) the renderer shades
        return shading(h, gloss, scene)  # type: ignore[arg-type]

    root = np.random.SeedSequence([SEED, index, 0x5CAFE])  # as scafe.data.phantoms.render_phantom
    label_rng, lesion_rng, scene_rng, render_rng = (np.random.default_rng(s) for s in root.spawn(4))
    label = "keloid" if label_rng.random() < 0.5 else "hypertrophic"
    lesion = sample_lesion(lesion_rng, label)
    sampled = lesion.relief
    if relief is not None:
        lesion = replace(lesion, relief=relief if relief >= 0 else CLASS_RANGES[label]["relief"][1])
    scene = sample_scene(scene_rng, "default", size)
    render._shading = spy
    try:
        out = render.render_scene(render_rng, lesion, scene, size)
    finally:
        render._shading = shading
    gy, gx = np.gradient(heights[0])
    slope = np.hypot(gx, gy)[out.mask] * scene.px_per_mm
    meta = {"relief": sampled, "blur": scene.blur_sigma,
            "slope_median": float(np.median(slope)) if slope.size else float("nan"),
            "steep_share": float(np.mean(slope > 0.5)) if slope.size else float("nan")}
    return out.image, out.mask, meta


def _check_same_scene_as_render_phantom(size: int) -> None:
    """``_render`` repeats ``render_phantom``'s seeding so that it can change the relief; make sure
    it still draws the very same scene (else every figure here would be about other phantoms)."""
    from scafe.data.phantoms import render_phantom

    image, mask, _ = _render(0, size, None)
    reference = render_phantom(0, seed=SEED, size=size)
    if not (np.array_equal(image, reference.image) and np.array_equal(mask, reference.mask)):
        raise SystemExit("relief_visibility: _render no longer reproduces scafe.data.phantoms."
                         "render_phantom (its seeding changed); update _render to match.")


def _stats(image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    core = ndimage.binary_erosion(mask, iterations=2)
    outside = ndimage.distance_transform_edt(~mask)
    ring = (outside > 2) & (outside < 12)
    if core.sum() < 10 or ring.sum() < 10:
        return {}
    lum = np.log(image.astype(np.float32).mean(axis=2) + 1.0)
    result = {}
    for sigma in SIGMAS:
        high = lum - cv2.GaussianBlur(lum, (0, 0), sigma)
        inside, skin = float(high[core].std()), float(high[ring].std())
        result[f"hp{sigma:g}_inside"] = float(np.log(inside + 1e-9))
        result[f"hp{sigma:g}_ratio"] = float(np.log((inside + 1e-9) / (skin + 1e-9)))
    # contour-direction isotropy (surface_relief@v1): derivative along the scar's contour lines over
    # the derivative across them, where a smooth dome's shading changes only across
    smooth = cv2.GaussianBlur(lum, (0, 0), 1.0)
    inside = ndimage.distance_transform_edt(mask)
    level = cv2.GaussianBlur((inside - outside).astype(np.float32), (0, 0), 2.0)
    sy, sx = np.gradient(level)
    steep = np.hypot(sx, sy)
    nx, ny = sx / (steep + 1e-6), sy / (steep + 1e-6)
    ly, lx = np.gradient(smooth)
    keep = mask & (inside > 2.5) & (steep > 0.3)
    keep = keep if keep.sum() >= 5 else mask
    along = float(np.median(np.abs(ly * nx - lx * ny)[keep]))
    across = float(np.median(np.abs(lx * nx + ly * ny)[keep]))
    result["contour_iso"] = along / max(across, 1e-4)
    return result


def _one(args: tuple[int, int]) -> tuple[dict, dict, dict, dict]:
    index, size = args
    image, mask, meta = _render(index, size, None)
    zero = _render(index, size, 0.0)
    top = _render(index, size, -1.0)
    meta["slope_median_relief0"] = zero[2]["slope_median"]
    meta["steep_share_relief0"] = zero[2]["steep_share"]
    return meta, _stats(image, mask), _stats(*zero[:2]), _stats(*top[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=96, help="validation phantoms (default 96)")
    parser.add_argument("--size", type=int, default=256, help="render size in px (default 256)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="also write the table as JSON to this path")
    args = parser.parse_args()
    _check_same_scene_as_render_phantom(args.size)
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(_one, [(k, args.size) for k in range(args.n)], chunksize=4))
    rows = [r for r in rows if r[1] and r[2] and r[3]]
    relief = np.array([r[0]["relief"] for r in rows])
    blur = np.array([r[0]["blur"] for r in rows])
    table = []
    for key in rows[0][1]:
        sampled = np.array([r[1][key] for r in rows])
        zero = np.array([r[2][key] for r in rows])
        top = np.array([r[3][key] for r in rows])
        table.append({
            "statistic": key,
            "effect": float(np.median(np.abs(top - zero))),
            "spread": float(np.subtract(*np.percentile(zero, [75, 25]))),
            "rho": float(stats.spearmanr(sampled, relief).statistic),
            "rho_blur": float(stats.spearmanr(sampled, blur).statistic),
        })
    slope = float(np.median([r[0]["slope_median_relief0"] for r in rows]))
    steep = float(np.median([r[0]["steep_share_relief0"] for r in rows]))
    print(f"{len(rows)} phantoms at {args.size} px (seed {SEED}); relief 0 vs class maximum")
    print(f"scar surface at relief 0: median slope {slope:.2f} ({np.degrees(np.arctan(slope)):.0f} deg), "
          f"median share of lesion pixels steeper than 0.5: {steep:.2f}")
    print(f"{'statistic':<14}{'effect':>9}{'spread':>9}{'rho':>8}{'rho_blur':>10}")
    for row in table:
        print(f"{row['statistic']:<14}{row['effect']:>9.3f}{row['spread']:>9.3f}{row['rho']:>+8.2f}"
              f"{row['rho_blur']:>+10.2f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"n": len(rows), "size": args.size, "seed": SEED, "slope_median": slope,
                       "steep_share": steep, "rows": table}, handle, indent=2)


if __name__ == "__main__":
    main()
