"""Issue 12 item 5: one pixel limit for every format, read from the header before decoding."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scafe.data.images import DEFAULT_MAX_PIXELS, max_pixels, read_image, read_mask
from scafe.errors import DataError
from scafe.extraction.decode import read_image_fast, read_mask_fast


def tiff_claiming(path: Path, width: int, height: int) -> Path:
    """A ~200-byte uncompressed 8-bit gray TIFF whose header claims ``width`` x ``height``."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHI", tag, kind, count) + (struct.pack("<HH", value, 0) if kind == 3
                                                        else struct.pack("<I", value))
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + bytes(16))
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_claiming(path: Path, width: int, height: int, colour_type: int = 2) -> Path:
    """A tiny PNG whose IHDR claims ``width`` x ``height`` (8-bit; RGB by default)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
                     + _chunk(b"IEND", b""))
    return path


def jpeg_claiming(path: Path, width: int, height: int) -> Path:
    """A small real JPEG with its SOF0 frame size patched to ``width`` x ``height``."""
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 7] = struct.pack(">H", height)
    data[sof + 7:sof + 9] = struct.pack(">H", width)
    path.write_bytes(bytes(data))
    return path


def _refused(reader, path: Path) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DataError) as info:
            reader(path)
    assert not [w for w in caught if "decompression" in str(w.message).lower()], "a Python warning leaked"
    message = str(info.value)
    assert "Mpx" in message, message
    assert "SCAFE_MAX_PIXELS" in message, message
    return message


def test_default_limit_is_50_megapixels(monkeypatch):
    monkeypatch.delenv("SCAFE_MAX_PIXELS", raising=False)
    assert DEFAULT_MAX_PIXELS == max_pixels() == 50_000_000


def test_tiff_header_claiming_10_gigapixels_is_refused_unread(tmp_path):
    path = tiff_claiming(tmp_path / "bomb.tif", 100_000, 100_000)
    assert path.stat().st_size < 512
    message = _refused(read_image, path)
    assert "100000x100000" in message
    _refused(read_mask, path)


def test_tiled_compressed_tiff_over_the_limit_is_refused(tmp_path, monkeypatch):
    import tifffile

    path = tmp_path / "tiled.tif"
    tifffile.imwrite(path, np.zeros((512, 512), np.uint8), tile=(256, 256), compression="zlib")
    monkeypatch.setenv("SCAFE_MAX_PIXELS", "100000")  # 512 x 512 = 262144 px > 0.1 Mpx
    _refused(read_image, path)
    monkeypatch.setenv("SCAFE_MAX_PIXELS", "300000")
    assert read_image(path).shape == (512, 512, 3)


def test_png_in_pillows_warning_range_is_refused_with_the_same_message(tmp_path):
    path = png_claiming(tmp_path / "big.png", 10_000, 9_000)  # 90 Mpx: Pillow warns at 89.5 Mpx
    _refused(read_image, path)
    _refused(read_image_fast, path)
    gray = png_claiming(tmp_path / "bigmask.png", 10_000, 9_000, colour_type=0)
    _refused(read_mask_fast, gray)


def test_jpeg_in_pillows_error_range_is_refused_with_the_same_message(tmp_path):
    _refused(read_image, jpeg_claiming(tmp_path / "big.jpg", 65_000, 65_000))


def test_png_just_over_a_lowered_limit_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "small.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(path)
    monkeypatch.setenv("SCAFE_MAX_PIXELS", "599")
    _refused(read_image, path)
    _refused(read_image_fast, path)
    monkeypatch.setenv("SCAFE_MAX_PIXELS", "600")
    assert read_image_fast(path).shape == (20, 30, 3)


@pytest.mark.parametrize("value", ["0", "-5", "many", "1e99x"])
def test_bad_limit_setting_is_a_config_error(monkeypatch, value):
    from scafe.errors import ConfigError

    monkeypatch.setenv("SCAFE_MAX_PIXELS", value)
    with pytest.raises(ConfigError, match="SCAFE_MAX_PIXELS"):
        max_pixels()


def test_image_crashing_every_extractor_gets_a_reason(monkeypatch):
    """A child that dies on one image with every extractor: the error rows say why."""
    from scafe.extraction import engine

    def dying(self, sha, image, mask):
        return "crashed", None, "the child died without a result (exit code 70)"

    monkeypatch.setattr(engine.RunnerSet, "run", dying)
    item = engine.WorkItem("big", image=np.zeros((300, 400, 3), np.uint8), mask=np.ones((300, 400), bool))
    cells = engine.run_item(engine.RunnerSet({}), item, ["a" * 64, "b" * 64])
    assert len(cells) == 2
    for cell in cells:
        assert "every extractor" in cell[4]
        assert "400x300" in cell[4]
        assert "SCAFE_MAX_PIXELS" in cell[4]
