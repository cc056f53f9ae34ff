"""Trusted mask descriptors: what the judge measures about a mask before anyone reasons about it.

This is our own reviewed code (never generated). Every stage of the judge - the rule reasoner,
the learned QC and the LLM chain - sees these numbers, so they must be cheap (a 512x512 mask in
well under 20 ms) and well defined on every input (empty, full, one pixel, border-touching).

Conventions
-----------
* ``image``: ``(H, W, 3)`` uint8 RGB; ``mask``: ``(H, W)`` bool (anything truthy is lesion).
* Foreground is 8-connected, background 4-connected (the usual digital-topology pair, so that
  ``euler_number = n_components - n_holes`` matches ``skimage.measure.euler_number(connectivity=2)``).
* Colour is CIELAB (D65, L* in 0..100) computed with OpenCV on float32 RGB in [0, 1].
* ``r_eq = sqrt(A / pi)`` is the equivalent radius of the mask in pixels; ring widths scale with it
  so the descriptors do not depend on image resolution.
* Descriptors that are undefined for the input (e.g. colour contrast of an empty mask, ring of a
  full mask) are NaN; counts are always finite.

Descriptors (keys of :func:`compute_descriptors`)
-------------------------------------------------
area_fraction
    ``A / (H W)``; A = mask pixel count.
n_components, largest_component_fraction
    8-connected components; area of the largest over A.
n_holes, hole_fraction, euler_number
    Holes are 4-connected background components not touching the image frame;
    ``hole_fraction = A_holes / (A + A_holes)``; ``euler_number = n_components - n_holes``.
solidity
    ``A / A_hull``, hull of all mask pixels rasterised with the same pixel convention (square = 1).
circularity
    ``4 pi A_poly / P^2`` over all contours (outer and hole), polygons through boundary pixel
    centres simplified with a 1-px Douglas-Peucker tolerance to remove the staircase bias
    (a digital disc of radius >= 10 px scores >= 0.97, a square pi/4).
convexity
    ``P_hull / P`` with the same perimeter estimator (1 for convex shapes, < 1 when ragged).
border_touch
    Fraction of mask boundary pixels lying on the outermost image row/column.
boundary_roughness
    Mean distance between the largest component's contour and its circular moving average
    (window 5 % of the contour length), divided by ``r_eq`` (dimensionless; ~0.01 for a disc).
boundary_gradient_ratio, boundary_color_gradient_ratio
    Mean gradient magnitude on the mask boundary over the image median (taken at half resolution,
    +0.5 units to keep flat images finite): ``|grad L*|`` (the CLINICAL.md definition) and the full Lab colour gradient.
    A boundary that sits on the lesion's edge scores well above 1.
boundary_f1
    Boundary F1 against Canny edges of L*, a*, b*: precision = share of boundary pixels within
    2 px of an edge; recall = share of edge pixels in the neighbourhood of the mask
    (within ``max(6, 0.3 r_eq)`` px of the boundary) that lie within 2 px of the boundary.
ring_delta_e, ring_fisher_ratio, ring_delta_l, ring_delta_a, ring_delta_b
    Inside vs a ring ``0 < d <= max(3, 0.25 r_eq)`` px outside the mask: CIE76 ``Delta E`` of the
    means, the Fisher ratio ``dmu^T (S_in + S_ring + 1e-3 I)^-1 dmu`` (3x3 Lab covariances) and the
    signed channel differences inside minus ring (scar: redder, ``delta_a > 0``; mole: darker).
window_separability
    Otsu's separability ``eta = between-class / total variance`` (0..1) of the colour projection in
    the self-consistency window: how clearly the image itself shows two colours there (low on
    faint scars, where no image-based judge can place a boundary to a pixel).
edge_offset_px, edge_offset_abs_px, edge_offset_rel, edge_agreement
    Distance from the boundary to the colour edge along the boundary normals
    (:mod:`scafe.judge.edge_offset`): signed median (px, > 0 = edge outside the mask), mean
    absolute (px and relative to ``lesion_width_px``) and the share of the contour on the edge.
band_delta_e
    ``Delta E`` between thin bands 3 px inside and 3 px outside the boundary: large when the
    boundary sits exactly on a colour step, small when it is shifted, eroded or dilated.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from scafe.errors import DataError
from scafe.judge.edge_offset import EDGE_OFFSET_NAMES, edge_offsets

DESCRIPTOR_NAMES: tuple[str, ...] = (
    "area_fraction",
    "n_components",
    "largest_component_fraction",
    "n_holes",
    "hole_fraction",
    "euler_number",
    "solidity",
    "circularity",
    "convexity",
    "border_touch",
    "boundary_roughness",
    "boundary_gradient_ratio",
    "boundary_color_gradient_ratio",
    "boundary_f1",
    "ring_delta_e",
    "ring_fisher_ratio",
    "ring_delta_l",
    "ring_delta_a",
    "ring_delta_b",
    "band_delta_e",
    "self_consistency_dice",
    "window_separability",
    "lesion_width_px",
    "closing_gain",
    "opening_loss",
    "closing_gain_wide",
    "opening_loss_wide",
    "n_components_closed",
    *EDGE_OFFSET_NAMES,
)

EDGE_TOLERANCE_PX = 2.0  # boundary F1 tolerance; 2 px absorbs blur and the mask's own rasterisation
BAND_PX = 3.0  # width of the thin inner/outer bands of band_delta_e
POLY_EPSILON_PX = 1.0  # Douglas-Peucker tolerance that removes the 8-chain staircase bias
EDGE_MIN_GRADIENT = 1.5  # Lab units per px (L1 of dx, dy): weaker steps are texture, not a lesion edge
_CANNY_SCALE = 16.0  # Lab units/px -> int16 derivatives for cv2.Canny
_EPS_GRADIENT = 0.5  # Lab units/px added to the reference level: keeps the ratio finite on flat images
_MAX_STAT_PIXELS = 12_000  # above this, colour statistics use every other row and column


def _check_inputs(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    mask = np.asarray(mask)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise DataError(
            f"The image must be an (H, W, 3) uint8 RGB array; got shape {image.shape} dtype "
            f"{image.dtype}. Convert it with scafe.data.dataset.read_image first."
        )
    if mask.shape != image.shape[:2]:
        raise DataError(
            f"The mask shape {mask.shape} does not match the image shape {image.shape[:2]}; "
            "resize the mask to the image (nearest neighbour) or pass the matching image."
        )
    return image, mask.astype(bool, copy=False)


def to_lab(image: np.ndarray) -> np.ndarray:
    """CIELAB of an RGB uint8 image as float32 ``(H, W, 3)``: L* 0..100, a*/b* about -128..127.

    Uses OpenCV's 8-bit conversion (4x faster than float; L* quantised to 0.4 units, far below
    any contrast the judge cares about) and rescales it to CIE units.
    """
    lab8 = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2Lab).astype(np.float32)
    # cv2 per-channel scalar arithmetic: one pass, 2x faster than numpy on strided channel views.
    return cv2.add(cv2.multiply(lab8, (100.0 / 255.0, 1.0, 1.0, 0.0)), (0.0, -128.0, -128.0, 0.0))  # type: ignore[call-overload]  # cv2 stubs lack the scalar-tuple form


def _perimeter(contours: list[np.ndarray]) -> float:
    return float(
        sum(cv2.arcLength(cv2.approxPolyDP(c, POLY_EPSILON_PX, True), True) for c in contours if len(c) > 1)
    )


def _polygon_area(contours: list[np.ndarray], hierarchy: np.ndarray | None) -> float:
    if hierarchy is None:
        return 0.0
    total = 0.0
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        area = cv2.contourArea(contour)
        total += area if parent < 0 else -area  # RETR_CCOMP: level 2 contours are holes
    return total


def _roughness(contour: np.ndarray, r_eq: float) -> float:
    pts = contour[:, 0, :].astype(np.float64)
    n = len(pts)
    if n < 8 or r_eq <= 0:
        return 0.0
    window = max(5, int(round(0.05 * n)) | 1)
    kernel = np.ones(window) / window
    pad = window // 2
    wrapped = np.concatenate([pts[-pad:], pts, pts[:pad]])
    smooth = np.column_stack([np.convolve(wrapped[:, k], kernel, mode="valid") for k in range(2)])
    return float(np.mean(np.linalg.norm(pts - smooth, axis=1)) / r_eq)


def _gradients(lab: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Sobel derivatives of each Lab channel after a 1-px Gaussian (Lab units per pixel), and
    the smoothed Lab image itself."""
    smooth = cv2.GaussianBlur(lab, (0, 0), 1.0)
    # Sobel 3x3 has gain 8; scale=1/8 returns true units per pixel.
    dxs = [cv2.Sobel(smooth[:, :, k], cv2.CV_32F, 1, 0, ksize=3, scale=0.125) for k in range(3)]
    dys = [cv2.Sobel(smooth[:, :, k], cv2.CV_32F, 0, 1, ksize=3, scale=0.125) for k in range(3)]
    return dxs, dys, smooth


def _edges(dxs: list[np.ndarray], dys: list[np.ndarray]) -> np.ndarray:
    """Union of Canny edges of L*, a*, b*.

    High threshold: the 90th percentile of that channel's gradient magnitude, but at least
    ``EDGE_MIN_GRADIENT`` Lab units/px so that texture and noise alone do not make edges;
    low threshold half of it.
    """
    edges = np.zeros(dxs[0].shape, dtype=bool)
    for dx, dy in zip(dxs, dys, strict=True):
        mag = np.abs(dx[::4, ::4]) + np.abs(dy[::4, ::4])  # L1 magnitude, as Canny uses by default
        high = max(float(np.percentile(mag, 90)), EDGE_MIN_GRADIENT)
        if float(mag.max()) < high:
            continue
        # |d/dx| <= ~1000 Lab units/px after blurring, so x16 always fits in int16.
        gx = (dx * _CANNY_SCALE).astype(np.int16)
        gy = (dy * _CANNY_SCALE).astype(np.int16)
        edges |= cv2.Canny(gx, gy, 0.5 * high * _CANNY_SCALE, high * _CANNY_SCALE) > 0
    return edges


def _sample(lab: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Lab pixels of ``region``; large regions on a regular 2-px grid (means/covariances of >= 3000
    pixels change by far less than a Delta E unit, and it saves most of the time on big masks)."""
    if np.count_nonzero(region) > _MAX_STAT_PIXELS:
        return lab[::2, ::2][region[::2, ::2]]
    return lab[region]


def _colour_stats(lab_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = lab_px.mean(axis=0)
    cov = np.cov(lab_px, rowvar=False) if len(lab_px) > 1 else np.zeros((3, 3))
    return mean, cov


def _crop_box(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return (
        slice(max(rows[0] - margin, 0), min(rows[-1] + margin + 1, h)),
        slice(max(cols[0] - margin, 0), min(cols[-1] + margin + 1, w)),
    )


def _reference_gradient(image: np.ndarray) -> tuple[float, float]:
    """Median ``|grad L*|`` and ``|grad Lab|`` of the whole image, at half resolution for speed.

    Half resolution (area-averaged) halves the work by 4; gradients are rescaled to units per
    full-resolution pixel. This is only the reference level of the gradient ratio.
    """
    h, w = image.shape[:2]
    small = image if min(h, w) < 64 else cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    factor = 1.0 if small is image else 0.5
    dxs, dys, _ = _gradients(to_lab(small))
    # Medians over every other row/column: a 16k-sample median is as stable and 4x cheaper.
    dxs = [d[::2, ::2] for d in dxs]
    dys = [d[::2, ::2] for d in dys]
    g_l = np.sqrt(dxs[0] ** 2 + dys[0] ** 2) * factor
    g_lab = np.sqrt(sum(dx**2 + dy**2 for dx, dy in zip(dxs, dys, strict=True))) * factor
    return float(np.median(g_l)), float(np.median(g_lab))


def compute_descriptors(image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Compute every descriptor of :data:`DESCRIPTOR_NAMES` for one image and mask.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8
        RGB photograph.
    mask : ndarray, shape (H, W)
        Candidate lesion mask (truthy = lesion).

    Returns
    -------
    dict of str to float
        Keys in the order of :data:`DESCRIPTOR_NAMES`; see the module docstring for formulas and
        units. NaN where a descriptor is undefined (empty mask, full mask without a ring).

    Raises
    ------
    DataError
        If the image is not (H, W, 3) uint8 or the mask shape differs from the image.

    Notes
    -----
    Everything but the area fraction, the border touch and the reference gradient level runs
    on a crop around the mask (bounding box plus the widest neighbourhood used, plus filter
    support); results are identical to the full-image computation because no measure looks
    further from the boundary than the margin.
    """
    image, mask = _check_inputs(image, mask)
    h, w = mask.shape
    nan = float("nan")
    out = dict.fromkeys(DESCRIPTOR_NAMES, nan)
    area = int(np.count_nonzero(mask))
    out["area_fraction"] = area / float(h * w)
    if area == 0:
        out.update(n_components=0.0, n_holes=0.0, euler_number=0.0, border_touch=0.0, hole_fraction=0.0,
                   n_components_closed=0.0)
        return out

    # Boundary pixels: mask pixels with a 4-neighbour outside the mask (the frame counts as outside).
    padded = np.pad(mask, 1, constant_values=False)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:] & mask
    full_boundary = mask & ~interior
    on_frame = int(np.count_nonzero(full_boundary[0]) + np.count_nonzero(full_boundary[-1]))
    on_frame += int(np.count_nonzero(full_boundary[1:-1, 0]) + np.count_nonzero(full_boundary[1:-1, -1]))
    out["border_touch"] = on_frame / max(int(np.count_nonzero(full_boundary)), 1)

    r_eq = math.sqrt(area / math.pi)
    neighbourhood_px = max(6.0, 0.3 * r_eq)
    ring_px = max(3.0, 0.25 * r_eq)
    window_px = max(6.0, 0.5 * r_eq)
    # 0.6 r_eq bounds the widest closing (0.6 w, and w <= r_eq by the isoperimetric inequality).
    rows, cols = _crop_box(mask, int(math.ceil(max(neighbourhood_px, ring_px, window_px, 0.6 * r_eq))) + 6)
    mask = mask[rows, cols]
    boundary = full_boundary[rows, cols]
    m8 = mask.astype(np.uint8)

    n_lab, _, stats, _ = cv2.connectedComponentsWithStats(m8, connectivity=8)
    n_comp = n_lab - 1
    out["n_components"] = float(n_comp)
    out["largest_component_fraction"] = float(stats[1:, cv2.CC_STAT_AREA].max()) / area

    # Holes: 4-connected background components not touching the crop frame. The crop frame is
    # either the image frame or background connected around the bounding box, so this equals
    # the full-image definition.
    nb, bg_labels, bg_stats, _ = cv2.connectedComponentsWithStats(1 - m8, connectivity=4)
    frame = np.unique(np.concatenate([bg_labels[0], bg_labels[-1], bg_labels[:, 0], bg_labels[:, -1]]))
    hole_ids = np.setdiff1d(np.arange(1, nb), frame)
    hole_area = float(bg_stats[hole_ids, cv2.CC_STAT_AREA].sum()) if len(hole_ids) else 0.0
    out["n_holes"] = float(len(hole_ids))
    out["hole_fraction"] = hole_area / (area + hole_area)
    out["euler_number"] = float(n_comp - len(hole_ids))

    contours, hierarchy = cv2.findContours(m8, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    perimeter = _perimeter(list(contours))
    poly_area = _polygon_area(list(contours), hierarchy)
    hull = cv2.convexHull(np.concatenate(contours))
    hull_mask = np.zeros_like(m8)
    cv2.fillConvexPoly(hull_mask, hull, 1)
    out["solidity"] = area / max(float(np.count_nonzero(hull_mask)), 1.0)
    out["circularity"] = 4.0 * math.pi * poly_area / perimeter**2 if perimeter > 0 else nan
    hull_perimeter = cv2.arcLength(hull, True) if len(hull) > 1 else 0.0
    out["convexity"] = hull_perimeter / perimeter if perimeter > 0 else nan
    outer = [c for c, info in zip(contours, hierarchy[0], strict=True) if info[3] < 0]
    out["boundary_roughness"] = _roughness(max(outer, key=len), r_eq)

    # Gradients on lightly smoothed Lab: a correct boundary sits on the lesion's edge.
    lab = to_lab(image[rows, cols])
    dxs, dys, smooth = _gradients(lab)
    sq = [dx[boundary] ** 2 + dy[boundary] ** 2 for dx, dy in zip(dxs, dys, strict=True)]
    ref_l, ref_lab = _reference_gradient(image)
    out["boundary_gradient_ratio"] = float(np.sqrt(sq[0]).mean() / (ref_l + _EPS_GRADIENT))
    out["boundary_color_gradient_ratio"] = float(np.sqrt(sq[0] + sq[1] + sq[2]).mean() / (ref_lab + _EPS_GRADIENT))

    # Distances to the boundary from outside and from inside (L2, 5x5 mask: < 1 % error).
    dist_out = cv2.distanceTransform(1 - m8, cv2.DIST_L2, 5)
    dist_in = cv2.distanceTransform(m8, cv2.DIST_L2, 5)
    width = min(2.0 * poly_area / perimeter, r_eq) if perimeter > 0 and poly_area > 0 else 1.0
    out.update(_morphology(dist_in, dist_out, area, max(width, 1.0)))
    near_boundary = np.where(mask, dist_in, dist_out)  # ~1 px on either side of the boundary

    edges = _edges(dxs, dys)
    dist_to_edge = cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, 5)
    precision = float(np.mean(dist_to_edge[boundary] <= EDGE_TOLERANCE_PX))
    nearby_edges = (near_boundary <= neighbourhood_px) & edges
    recall = float(np.mean(near_boundary[nearby_edges] <= EDGE_TOLERANCE_PX + 1.0)) if nearby_edges.any() else 0.0
    out["boundary_f1"] = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0

    ring = (dist_out > 0) & (dist_out <= ring_px)
    if np.count_nonzero(ring) >= 2:
        mu_in, cov_in = _colour_stats(_sample(lab, mask))
        mu_ring, cov_ring = _colour_stats(_sample(lab, ring))
        diff = mu_in - mu_ring
        out["ring_delta_e"] = float(np.linalg.norm(diff))
        pooled = cov_in + cov_ring + 1e-3 * np.eye(3)
        fisher_direction = np.linalg.solve(pooled, diff)
        out["ring_fisher_ratio"] = float(diff @ fisher_direction)
        out["ring_delta_l"], out["ring_delta_a"], out["ring_delta_b"] = (float(v) for v in diff)
        inner = mask & (dist_in <= BAND_PX)
        outer_band = (dist_out > 0) & (dist_out <= BAND_PX)
        if inner.any() and outer_band.any():
            out["band_delta_e"] = float(np.linalg.norm(lab[inner].mean(axis=0) - lab[outer_band].mean(axis=0)))
        out["self_consistency_dice"], out["window_separability"] = _self_consistency(
            smooth, mask, dist_out <= window_px, fisher_direction)
        out.update(edge_offsets(smooth, mask, dist_in, dist_out, diff, max(width, 1.0)))
    return out


def _morphology(dist_in: np.ndarray, dist_out: np.ndarray, area: int, width: float) -> dict[str, float]:
    """Closing gain / opening loss at ``0.3 w`` and ``0.6 w``, components after a 2-px closing."""

    def close(r: float) -> np.ndarray:
        grown = (dist_out <= r).astype(np.uint8)
        return cv2.distanceTransform(grown, cv2.DIST_L2, 5) > r

    def open_(r: float) -> np.ndarray:
        shrunk = (dist_in > r).astype(np.uint8)
        return cv2.distanceTransform(1 - shrunk, cv2.DIST_L2, 5) <= r

    out = {"lesion_width_px": float(width)}
    for suffix, factor in (("", 0.3), ("_wide", 0.6)):
        r = max(factor * width, 1.0)
        out["closing_gain" + suffix] = (int(np.count_nonzero(close(r))) - area) / area
        out["opening_loss" + suffix] = (area - int(np.count_nonzero(open_(r)))) / area
    out["n_components_closed"] = float(cv2.connectedComponents(close(2.0).astype(np.uint8), connectivity=8)[0] - 1)
    return out


def _self_consistency(
    smooth_lab: np.ndarray, mask: np.ndarray, window: np.ndarray, direction: np.ndarray
) -> tuple[float, float]:
    """Dice between the mask and an Otsu re-segmentation of its neighbourhood (module docstring),
    and the Otsu separability of that neighbourhood (between-class over total variance)."""
    projected = smooth_lab @ direction.astype(np.float32)
    values = projected[window]
    lo, hi = float(values.min()), float(values.max())
    if hi - lo <= 1e-6:
        return 0.0, 0.0
    # Otsu on 8-bit quantised projections; window-only pixels enter the histogram.
    scaled = np.clip((projected - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
    threshold, _ = cv2.threshold(scaled[window].reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    auto = (scaled > threshold) & window
    above = scaled[window] > threshold
    share = float(np.mean(above))
    total_var = float(np.var(values))
    separability = 0.0
    if 0.0 < share < 1.0 and total_var > 0:
        gap = float(values[above].mean() - values[~above].mean())
        separability = share * (1.0 - share) * gap * gap / total_var
    _, labels = cv2.connectedComponents(auto.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[mask & auto])
    auto = np.isin(labels, touching[touching > 0])
    total = int(np.count_nonzero(auto)) + int(np.count_nonzero(mask))
    return (2.0 * int(np.count_nonzero(auto & mask)) / total if total else 0.0), separability
