"""Read user images and masks into the extractor contract: ``(H, W, 3) uint8`` RGB, ``(H, W)`` bool.

PNG and JPEG are decoded by Pillow (which refuses truncated files); TIFF by tifffile, so 16-bit
and float TIFFs keep their full range before scaling; DICOM (``.dcm``, optional) by pydicom, scaled
from its ``BitsStored`` range. Conversions:

* 16-bit: ``round(v / 257)`` (65535 -> 255); 32-bit integer: ``round(v / 16843009)``;
  float: ``round(255 * clip(v, 0, 1))`` when ``max <= 1``, else clipped to 0..255;
* grayscale -> R = G = B; gray+alpha / RGBA -> alpha dropped; palette -> RGB.

Masks: bool, 0/1, 0/255 (or 0/65535) in one channel, or an RGB(A) image whose colour channels are
equal; any other value is "not binary" (a JPEG mask usually is: save masks as PNG).

Pixel limit: one limit for every format, ``SCAFE_MAX_PIXELS`` (default 50 000 000 = 50 Mpx, above
any clinical photograph). The image's shape is read from its header (TIFF tags, PNG IHDR, JPEG
SOF through Pillow without decoding, DICOM Rows/Columns) and an image above the limit is refused
before a byte of pixel data is decoded, so a 1 kB file claiming 100000x100000 pixels costs
nothing. Pillow's own ``DecompressionBombWarning``/``Error`` become the same refusal.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from scafe.errors import ConfigError, DataError

TIFF_SUFFIXES = (".tif", ".tiff")
DICOM_SUFFIXES = (".dcm", ".dicom")
MAX_PIXELS_ENV = "SCAFE_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 50_000_000


def max_pixels() -> int:
    """The pixel limit: ``SCAFE_MAX_PIXELS`` (a positive integer) or 50 000 000."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip().replace("_", "")
    if not text:
        return DEFAULT_MAX_PIXELS
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{MAX_PIXELS_ENV}={text!r} must be a positive number of pixels, e.g. 50000000 (50 Mpx).")
    return int(text)


def check_pixels(width: int, height: int, path: str | os.PathLike[str], frames: int = 1) -> None:
    """Refuse an image of ``width`` x ``height`` (x ``frames``) pixels above :func:`max_pixels`."""
    limit = max_pixels()
    total = int(width) * int(height) * max(1, int(frames))
    if total > limit:
        shape = f"{int(width)}x{int(height)}" + (f"x{int(frames)} frames" if frames > 1 else "")
        raise DataError(
            f"image {path} is {shape} = {total / 1e6:.1f} Mpx, more than the limit of {limit / 1e6:g} Mpx; "
            f"downscale it, or raise the limit with {MAX_PIXELS_ENV}=<pixels> if the file is trusted."
        )


def _check_tiff(path: Path) -> None:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page: Any = tif.pages.first if hasattr(tif.pages, "first") else tif.pages[0]
        series = tif.series[0] if tif.series else None
        width, height = int(page.imagewidth), int(page.imagelength)
        elements = int(np.prod(series.shape)) if series is not None else width * height
        samples = max(1, int(getattr(page, "samplesperpixel", 1) or 1))
        check_pixels(width, height, path, frames=max(1, elements // samples // max(1, width * height)))


def _open_pillow(path: Path) -> Image.Image:
    """``Image.open`` with Pillow's bomb check turned into our refusal (header only, no decode)."""
    limit = max_pixels()
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < limit:
        Image.MAX_IMAGE_PIXELS = limit  # a raised limit applies to Pillow's own check too
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened = Image.open(path)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            found = re.search(r"\((\d+) pixels\)", str(exc))
            total = int(found.group(1)) if found else limit + 1
            raise DataError(
                f"image {path} is {total / 1e6:.1f} Mpx, more than the limit of {limit / 1e6:g} Mpx; "
                f"downscale it, or raise the limit with {MAX_PIXELS_ENV}=<pixels> if the file is trusted."
            ) from None
    try:
        check_pixels(opened.size[0], opened.size[1], path)  # only the first frame is ever decoded
    except BaseException:
        opened.close()
        raise
    return opened


def _decode(path: Path) -> np.ndarray:
    """Raw pixel array of ``path`` (any dtype, 2-D or 3-D); ``DataError`` if unreadable."""
    if not path.is_file():
        raise DataError(f"file not found: {path}")
    try:
        if path.suffix.lower() in DICOM_SUFFIXES:
            arr = _decode_dicom(path)
        elif path.suffix.lower() in TIFF_SUFFIXES:
            import tifffile

            _check_tiff(path)  # shape from the tags, before any pixel is decoded
            arr = np.asarray(tifffile.imread(path))
        else:
            with _open_pillow(path) as opened:
                opened.load()  # forces a full decode: truncated files raise here
                img: Image.Image = opened
                if img.mode == "P":
                    img = img.convert("RGBA" if "transparency" in img.info else "RGB")
                elif img.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                    img = img.convert("RGB")
                arr = np.asarray(img)
    except DataError:
        raise
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError, EOFError) as exc:
        raise DataError(f"unreadable or truncated image {path}: {exc}") from None
    except Exception as exc:  # decoders raise assorted types (e.g. struct.error, IndexError)
        raise DataError(f"unreadable or truncated image {path}: {type(exc).__name__}: {exc}") from None
    if arr.ndim == 3 and arr.shape[0] in (3, 4) and arr.shape[-1] not in (3, 4):
        arr = np.moveaxis(arr, 0, -1)  # planar TIFF (C, H, W)
    if arr.ndim not in (2, 3) or arr.size == 0 or (arr.ndim == 3 and arr.shape[-1] not in (1, 2, 3, 4)):
        raise DataError(f"unsupported image layout {arr.shape} in {path}; expected (H, W) or (H, W, 1..4).")
    return arr


def _decode_dicom(path: Path) -> np.ndarray:
    """Pixels of a single-frame DICOM file as uint8: ``BitsStored`` full range -> 0..255.

    MONOCHROME1 (white = 0) is inverted; YBR colour is converted to RGB. Needs ``pydicom``
    (``pip install 'scafe[dicom]'``).
    """
    try:
        import pydicom
    except ImportError:
        raise DataError(f"{path} is DICOM, which needs pydicom: pip install 'scafe[dicom]'.") from None
    head = pydicom.dcmread(path, stop_before_pixels=True)
    check_pixels(int(getattr(head, "Columns", 0) or 0), int(getattr(head, "Rows", 0) or 0), path,
                 frames=int(getattr(head, "NumberOfFrames", 1) or 1))
    ds = pydicom.dcmread(path)
    arr = np.asarray(ds.pixel_array)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > 1:
        raise DataError(f"{path} holds {frames} frames; scafe reads single-frame DICOM images only.")
    photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2"))
    if photometric.startswith("YBR"):
        from pydicom.pixels import convert_color_space

        arr = convert_color_space(arr, photometric, "RGB")
    if np.issubdtype(arr.dtype, np.integer) and arr.dtype != np.uint8:
        bits = int(getattr(ds, "BitsStored", 8 * arr.dtype.itemsize))
        arr = np.round(np.clip(arr, 0, None) * (255.0 / (2**bits - 1))).astype(np.uint8)
    if photometric == "MONOCHROME1":
        arr = 255 - arr
    return arr


def _to_uint8(arr: np.ndarray, path: Path) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if arr.dtype == np.uint16:
        return np.round(arr / 257.0).astype(np.uint8)
    if arr.dtype in (np.uint32, np.int32):
        return np.round(np.clip(arr, 0, None) / 16843009.0).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        scale = 255.0 if finite.max(initial=0.0) <= 1.0 else 1.0
        return np.round(np.clip(finite * scale, 0, 255)).astype(np.uint8)
    if arr.dtype == np.int16:
        return np.round(np.clip(arr, 0, None) / 128.5).astype(np.uint8)
    raise DataError(f"unsupported pixel type {arr.dtype} in {path}; use 8- or 16-bit PNG/TIFF or JPEG.")


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image as ``(H, W, 3) uint8`` RGB (see the module docstring for conversions)."""
    path = Path(path)
    arr = _to_uint8(_decode(path), path)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif arr.shape[-1] in (1, 2):  # gray or gray + alpha
        arr = np.repeat(arr[..., :1], 3, axis=2)
    else:
        arr = arr[..., :3]
    return np.ascontiguousarray(arr)


def read_mask(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a binary mask as ``(H, W)`` bool; ``DataError`` if it holds non-binary values."""
    path = Path(path)
    arr = _decode(path)
    if arr.ndim == 3:
        colour = arr[..., : min(3, arr.shape[-1])]
        if colour.shape[-1] > 1 and not (colour == colour[..., :1]).all():
            raise DataError(f"mask {path} is a colour image; save it as a single-channel 0/255 PNG.")
        arr = colour[..., 0]
    if arr.dtype == bool:
        return arr.copy()
    values = np.unique(arr)
    if values.size > 2 or not all(v in (0, 1, 255, 65535) for v in values.tolist()) or (
        values.size == 2 and values[0] != 0
    ):
        shown = ", ".join(str(v) for v in values[:6].tolist()) + (" ..." if values.size > 6 else "")
        raise DataError(
            f"mask {path} is not binary: values {shown}; use 0/1, 0/255 or bool (save masks as PNG, not JPEG)."
        )
    return arr != 0
