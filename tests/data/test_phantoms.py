"""Phantom renderer: contract fields, determinism, ground-truth consistency, CLI."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from scafe.data.phantoms import (
    FAMILIES,
    LATENT_COLUMNS,
    MANIFEST_COLUMNS,
    NUISANCE_COLUMNS,
    VSS_COLUMNS,
    cached_phantom_set,
    generate_phantoms,
    render_phantom,
    vss_scores,
)
from scafe.errors import UsageError

CONTRACT_LATENTS = """latent_extension_ratio, latent_pseudopod_count, latent_pseudopod_length, latent_solidity,
  latent_aspect_ratio, latent_height_mm, latent_gloss, latent_central_delta_a, latent_rim_delta_a,
  latent_rim_width_mm, latent_melanin_scale, latent_telangiectasia_density, latent_relief,
  latent_color_delta_e, latent_area_mm2, latent_hb_excess, latent_melanin_log_ratio"""
CONTRACT_NUISANCE = """nuisance_ita, nuisance_hb_baseline, nuisance_color_temp_k, nuisance_wb_r, nuisance_wb_g, nuisance_wb_b,
  nuisance_illum_gradient, nuisance_vignette, nuisance_light_elevation_deg, nuisance_light_azimuth_deg,
  nuisance_hair_density, nuisance_skin_texture, nuisance_px_per_mm, nuisance_rotation_deg, nuisance_tilt_deg,
  nuisance_blur_sigma, nuisance_noise_sigma, nuisance_jpeg_quality, nuisance_n_distractors"""


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.replace("\n", " ").split(",")]


def test_column_names_match_the_contract(project_root: Path) -> None:
    assert list(LATENT_COLUMNS) == _names(CONTRACT_LATENTS)
    assert list(NUISANCE_COLUMNS) == _names(CONTRACT_NUISANCE)
    assert VSS_COLUMNS == ("vss_vascularity", "vss_pigmentation", "vss_height", "vss_observable_total")
    contracts = (project_root / "docs" / "CONTRACTS.md").read_text()
    for name in (*LATENT_COLUMNS, *NUISANCE_COLUMNS, *VSS_COLUMNS):
        assert name in contracts, name
    assert MANIFEST_COLUMNS[:5] == ("id", "image", "mask", "label", "wound")
    assert MANIFEST_COLUMNS[-1] == "family"


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("index", [0, 1, 2, 3, 4, 5])
def test_render_phantom_fields(index: int, family: str) -> None:
    ph = render_phantom(index, seed=7, size=96, family=family)
    assert ph.family == family
    assert ph.id == f"ph{index:05d}"
    assert ph.label in ("keloid", "hypertrophic")
    assert ph.image.shape == (96, 96, 3)
    assert ph.image.dtype == np.uint8
    assert ph.mask.shape == (96, 96)
    assert ph.mask.dtype == bool
    assert ph.mask.any()
    assert ph.wound.dtype == bool
    assert ph.wound.any()
    assert set(ph.latents) == set(LATENT_COLUMNS)
    assert set(ph.nuisance) == set(NUISANCE_COLUMNS)
    assert set(ph.vss) == set(VSS_COLUMNS)
    assert all(np.isfinite(v) for v in (*ph.latents.values(), *ph.nuisance.values()))
    for key, dmask in ph.distractors.items():
        assert dmask.shape == (96, 96), key
        assert dmask.dtype == bool, key
        assert dmask.any(), key
        assert not (dmask & ph.mask).any(), f"distractor {key} overlaps the lesion"
    assert ph.nuisance["nuisance_n_distractors"] == len(ph.distractors)
    assert ph.latents["latent_hb_excess"] >= 0
    assert ph.latents["latent_relief"] >= 0
    assert ph.latents["latent_melanin_log_ratio"] == pytest.approx(np.log(ph.latents["latent_melanin_scale"]))


@pytest.mark.parametrize("family", FAMILIES)
def test_render_phantom_is_pure(family: str) -> None:
    a = render_phantom(3, seed=11, size=64, family=family)
    b = render_phantom(3, seed=11, size=64, family=family)
    c = render_phantom(3, seed=12, size=64, family=family)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.mask, b.mask)
    assert a.latents == b.latents
    assert not np.array_equal(a.image, c.image)


@pytest.mark.parametrize("family", FAMILIES)
def test_keloid_covers_its_wound_and_classes_overlap_in_extent(family: str) -> None:
    """A keloid covers its wound; extension ratios overlap between classes (early keloids, irregular
    hypertrophic scars: docs/PHANTOMS.md) but stay within the documented ranges."""
    seen = set()
    for i in range(16):
        ph = render_phantom(i, seed=5, size=128, family=family)
        seen.add(ph.label)
        covered = (ph.wound & ph.mask).sum() / ph.wound.sum()
        ext = ph.latents["latent_extension_ratio"]
        if ph.label == "keloid":
            assert covered > 0.9
            assert 0.95 < ext < 4.5
        else:
            assert 0.6 < ext < 2.6
    assert seen == {"keloid", "hypertrophic"}


def test_keloid_fraction_extremes() -> None:
    assert {render_phantom(i, seed=1, size=48, keloid_fraction=1.0).label for i in range(5)} == {"keloid"}
    assert {render_phantom(i, seed=1, size=48, keloid_fraction=0.0).label for i in range(5)} == {"hypertrophic"}


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"size": 8}, "size"), ({"profile": "medium"}, "profile"), ({"keloid_fraction": 1.5}, "keloid_fraction")],
)
def test_bad_arguments_are_usage_errors(kwargs: dict, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        render_phantom(0, seed=0, **kwargs)


def test_vss_bands() -> None:
    assert vss_scores(1.0, 1.0, 0.3) == {"vss_vascularity": 0.0, "vss_pigmentation": 0.0, "vss_height": 0.0,
                                          "vss_observable_total": 0.0}
    v = vss_scores(12.0, 1.5, 6.0)
    assert (v["vss_vascularity"], v["vss_pigmentation"], v["vss_height"]) == (3.0, 2.0, 3.0)
    assert vss_scores(4.0, 0.7, 1.0)["vss_pigmentation"] == 1.0
    assert vss_scores(7.0, 1.0, 3.0)["vss_observable_total"] == 4.0


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_generate_is_byte_identical_across_worker_counts(tmp_path: Path) -> None:
    one = generate_phantoms(tmp_path / "a", n=6, seed=4, size=64, workers=1)
    two = generate_phantoms(tmp_path / "b", n=6, seed=4, size=64, workers=2)
    assert _digest(one.parent) == _digest(two.parent)
    with one.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(MANIFEST_COLUMNS)
    assert [r["id"] for r in rows] == [f"ph{i:05d}" for i in range(6)]
    for row in rows:
        for col in ("image", "mask", "wound"):
            assert (one.parent / row[col]).is_file()
        for rel in filter(None, row["distractors"].split(";")):
            assert (one.parent / rel).is_file()
            assert rel.startswith(f"distractors/{row['id']}_")


def test_cached_phantom_set_reuses_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAFE_CACHE", str(tmp_path))
    first = cached_phantom_set(4, 9, 48)
    stamp = (first / "manifest.csv").stat().st_mtime_ns
    second = cached_phantom_set(4, 9, 48)
    assert first == second
    assert (second / "manifest.csv").stat().st_mtime_ns == stamp
    assert first.parent == tmp_path / "phantoms"
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_cli_phantoms(tmp_path: Path) -> None:
    from scafe.cli import main

    code = main(["phantoms", "--n", "3", "--seed", "2", "--size", "64", "--out", str(tmp_path / "p"),
                 "--workers", "1", "--contact-sheet"])
    assert code == 0
    assert (tmp_path / "p" / "manifest.csv").is_file()
    assert (tmp_path / "p" / "contact_sheet.png").is_file()
    assert main(["phantoms", "--n", "1", "--size", "64", "--profile", "bogus", "--out", str(tmp_path / "q")]) == 2
    assert main(["phantoms", "--n", "2", "--seed", "2", "--size", "64", "--out", str(tmp_path / "b"),
                 "--workers", "1", "--family", "b"]) == 0
    with (tmp_path / "b" / "manifest.csv").open(newline="") as fh:
        assert {r["family"] for r in csv.DictReader(fh)} == {"b"}


def test_cli_unknown_family_exits_2_with_the_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scafe.cli import main

    assert main(["phantoms", "--n", "1", "--size", "64", "--family", "c", "--out", str(tmp_path / "c")]) == 2
    out = capsys.readouterr()
    assert "'c'" in out.out + out.err
    assert "a, b" in out.out + out.err


def _cache_worker(args: tuple[str, int]) -> str:
    import os

    cache, seed = args
    os.environ["SCAFE_CACHE"] = cache
    return str(cached_phantom_set(3, seed, 40))


def test_cached_phantom_set_survives_a_race(tmp_path: Path) -> None:
    """Two processes building the same set at once both get the one complete folder."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(_cache_worker, [(str(tmp_path), 21)] * 2))
    assert results[0] == results[1]
    folder = Path(results[0])
    assert (folder / "manifest.csv").read_text().count("\n") == 4
    assert [p.name for p in (tmp_path / "phantoms").iterdir()] == [folder.name]


def test_hard_profile_widens_only_nuisance_ranges() -> None:
    from scafe.data.params import CLASS_RANGES, NUISANCE_RANGES

    default, hard = NUISANCE_RANGES["default"], NUISANCE_RANGES["hard"]
    assert default.keys() == hard.keys()
    for key, (lo, hi) in default.items():
        assert hard[key][0] <= lo, key
        assert hard[key][1] >= hi, key
    assert set(CLASS_RANGES) == {"keloid", "hypertrophic"}
    ph = render_phantom(0, seed=3, size=64, profile="hard")
    assert ph.image.shape == (64, 64, 3)


@pytest.mark.parametrize("family", FAMILIES)
def test_nuisance_is_drawn_independently_of_the_class(family: str) -> None:
    """Same seed and index, forced to either class: the nuisance values are identical."""
    keloid = render_phantom(2, seed=8, size=48, keloid_fraction=1.0, family=family)
    hyper = render_phantom(2, seed=8, size=48, keloid_fraction=0.0, family=family)
    assert keloid.label != hyper.label
    same = [k for k in keloid.nuisance if k != "nuisance_n_distractors"]
    assert {k: keloid.nuisance[k] for k in same} == {k: hyper.nuisance[k] for k in same}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("profile", ["default", "hard"])
def test_every_phantom_renders_at_the_smallest_size(profile: str, family: str) -> None:
    """Extreme draws (lightest skin, largest keloid, most distractors) at 32 px never fail."""
    for index in range(40):
        ph = render_phantom(index, seed=31, size=32, profile=profile, family=family)
        assert ph.mask.any()
        assert all(np.isfinite(v) for v in ph.latents.values())


def test_rerun_into_the_same_folder_removes_stale_distractor_masks(tmp_path: Path) -> None:
    generate_phantoms(tmp_path, n=8, seed=1, size=48, workers=1)
    generate_phantoms(tmp_path, n=8, seed=2, size=48, workers=1)
    with (tmp_path / "manifest.csv").open(newline="") as fh:
        listed = {p for row in csv.DictReader(fh) for p in row["distractors"].split(";") if p}
    on_disk = {f"distractors/{p.name}" for p in (tmp_path / "distractors").iterdir()}
    assert on_disk == listed


def test_contact_sheet_reads_user_masks_in_any_encoding(tmp_path: Path) -> None:
    from PIL import Image

    from scafe.data.contact_sheet import write_contact_sheet

    image = np.full((40, 40, 3), 128, np.uint8)
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 1  # a 0/1 mask: must still be outlined
    Image.fromarray(image).save(tmp_path / "a.png")
    Image.fromarray(mask).save(tmp_path / "a_mask.png")
    (tmp_path / "manifest.csv").write_text("image,mask,label\na.png,a_mask.png,keloid\n")
    out = write_contact_sheet(tmp_path / "manifest.csv", tmp_path / "sheet.png", tile=40)
    sheet = np.asarray(Image.open(out).convert("RGB"))
    assert (sheet == np.array([40, 255, 40], np.uint8)).all(axis=2).sum() > 40


def test_benchmark_script_runs_and_writes_json(tmp_path: Path, project_root: Path) -> None:
    import json
    import runpy

    module = runpy.run_path(str(project_root / "benchmarks" / "phantoms.py"))
    out = tmp_path / "bench.json"
    assert module["main"](["--n256", "3", "--n512", "1", "--workers", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [(r["family"], r["size"]) for r in result["rows"]] == [("a", 256), ("a", 512), ("b", 256), ("b", 512)]
    assert set(result["families"]) == {"a", "b"}
    assert all(r["phantoms_per_s"] > 0 and r["cpu_ms_per_phantom"] > 0 for r in result["rows"])


def test_cache_key_names_the_family_and_unknown_families_are_usage_errors(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from scafe.data.phantoms import cache_key

    a, b = cache_key(4, 1, 48, "default", 0.5, "a"), cache_key(4, 1, 48, "default", 0.5, "b")
    assert a.startswith("a_")
    assert b.startswith("b_")
    assert a[2:].rsplit("_", 1)[0] == b[2:].rsplit("_", 1)[0]  # same arguments ...
    assert a.rsplit("_", 1)[1] != b.rsplit("_", 1)[1]  # ... different code hash
    monkeypatch.setenv("SCAFE_CACHE", str(tmp_path))
    with pytest.raises(UsageError, match="'z'.*a, b"):
        cached_phantom_set(2, 1, 48, family="z")
    with pytest.raises(UsageError, match="family"):
        render_phantom(0, seed=0, size=48, family="A")
    folder = cached_phantom_set(2, 1, 48, family="b")
    assert folder.name.startswith("b_")


def test_a_manifest_mixing_families_loads(tmp_path: Path) -> None:
    from scafe.data.dataset import load_dataset

    generate_phantoms(tmp_path / "a", n=2, seed=1, size=48, workers=1, family="a")
    generate_phantoms(tmp_path / "b", n=2, seed=1, size=48, workers=1, family="b")
    lines = []
    for fam in ("a", "b"):
        text = (tmp_path / fam / "manifest.csv").read_text().splitlines()
        header = text[0]
        for row in text[1:]:
            cells = row.split(",")
            cells[0] = f"{fam}{cells[0]}"
            for k in (1, 2, 4):
                cells[k] = f"{fam}/{cells[k]}"
            cells[5] = ";".join(f"{fam}/{p}" for p in cells[5].split(";") if p)
            lines.append(",".join(cells))
    (tmp_path / "manifest.csv").write_text("\n".join([header, *lines]) + "\n")
    data = load_dataset(tmp_path)
    assert len(data.cases) == 4
    assert sorted(data.frame["family"]) == ["a", "a", "b", "b"]
