"""Folder datasets: every bad-row reason, image/mask conversions, corrupted bytes, CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from scafe.data.dataset import check_dataset, load_dataset, read_image, read_mask, write_bad_rows
from scafe.errors import DataError

RNG = np.random.default_rng(0)


def _png(path: Path, arr: np.ndarray) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path.name if path.parent.name == "" else str(path.relative_to(path.parents[1]))


def _manifest(root: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with (root / "manifest.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    return root / "manifest.csv"


def _good_pair(root: Path, name: str, size: tuple[int, int] = (24, 32)) -> dict[str, str]:
    img = RNG.integers(0, 256, size + (3,), dtype=np.uint8)
    mask = np.zeros(size, np.uint8)
    mask[5:15, 6:20] = 255
    return {"id": name, "image": _png(root / "img" / f"{name}.png", img),
            "mask": _png(root / "msk" / f"{name}.png", mask), "label": "keloid"}


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    rows = [_good_pair(tmp_path, f"c{i}") for i in range(3)]
    rows[1]["label"] = "hypertrophic"
    return _manifest(tmp_path, rows)


def test_clean_dataset_loads(clean: Path) -> None:
    ds = load_dataset(clean.parent)
    assert [c.id for c in ds.cases] == ["c0", "c1", "c2"]
    assert ds.labels == ["keloid", "hypertrophic", "keloid"]
    assert ds.bad == []
    assert check_dataset(clean) == []
    image, mask = ds.cases[0].load()
    assert image.dtype == np.uint8
    assert image.shape == (24, 32, 3)
    assert mask.dtype == bool
    assert mask.sum() == 140


def _bad_dataset(root: Path) -> Path:
    rows = [_good_pair(root, f"r{i}") for i in range(9)]
    rows[0]["image"] = "img/nowhere.png"  # missing file
    (root / "img" / "r1.png").write_bytes((root / "img" / "r1.png").read_bytes()[:60])  # truncated
    rows[2]["mask"] = _png(root / "msk" / "small.png", np.zeros((10, 10), np.uint8) + 255)  # size mismatch
    rows[3]["mask"] = _png(root / "msk" / "empty.png", np.zeros((24, 32), np.uint8))  # empty mask
    rows[4]["mask"] = _png(root / "msk" / "gray.png", RNG.integers(0, 256, (24, 32), dtype=np.uint8))  # non-binary
    rows[5]["label"] = "melanoma"  # unknown label
    rows[6]["id"] = "r7"  # duplicate of row 8's id
    rows[8]["image"] = ""  # empty cell
    return _manifest(root, rows)


EXPECTED = {
    1: "missing image file",
    2: "unreadable image",
    3: "differs from image size",
    4: "empty mask",
    5: "non-binary mask",
    6: "unknown label 'melanoma'",
    8: "duplicate id 'r7'",
    9: "empty 'image' cell",
}


def test_every_reason_is_reported(tmp_path: Path) -> None:
    bad = check_dataset(_bad_dataset(tmp_path))
    by_row: dict[int, list[str]] = {}
    for b in bad:
        by_row.setdefault(b.row, []).append(b.reason)
    assert set(by_row) == set(EXPECTED), by_row
    for row, needle in EXPECTED.items():
        assert any(needle in r for r in by_row[row]), (row, by_row[row])


def test_load_refuses_bad_rows_with_the_same_messages(tmp_path: Path) -> None:
    manifest = _bad_dataset(tmp_path)
    with pytest.raises(DataError) as err:
        load_dataset(manifest)
    text = str(err.value)
    assert "--skip-bad" in text
    for needle in EXPECTED.values():
        assert needle in text


def test_skip_bad_keeps_good_rows_and_records_the_rest(tmp_path: Path) -> None:
    ds = load_dataset(_bad_dataset(tmp_path), skip_bad=True)
    assert [c.id for c in ds.cases] == ["r7"]  # row 7 (id r7) is the only clean row
    assert list(ds.frame["id"]) == ["r7"]
    assert {b.row for b in ds.bad} == set(EXPECTED)
    out = ds.write_bad(tmp_path / "bad.csv")
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(ds.bad)
    assert set(rows[0]) == {"row", "id", "reason"}


def test_missing_column_is_refused_even_with_skip_bad(tmp_path: Path) -> None:
    row = _good_pair(tmp_path, "a")
    del row["label"]
    manifest = _manifest(tmp_path, [row])
    bad = check_dataset(manifest)
    assert len(bad) == 1
    assert bad[0].row == 0
    assert "missing column 'label'" in bad[0].reason
    with pytest.raises(DataError, match="missing column 'label'"):
        load_dataset(manifest, skip_bad=True)


def test_id_defaults_to_image_stem(tmp_path: Path) -> None:
    row = _good_pair(tmp_path, "stem1")
    del row["id"]
    ds = load_dataset(_manifest(tmp_path, [row]))
    assert ds.cases[0].id == "stem1"


def test_missing_dataset_messages(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no manifest.csv"):
        load_dataset(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        check_dataset(tmp_path / "nope.csv")


@pytest.mark.parametrize("mode", ["gray8", "gray16_png", "rgba", "rgb16_tiff", "gray16_tiff", "float_tiff", "jpeg"])
def test_read_image_conversions(tmp_path: Path, mode: str) -> None:
    base = RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    path = tmp_path / f"x.{ 'tif' if 'tiff' in mode else ('jpg' if mode == 'jpeg' else 'png')}"
    if mode == "gray8":
        Image.fromarray(base[..., 0]).save(path)
        expect = np.repeat(base[..., :1], 3, 2)
    elif mode == "gray16_png":
        Image.fromarray(base[..., 0].astype(np.uint16) * 257).save(path)
        expect = np.repeat(base[..., :1], 3, 2)
    elif mode == "rgba":
        Image.fromarray(np.dstack([base, np.full((12, 10), 7, np.uint8)])).save(path)
        expect = base
    elif mode == "rgb16_tiff":
        tifffile.imwrite(path, base.astype(np.uint16) * 257, photometric="rgb")
        expect = base
    elif mode == "gray16_tiff":
        tifffile.imwrite(path, base[..., 1].astype(np.uint16) * 257)
        expect = np.repeat(base[..., 1:2], 3, 2)
    elif mode == "float_tiff":
        tifffile.imwrite(path, base.astype(np.float32) / 255, photometric="rgb")
        expect = base
    else:
        flat = np.full((12, 10, 3), 120, np.uint8)
        Image.fromarray(flat).save(path, quality=95)
        expect = flat
    got = read_image(path)
    assert got.shape == (12, 10, 3)
    assert got.dtype == np.uint8
    tol = 2 if mode == "jpeg" else 0
    assert np.abs(got.astype(int) - expect.astype(int)).max() <= tol


@pytest.mark.parametrize("encoding", ["bool", "01", "0255", "rgb", "tiff16"])
def test_read_mask_encodings(tmp_path: Path, encoding: str) -> None:
    truth = np.zeros((9, 11), bool)
    truth[2:6, 3:8] = True
    path = tmp_path / ("m.tif" if encoding == "tiff16" else "m.png")
    if encoding == "bool":
        Image.fromarray(truth).save(path)
    elif encoding == "01":
        Image.fromarray(truth.astype(np.uint8)).save(path)
    elif encoding == "0255":
        Image.fromarray(truth.astype(np.uint8) * 255).save(path)
    elif encoding == "rgb":
        Image.fromarray(np.repeat(truth[..., None].astype(np.uint8) * 255, 3, 2)).save(path)
    else:
        tifffile.imwrite(path, truth.astype(np.uint16) * 65535)
    assert np.array_equal(read_mask(path), truth)


def test_read_mask_rejects_colour_and_grey_levels(tmp_path: Path) -> None:
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[0, 0] = (255, 0, 0)
    Image.fromarray(colour).save(tmp_path / "c.png")
    with pytest.raises(DataError, match="colour image"):
        read_mask(tmp_path / "c.png")
    Image.fromarray(np.array([[0, 128], [255, 0]], np.uint8)).save(tmp_path / "g.png")
    with pytest.raises(DataError, match=r"not binary: values 0, 128, 255"):
        read_mask(tmp_path / "g.png")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_bytes_never_crash(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    """Any damage to an image file gives a good image or a DataError, never another exception."""
    root = tmp_path_factory.mktemp("corrupt")
    fmt = data.draw(st.sampled_from(["PNG", "JPEG", "TIFF"]))
    img = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)  # same bytes every run
    path = root / f"x.{fmt.lower()}"
    Image.fromarray(img).save(path, format=fmt)
    raw = bytearray(path.read_bytes())
    how = data.draw(st.sampled_from(["truncate", "flip", "garbage"]))
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            pos = data.draw(st.integers(0, len(raw) - 1))
            raw[pos] = data.draw(st.integers(0, 255))
    else:
        raw = bytearray(data.draw(st.binary(min_size=0, max_size=200)))
    path.write_bytes(bytes(raw))
    try:
        out = read_image(path)
    except DataError as exc:
        message = str(exc)
        out = None
    if out is None:
        assert str(path) in message  # the error names the file
    else:
        assert out.dtype == np.uint8
        assert out.ndim == 3
        assert out.shape[2] == 3


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=90))
def test_truncated_image_is_a_bad_row(tmp_path_factory: pytest.TempPathFactory, cut: int) -> None:
    root = tmp_path_factory.mktemp("trunc")
    row = _good_pair(root, "t")
    path = root / row["image"]
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) * cut // 100])
    bad = check_dataset(_manifest(root, [row]))
    assert len(bad) == 1
    assert bad[0].row == 1
    assert "unreadable image" in bad[0].reason


def test_write_bad_rows_roundtrip(tmp_path: Path) -> None:
    bad = check_dataset(_bad_dataset(tmp_path))
    out = write_bad_rows(bad, tmp_path / "out" / "bad.csv")
    with out.open() as fh:
        assert sum(1 for _ in fh) == len(bad) + 1


def test_cli_data_check(tmp_path: Path, clean: Path) -> None:
    from scafe.cli import main

    assert main(["data", "check", str(clean.parent)]) == 0
    bad_root = tmp_path / "bad"
    bad_root.mkdir()
    manifest = _bad_dataset(bad_root)
    assert main(["data", "check", str(manifest), "--write-bad", str(tmp_path / "b.csv")]) == 1
    assert (tmp_path / "b.csv").is_file()
    assert main(["data", "check", str(tmp_path / "missing")]) == 1


def _write_dicom(path: Path, pixels: np.ndarray, photometric: str, bits: int) -> None:
    pydicom = pytest.importorskip("pydicom")
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.SamplesPerPixel = 3 if pixels.ndim == 3 else 1
    if pixels.ndim == 3:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    pydicom.dcmwrite(path, ds, enforce_file_format=True)


@pytest.mark.parametrize(("kind", "photometric", "bits"),
                         [("rgb8", "RGB", 8), ("gray12", "MONOCHROME2", 12), ("inverted", "MONOCHROME1", 8)])
def test_read_dicom(tmp_path: Path, kind: str, photometric: str, bits: int) -> None:
    base = RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    if kind == "rgb8":
        pixels, expect = base, base
    elif kind == "gray12":
        pixels = (base[..., 0].astype(np.uint16) * 4095 // 255).astype(np.uint16)
        expect = np.repeat(np.round(pixels * 255.0 / 4095).astype(np.uint8)[..., None], 3, 2)
    else:
        pixels, expect = base[..., 0].copy(), np.repeat(255 - base[..., :1], 3, 2)
    path = tmp_path / "x.dcm"
    _write_dicom(path, pixels, photometric, bits)
    got = read_image(path)
    assert got.shape == (6, 7, 3)
    assert np.array_equal(got, expect)


def test_progress_is_reported_per_row(clean: Path) -> None:
    calls: list[tuple[int, int]] = []
    load_dataset(clean, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_custom_label_set(clean: Path) -> None:
    bad = check_dataset(clean, labels=("keloid",))
    assert [(b.row, b.reason.split(";")[0]) for b in bad] == [(2, "unknown label 'hypertrophic'")]


def test_cli_data_sheet(tmp_path: Path, clean: Path) -> None:
    from scafe.cli import main

    out = tmp_path / "sheet.png"
    assert main(["data", "sheet", str(clean.parent), "--out", str(out), "--tile", "48", "--columns", "2"]) == 0
    assert Image.open(out).size == (96, 2 * (48 + 14))
    bad_root = tmp_path / "bad"
    bad_root.mkdir()
    assert main(["data", "sheet", str(_bad_dataset(bad_root)), "--out", str(tmp_path / "b.png")]) == 0


def test_windows_separators_in_the_manifest(tmp_path: Path) -> None:
    row = _good_pair(tmp_path, "w")
    row["image"] = row["image"].replace("/", "\\")
    row["mask"] = row["mask"].replace("/", "\\")
    ds = load_dataset(_manifest(tmp_path, [row]))
    assert ds.cases[0].image_path.name == "w.png"


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.sampled_from([0, 1, 2, 127, 255]), min_size=1, max_size=3, unique=True),
       seed=st.integers(0, 1000))
def test_mask_values_property(tmp_path_factory: pytest.TempPathFactory, values: list[int], seed: int) -> None:
    """A mask is accepted iff its values are {0}, {1}, {255}, {0, 1} or {0, 255}; then True = nonzero."""
    rng = np.random.default_rng(seed)
    arr = rng.choice(np.array(values, np.uint8), size=(7, 9))
    path = tmp_path_factory.mktemp("m") / "m.png"
    Image.fromarray(arr).save(path)
    present = set(np.unique(arr).tolist())
    acceptable = present in ({0}, {1}, {255}, {0, 1}, {0, 255})
    if acceptable:
        assert np.array_equal(read_mask(path), arr != 0)
    else:
        with pytest.raises(DataError, match="not binary"):
            read_mask(path)
