"""Read user images and masks into the extractor contract: ``(H, W, 3) uint8`` RGB, ``(H, W)`` bool.

PNG and JPEG are decoded by Pillow (which refuses truncated files); TIFF by tifffile, so 16-bit
and float TIFFs keep their full range before scaling; DICOM (``.dcm``, optional) by pydicom, scaled
from its ``BitsStored`` range. Conversions:

* 16-bit (TIFF, PNG, DICOM): scaled from its *bit depth* ``b`` to 0..255, ``round(v * 255 / (2**b - 1))``.
  ``b`` is ``SCAFE_BIT_DEPTH`` (the ``--bit-depth`` option of the commands that read images: 8..16,
  or ``auto``, the default). ``auto`` takes the TIFF ``MaxSampleValue`` tag when a writer set it
  below 65535, else 12 when the image's maximum is below 4096 (a 12-bit sensor's data stored in 16
  bits; read as full-range 16-bit it would be 16x too dark), else 16 (65535 -> 255). A value above
  an explicit depth's range is an error, never clipped. ``scafe data check`` names every image read
  as fewer than 16 bits, and the reading commands print how many were (:func:`decode_image`);
  32-bit integer: ``round(v / 16843009)``;
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from scafe.errors import ConfigError, DataError

TIFF_SUFFIXES = (".tif", ".tiff")
PNG_SUFFIXES = (".png",)
DICOM_SUFFIXES = (".dcm", ".dicom")
MAX_PIXELS_ENV = "SCAFE_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 50_000_000
BIT_DEPTH_ENV = "SCAFE_BIT_DEPTH"
AUTO_12_BIT_BELOW = 4096  # auto: a 16-bit image whose maximum is below this holds 12-bit data


@dataclass(frozen=True)
class ImageInfo:
    """How an image was turned into uint8: its stored type and maximum, and for 16-bit data the
    bit depth it was scaled from and whether that depth was inferred (``auto``) or given."""

    dtype: str
    maximum: int
    bit_depth: int | None = None
    inferred: bool = False

    @property
    def note(self) -> str | None:
        """A sentence for the user when a 16-bit image was read as fewer than 16 bits, else None."""
        if self.bit_depth is None or self.bit_depth == 16:
            return None
        how = "inferred" if self.inferred else "as set by --bit-depth/SCAFE_BIT_DEPTH"
        text = (f"16-bit image with maximum {self.maximum} (of 65535) read as {self.bit_depth}-bit data "
                f"({how}): 0..{2 ** self.bit_depth - 1} -> 0..255")
        if self.inferred:
            text += "; pass --bit-depth 16 if it really is a dark full-range 16-bit image"
            if self.maximum < 1024:
                text += ", or --bit-depth 10 (or 8) if that is the sensor's depth"
        return text


def bit_depth_setting() -> int | None:
    """``SCAFE_BIT_DEPTH``: an integer 8..16, or None for ``auto`` (unset, empty or 'auto')."""
    text = os.environ.get(BIT_DEPTH_ENV, "").strip().lower()
    if text in ("", "auto"):
        return None
    if text.isdigit() and 8 <= int(text) <= 16:
        return int(text)
    raise ConfigError(f"{BIT_DEPTH_ENV}={text!r} (--bit-depth) must be 'auto' or a number of bits from 8 to 16, "
                      "e.g. 12 for a 12-bit sensor's images stored as 16-bit TIFF.")


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


def _tiff_max_sample(path: Path) -> int | None:
    """The TIFF ``MaxSampleValue`` tag when a writer set it below 65535 (e.g. 4095), else None."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page: Any = tif.pages.first if hasattr(tif.pages, "first") else tif.pages[0]
        tag = page.tags.get("MaxSampleValue")
        if tag is None:
            return None
        value = tag.value
        top = int(max(value) if isinstance(value, tuple | list) else value)
    return top if 0 < top < 65535 else None


def _png_bit_depth(path: Path) -> int | None:
    """The bit depth of a PNG file's IHDR (None when not a PNG)."""
    with open(path, "rb") as handle:
        head = handle.read(26)
    if len(head) < 26 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int(head[24])


def _decode_png16(path: Path) -> np.ndarray | None:
    """A 16-bit PNG as uint16 RGB(A) or gray through OpenCV (Pillow keeps only the high byte of
    16-bit colour PNGs: a 12-bit image would come out 16x too dark); None if OpenCV cannot."""
    import cv2

    with Image.open(path) as opened:  # header only: the pixel limit before OpenCV allocates
        check_pixels(opened.size[0], opened.size[1], path)
    arr = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint16:
        return None
    if arr.ndim == 3 and arr.shape[-1] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    elif arr.ndim == 3 and arr.shape[-1] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGBA)
    return np.ascontiguousarray(arr)


def _decode(path: Path) -> np.ndarray:
    """Raw pixel array of ``path`` (any dtype, 2-D or 3-D); ``DataError`` if unreadable."""
    if not path.is_file():
        raise DataError(f"file not found: {path}")
    try:
        arr16 = _decode_png16(path) if path.suffix.lower() in PNG_SUFFIXES and _png_bit_depth(path) == 16 else None
        if arr16 is not None:
            arr = arr16
        elif path.suffix.lower() in DICOM_SUFFIXES:
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


def _scale_uint16(arr: np.ndarray, path: Path, bit_depth: int | None) -> tuple[np.ndarray, ImageInfo]:
    """16-bit data -> uint8 from its bit depth (see the module docstring); never clipped silently."""
    top = int(arr.max(initial=0))
    inferred = bit_depth is None
    if bit_depth is None:
        tagged = _tiff_max_sample(path) if path.suffix.lower() in TIFF_SUFFIXES else None
        if tagged is not None and top <= tagged:
            bit_depth = max(8, tagged.bit_length())
        else:
            bit_depth = 12 if top < AUTO_12_BIT_BELOW else 16
    full = 2**bit_depth - 1
    if top > full:
        needed = max(bit_depth + 1, top.bit_length())
        raise DataError(f"image {path} holds values up to {top}, above the {bit_depth}-bit range 0..{full} set by "
                        f"--bit-depth/{BIT_DEPTH_ENV}; pass --bit-depth {needed} (or auto).")
    scaled = np.round(arr * (255.0 / full)).astype(np.uint8)
    return scaled, ImageInfo("uint16", top, bit_depth, inferred)


def _to_uint8(arr: np.ndarray, path: Path, bit_depth: int | None = None) -> tuple[np.ndarray, ImageInfo]:
    info = ImageInfo(str(arr.dtype), int(arr.max(initial=0)) if np.issubdtype(arr.dtype, np.integer) else 0)
    if arr.dtype == np.uint8:
        return arr, info
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255, info
    if arr.dtype == np.uint16:
        return _scale_uint16(arr, path, bit_depth)
    return _to_uint8_other(arr, path), info


def _to_uint8_other(arr: np.ndarray, path: Path) -> np.ndarray:
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
    return decode_image(path)[0]


def decode_image(path: str | os.PathLike[str], bit_depth: int | None | str = "setting") -> tuple[np.ndarray, ImageInfo]:
    """:func:`read_image` and how the pixels were converted (:class:`ImageInfo`).

    ``bit_depth``: the depth of 16-bit data (8..16), None for auto, or ``"setting"`` (default):
    ``SCAFE_BIT_DEPTH``.
    """
    path = Path(path)
    depth = bit_depth_setting() if bit_depth == "setting" else bit_depth
    arr, info = _to_uint8(_decode(path), path, depth if isinstance(depth, int) else None)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif arr.shape[-1] in (1, 2):  # gray or gray + alpha
        arr = np.repeat(arr[..., :1], 3, axis=2)
    else:
        arr = arr[..., :3]
    return np.ascontiguousarray(arr), info


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
