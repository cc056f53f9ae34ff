"""PNG encodings for the judge: the photograph, and the photograph with mask outlines drawn in.

Used by the LLM chain's ``--vision`` stage 2 (image parts) and by the benchmark report.
"""

from __future__ import annotations

import cv2
import numpy as np

CANDIDATE_RGB = (0, 255, 0)  # green: the mask being judged
TRUTH_RGB = (255, 0, 255)  # magenta: ground truth (benchmark report only)


PNG_COMPRESSION = 1  # zlib level: 1 is ~5x faster than the default 6 and only ~15 % larger


def png_bytes(image: np.ndarray) -> bytes:
    """Lossless PNG bytes of an RGB uint8 image (or a bool/uint8 mask)."""
    array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.ndim == 3:
        array = cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_RGB2BGR)  # OpenCV writes BGR
    ok, encoded = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:  # pragma: no cover - imencode fails only on unsupported dtypes
        raise ValueError(f"Could not encode an array of shape {array.shape} and dtype {array.dtype} as PNG.")
    return encoded.tobytes()


def draw_outline(image: np.ndarray, mask: np.ndarray, rgb: tuple[int, int, int], thickness: int = 1) -> np.ndarray:
    """A copy of ``image`` with the outer and hole contours of ``mask`` drawn in ``rgb``."""
    out = np.ascontiguousarray(image.copy())
    contours, _ = cv2.findContours(np.asarray(mask, np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, rgb, thickness)
    return out


def overlay_png(image: np.ndarray, mask: np.ndarray, truth: np.ndarray | None = None) -> bytes:
    """PNG of the photograph with the candidate mask (green) and optionally the truth (magenta)."""
    drawn = draw_outline(image, mask, CANDIDATE_RGB)
    if truth is not None:
        drawn = draw_outline(drawn, truth, TRUTH_RGB)
    return png_bytes(drawn)


ZOOM_TARGET_PX = 512  # the zoomed crop's longer side is scaled up to about this many pixels
ZOOM_MAX_FACTOR = 8
FILL_ALPHA = 0.35  # opacity of the mask fill on the zoomed crop


def zoom_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of the crop around the mask: bounding box plus a margin of
    ``max(8 px, 25 %)`` of its larger side, clipped to the image (the whole image for an empty mask)."""
    h, w = mask.shape
    rows = np.flatnonzero(np.asarray(mask).any(axis=1))
    cols = np.flatnonzero(np.asarray(mask).any(axis=0))
    if rows.size == 0:
        return 0, h, 0, w
    margin = max(8, int(round(0.25 * max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))))
    return (max(rows[0] - margin, 0), min(rows[-1] + 1 + margin, h),
            max(cols[0] - margin, 0), min(cols[-1] + 1 + margin, w))


def zoomed_overlay(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """The crop around the mask scaled up by an integer factor: plain, and with the mask filled
    semi-transparently (green, alpha :data:`FILL_ALPHA`) and outlined at the zoomed resolution.

    Returns ``(plain, overlaid, info)`` with ``info = {"top", "left", "height", "width", "factor"}``
    (the crop in original pixels and the zoom factor): one original pixel is ``factor`` pixels wide.
    """
    top, bottom, left, right = zoom_box(mask)
    crop = np.ascontiguousarray(image[top:bottom, left:right])
    cmask = np.asarray(mask[top:bottom, left:right], bool)
    longest = max(crop.shape[0], crop.shape[1])
    factor = int(min(max(ZOOM_TARGET_PX // max(longest, 1), 1), ZOOM_MAX_FACTOR))
    size = (crop.shape[1] * factor, crop.shape[0] * factor)
    plain = cv2.resize(crop, size, interpolation=cv2.INTER_NEAREST)  # nearest: pixels stay pixels
    big_mask = cv2.resize(cmask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    fill = plain.astype(np.float32)
    fill[big_mask] = (1 - FILL_ALPHA) * fill[big_mask] + FILL_ALPHA * np.array(CANDIDATE_RGB, np.float32)
    overlaid = draw_outline(np.clip(fill, 0, 255).astype(np.uint8), big_mask, CANDIDATE_RGB, thickness=1)
    info = {"top": int(top), "left": int(left), "height": int(bottom - top), "width": int(right - left), "factor": factor}
    return plain, overlaid, info


def vision_images(image: np.ndarray, mask: np.ndarray) -> tuple[list[bytes], dict[str, int]]:
    """The images sent to the vision stages, as PNG bytes, in this order:

    1. the whole photograph with the mask outline (green, 1 px);
    2. the zoomed crop around the mask, plain (to see the lesion's own edge);
    3. the same crop with the mask filled semi-transparently and outlined.

    Returns the PNGs and the crop info of :func:`zoomed_overlay`.
    """
    plain, overlaid, info = zoomed_overlay(image, mask)
    return [overlay_png(image, mask), png_bytes(plain), png_bytes(overlaid)], info
