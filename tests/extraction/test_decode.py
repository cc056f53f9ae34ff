"""The extraction engine's fast PNG path gives exactly what scafe.data's readers give (or the same error)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scafe.data.dataset import read_image, read_mask
from scafe.errors import DataError
from scafe.extraction import decode
from scafe.extraction.decode import read_image_fast, read_mask_fast

RNG = np.random.default_rng(42)


def _rgb(h: int = 37, w: int = 53) -> np.ndarray:
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _save(path: Path, img: Image.Image, **kw: object) -> Path:
    img.save(path, **kw)
    return path


def _images(tmp: Path) -> dict[str, Path]:
    rgb = _rgb()
    gray = RNG.integers(0, 256, (29, 31), dtype=np.uint8)
    files = {
        "rgb8": _save(tmp / "rgb8.png", Image.fromarray(rgb)),
        "rgb8_max_compression": _save(tmp / "rgbc.png", Image.fromarray(_rgb(64, 48)), compress_level=9),
        "rgba8": _save(tmp / "rgba8.png", Image.fromarray(RNG.integers(0, 256, (20, 22, 4), dtype=np.uint8))),
        "gray8": _save(tmp / "gray8.png", Image.fromarray(gray)),
        "gray16": _save(tmp / "gray16.png", Image.fromarray(gray.astype(np.uint16) * 257 + 3)),
        "palette": _save(tmp / "palette.png", Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE)),
        "rgb_trns": _save(tmp / "trns.png", Image.fromarray(rgb), transparency=(1, 2, 3)),
        "jpeg": _save(tmp / "img.jpg", Image.fromarray(rgb), quality=90),
    }
    return files


def _masks(tmp: Path) -> dict[str, Path]:
    m = RNG.random((33, 41)) > 0.6
    files = {
        "l_0_255": _save(tmp / "m255.png", Image.fromarray(m.astype(np.uint8) * 255)),
        "l_0_1": _save(tmp / "m1.png", Image.fromarray(m.astype(np.uint8))),
        "l_all_zero": _save(tmp / "m0.png", Image.fromarray(np.zeros((9, 7), np.uint8))),
        "l_all_255": _save(tmp / "mfull.png", Image.fromarray(np.full((9, 7), 255, np.uint8))),
        "mode_1": _save(tmp / "mbit.png", Image.fromarray(m)),
        "rgb_equal": _save(tmp / "mrgb.png", Image.fromarray(np.repeat(m[..., None].astype(np.uint8) * 255, 3, 2))),
        "l_16bit": _save(tmp / "m16.png", Image.fromarray(m.astype(np.uint16) * 65535)),
    }
    return files


def _bad_masks(tmp: Path) -> dict[str, Path]:
    m = RNG.random((33, 41)) > 0.6
    grey = m.astype(np.uint8) * 255
    grey[0, 0] = 128  # a third value
    two = m.astype(np.uint8) * 200  # 0/200 is not binary for read_mask
    colour = np.zeros((8, 8, 3), np.uint8)
    colour[2, 2] = (255, 0, 0)
    return {
        "three_values": _save(tmp / "bad3.png", Image.fromarray(grey)),
        "zero_200": _save(tmp / "bad200.png", Image.fromarray(two)),
        "colour": _save(tmp / "badrgb.png", Image.fromarray(colour)),
    }


def _truncated(tmp: Path) -> Path:
    good = _save(tmp / "full.png", Image.fromarray(_rgb(200, 200)))
    data = good.read_bytes()
    bad = tmp / "truncated.png"
    bad.write_bytes(data[: len(data) // 2])
    return bad


def test_fast_image_reader_equals_read_image(tmp_path: Path) -> None:
    for name, path in _images(tmp_path).items():
        want, got = read_image(path), read_image_fast(path)
        assert got.dtype == want.dtype == np.uint8, name
        assert got.shape == want.shape, name
        assert got.flags.c_contiguous, name
        assert np.array_equal(got, want), name


def test_fast_mask_reader_equals_read_mask(tmp_path: Path) -> None:
    for name, path in _masks(tmp_path).items():
        want, got = read_mask(path), read_mask_fast(path)
        assert got.dtype == want.dtype == np.bool_, name
        assert got.shape == want.shape, name
        assert np.array_equal(got, want), name


def test_fast_path_is_taken_for_8bit_rgb_and_gray_png(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The common layouts really use the OpenCV path (else this module would be pointless)."""
    images, masks = _images(tmp_path), _masks(tmp_path)
    calls: list[str] = []
    real = decode._cv2_read
    monkeypatch.setattr(decode, "_cv2_read", lambda p: calls.append(str(p)) or real(p))
    read_image_fast(images["rgb8"])
    read_mask_fast(masks["l_0_255"])
    read_image_fast(images["gray16"])  # not 8-bit RGB: straight to Pillow
    assert calls == [str(images["rgb8"]), str(masks["l_0_255"])]


def test_same_errors_for_bad_masks(tmp_path: Path) -> None:
    for name, path in _bad_masks(tmp_path).items():
        with pytest.raises(DataError) as want:
            read_mask(path)
        with pytest.raises(DataError) as got:
            read_mask_fast(path)
        assert str(got.value) == str(want.value), name


def test_same_errors_for_unreadable_files(tmp_path: Path) -> None:
    truncated = _truncated(tmp_path)
    missing = tmp_path / "missing.png"
    not_png = tmp_path / "text.png"
    not_png.write_text("hello")
    for path in (truncated, missing, not_png):
        with pytest.raises(DataError) as want:
            read_image(path)
        with pytest.raises(DataError) as got:
            read_image_fast(path)
        assert str(got.value) == str(want.value), path.name


def test_phantom_pngs_identical(tmp_path: Path) -> None:
    """Real rendered phantoms (what extraction reads): both readers agree pixel for pixel."""
    from scafe.data.phantoms import render_phantom

    for index in range(3):
        ph = render_phantom(index, seed=5, size=96)
        img = _save(tmp_path / f"p{index}.png", Image.fromarray(ph.image))
        msk = _save(tmp_path / f"p{index}_mask.png", Image.fromarray(ph.mask.astype(np.uint8) * 255))
        assert np.array_equal(read_image_fast(img), read_image(img))
        assert np.array_equal(read_image_fast(img), ph.image)
        assert np.array_equal(read_mask_fast(msk), read_mask(msk))
        assert np.array_equal(read_mask_fast(msk), ph.mask)
