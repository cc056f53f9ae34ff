"""Image/mask reading for the extraction hot path: a faster decoder for the common PNG case.

``scafe.data.dataset.read_image`` / ``read_mask`` decode with Pillow and cover every format and
conversion. Extraction reads the same file format almost always (8-bit RGB PNG images, 8-bit
grayscale PNG masks), where OpenCV's libpng decoder is about 30 % faster than Pillow's and
releases the GIL (so worker threads decode in parallel). :func:`read_image_fast` /
:func:`read_mask_fast` take that path only when the file's PNG header says exactly that layout
and the decoded array has the expected shape; anything else (other formats, 16-bit, palette,
gray images, transparency, masks that are not clean 0/1/255, unreadable files) goes to the
``scafe.data`` readers, so the result, and every error message, is the same as theirs
(``tests/extraction/test_decode.py`` checks the equality).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from scafe.data.images import check_pixels

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_RGB = 2   # PNG colour type: truecolour without alpha
_GRAY = 0  # PNG colour type: grayscale without alpha


def _png_layout(path: str | os.PathLike[str]) -> tuple[int, int, int, int] | None:
    """``(width, height, bit depth, colour type)`` from a PNG file's IHDR, or None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(29)
    except OSError:
        return None
    if len(head) < 29 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        return None
    width = int.from_bytes(head[16:20], "big")
    height = int.from_bytes(head[20:24], "big")
    return width, height, head[24], head[25]


def _cv2_read(path: str | os.PathLike[str]) -> np.ndarray | None:
    import cv2

    try:
        arr = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
    return arr if isinstance(arr, np.ndarray) and arr.dtype == np.uint8 else None


def read_image_fast(path: str | os.PathLike[str], bit_depth: int | None | str = "setting") -> np.ndarray:
    """Same result as ``scafe.data.dataset.read_image(path)``; faster for 8-bit RGB PNG files.

    ``bit_depth`` (16-bit images only): as :func:`scafe.data.images.decode_image`.
    """
    layout = _png_layout(path)
    if layout is not None:
        check_pixels(layout[0], layout[1], path)  # before OpenCV allocates anything
    if layout is not None and layout[2:] == (8, _RGB):
        bgr = _cv2_read(path)
        if bgr is not None and bgr.shape == (layout[1], layout[0], 3):
            import cv2

            return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    from scafe.data.images import decode_image

    return decode_image(Path(path), bit_depth)[0]


def read_mask_fast(path: str | os.PathLike[str]) -> np.ndarray:
    """Same result as ``scafe.data.dataset.read_mask(path)``; faster for 8-bit grayscale PNG masks."""
    layout = _png_layout(path)
    if layout is not None:
        check_pixels(layout[0], layout[1], path)
    if layout is not None and layout[2:] == (8, _GRAY):
        raw = _cv2_read(path)
        if raw is not None and raw.shape == (layout[1], layout[0]):
            high = int(raw.max())
            nonzero = int(np.count_nonzero(raw))
            # binary 0/1 or 0/255 (or all zero): every nonzero pixel holds the maximum
            if high in (0, 1, 255) and nonzero == int(np.count_nonzero(raw == high)) * (high != 0):
                return raw != 0
    from scafe.data.dataset import read_mask

    return read_mask(Path(path))
