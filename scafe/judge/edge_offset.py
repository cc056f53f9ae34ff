"""Edge-offset profile: how far, in pixels, the mask boundary sits from the image's colour edge.

At the Dice 0.85 line a mask of a 20 px-wide scar is off by only 1-3 px: too little for the
shape descriptors, and too little to judge by eye on a 256 px image. This module measures the
offset directly, along the boundary's normals.

Method
------
1. ``P = smooth_Lab . u``: the lightly smoothed (Gaussian sigma 1 px) CIELAB image projected
   on ``u``, the unit vector of the mean colour difference *inside minus the ring outside* (the
   same ring as ``ring_delta_e``). ``P`` is high on the mask's own colour and drops where it
   turns into the ring's colour.
2. ``M`` contour points (all contours, outer and hole; at most :data:`N_POINTS`, evenly spaced)
   with their outward normals, taken from the gradient of the Gaussian-smoothed (sigma 2 px)
   signed distance to the boundary (robust at corners and on holes).
3. Along each normal ``P`` is sampled (bilinear) at ``t = -K .. +K`` px in 0.5 px steps,
   ``K = clip(0.5 w, 3, 12)`` px with ``w = lesion_width_px``; each profile is averaged with
   those of its :data:`TANGENT_WINDOW` neighbours along the contour (skin texture and hair are
   noise at the pixel scale), and the profile's steepest drop
   ``argmin dP/dt`` is where the colour edge is. The contour runs through boundary-pixel
   centres, half a pixel inside the true boundary, so ``offset = t* - 0.5``. A point counts as
   *on an edge* when that drop is at least :data:`MIN_EDGE_STEP` Lab units per px.

Descriptors (NaN when the mask has no ring or no contour point sees an edge)
--------------------------------------------------------------------------
edge_offset_px
    Median signed offset, px: ``> 0`` the edge lies outside the mask (mask too small, eroded),
    ``< 0`` inside it (mask too large, dilated). ~0 for a correct mask.
edge_offset_abs_px
    Mean ``|offset|`` over the points on an edge, px (a shifted mask has ``|offset|`` of about
    ``2 d / pi`` for a shift of ``d`` px, with a median near 0 - this is why both are kept).
edge_offset_rel
    ``edge_offset_abs_px / lesion_width_px``: the same offset relative to the lesion's width, the
    scale at which Dice is lost (a 2 px offset costs ~20 % Dice on a 20 px-wide scar).
edge_strength
    Median over the contour points of the steepest drop found, Lab units per px: how visible the
    edge is near this boundary at all (context for the other three; low on faint scars).
edge_agreement
    Share of *all* sampled contour points whose edge lies within :data:`AGREE_PX` px of the
    boundary (points without an edge count as disagreeing).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from scipy.ndimage import uniform_filter1d

N_POINTS = 192  # contour points sampled; more changes the medians by far less than 0.1 px
STEP_PX = 0.5  # sampling step along the normal
MIN_EDGE_STEP = 0.6  # Lab units per px along the normal: weaker drops are texture, not an edge
TANGENT_WINDOW = 7  # profiles averaged over this many neighbouring contour points (texture noise)
AGREE_PX = 1.5  # |offset| at most this counts as on the edge (1 px rasterisation + 0.5 px sampling)

EDGE_OFFSET_NAMES: tuple[str, ...] = ("edge_offset_px", "edge_offset_abs_px", "edge_offset_rel", "edge_agreement",
                                      "edge_strength")


def search_half_width(width: float) -> float:
    """``K`` of the module docstring: how far along each normal the edge is searched, px."""
    return float(min(max(0.5 * width, 3.0), 12.0))


def edge_offsets(
    smooth_lab: np.ndarray,
    mask: np.ndarray,
    dist_in: np.ndarray,
    dist_out: np.ndarray,
    colour_diff: np.ndarray,
    width: float,
) -> dict[str, float]:
    """The four edge-offset descriptors (module docstring) on a crop around the mask.

    Parameters
    ----------
    smooth_lab : ndarray (H, W, 3) float32
        Gaussian-smoothed CIELAB crop.
    mask : ndarray (H, W) bool
        The mask on the same crop (must not be empty).
    dist_in, dist_out : ndarray (H, W) float32
        Distance transforms inside and outside the mask.
    colour_diff : ndarray (3,)
        Mean Lab inside minus mean Lab of the ring.
    width : float
        ``lesion_width_px``.
    """
    nan = float("nan")
    out = dict.fromkeys(EDGE_OFFSET_NAMES, nan)
    norm = float(np.linalg.norm(colour_diff))
    if not math.isfinite(norm) or norm < 1e-6:
        return out
    u = (np.asarray(colour_diff, np.float64) / norm).astype(np.float32)
    projected = np.ascontiguousarray(smooth_lab @ u)

    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    points = np.concatenate([c[:, 0, :] for c in contours]).astype(np.float32)  # (x, y)
    if len(points) > N_POINTS:
        points = points[np.linspace(0, len(points) - 1, N_POINTS).round().astype(int)]
    signed = cv2.GaussianBlur(dist_out - dist_in, (0, 0), 2.0)
    gx = cv2.Sobel(signed, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(signed, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    xi, yi = points[:, 0].astype(int), points[:, 1].astype(int)
    normals = np.column_stack([gx[yi, xi], gy[yi, xi]])
    length = np.linalg.norm(normals, axis=1)
    ok = length > 1e-6
    if not ok.any():
        return out
    points, normals = points[ok], normals[ok] / length[ok, None]

    k = search_half_width(width)
    t = np.arange(-k, k + STEP_PX / 2, STEP_PX, dtype=np.float32)
    map_x = (points[:, 0, None] + t[None, :] * normals[:, 0, None]).astype(np.float32)
    map_y = (points[:, 1, None] + t[None, :] * normals[:, 1, None]).astype(np.float32)
    profile = cv2.remap(projected, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if TANGENT_WINDOW > 1 and len(profile) >= TANGENT_WINDOW:
        profile = uniform_filter1d(profile, TANGENT_WINDOW, axis=0, mode="wrap")
    slope = np.diff(profile, axis=1) / STEP_PX  # (M, T-1), at the midpoints of t
    at = np.argmin(slope, axis=1)
    drop = -slope[np.arange(len(at)), at]
    offset = (t[at] + STEP_PX / 2) - 0.5
    on_edge = drop >= MIN_EDGE_STEP
    n_all = len(at)
    out["edge_agreement"] = float(np.count_nonzero(on_edge & (np.abs(offset) <= AGREE_PX)) / n_all)
    out["edge_strength"] = float(np.median(drop))
    if not on_edge.any():
        return out
    found = offset[on_edge]
    out["edge_offset_px"] = float(np.median(found))
    out["edge_offset_abs_px"] = float(np.mean(np.abs(found)))
    out["edge_offset_rel"] = out["edge_offset_abs_px"] / max(width, 1.0)
    return out
