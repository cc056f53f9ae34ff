"""Extraction: table shape, per-cell failures, cache, parallel == serial, CLI exit codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from scafe.extraction import FeatureTable, extract
from scafe.extraction.cache import ExtractionCache, array_pair_key, file_pair_key


def _expected_red(dataset_dir: Path, case: str) -> float:
    image = np.asarray(Image.open(dataset_dir / "images" / f"{case}.png").convert("RGB"))
    mask = np.asarray(Image.open(dataset_dir / "images" / f"{case}_mask.png")) > 0
    return float(image[..., 0][mask].mean())


def test_one_row_per_image_with_every_output(dataset_dir, tiny_library):
    table = extract(dataset_dir, library=tiny_library, progress=False)
    assert list(table.frame.index) == [f"c{i}" for i in range(6)]
    assert set(table.frame.columns) == {"t_mean_red.t_mean_red", "t_mean_red.t_area_px", "t_fragile.t_mean_green"}
    assert table.frame.loc["c2", "t_mean_red.t_mean_red"] == pytest.approx(_expected_red(dataset_dir, "c2"))
    assert table.frame.loc["c3", "t_mean_red.t_area_px"] == 100.0
    meta = table.meta["features"]["t_fragile.t_mean_green"]
    assert meta == {"extractor": "t_fragile", "key": "t_mean_green", "version": 1, "scale": "vss", "item": "vascularity",
                    "item_name": "Vascularity"}
    assert table.meta["library_version"] == tiny_library.version_id


def test_failed_cells_are_nan_and_reported(dataset_dir, tiny_library):
    table = extract(dataset_dir, library=tiny_library, progress=False)
    # c5 has a 14x14 = 196 px lesion: the fragile extractor raises there and only there
    assert np.isnan(table.frame.loc["c5", "t_fragile.t_mean_green"])
    assert np.isfinite(table.frame.loc["c5", "t_mean_red.t_mean_red"])
    assert table.frame["t_fragile.t_mean_green"].drop("c5").notna().all()
    assert len(table.errors) == 1
    row = table.errors.iloc[0]
    assert (row["id"], row["extractor"], row["outcome"]) == ("c5", "t_fragile@v1", "failed")
    assert "lesion too big" in row["reason"]
    assert not table.complete


def test_cache_reuses_cells_and_tracks_pixel_changes(dataset_dir, tiny_library):
    first = extract(dataset_dir, library=tiny_library, progress=False)
    assert first.meta["cached_cells"] == 0
    second = extract(dataset_dir, library=tiny_library, progress=False)
    # 6 images x 2 extractors; the failed cell is deterministic and cached too
    assert second.meta["cached_cells"] == 12
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert len(second.errors) == 1
    # change one image: only its two cells are recomputed
    path = dataset_dir / "images" / "c1.png"
    pixels = np.asarray(Image.open(path)).copy()
    pixels[3, 4] = (pixels[3, 4].astype(int) + 1) % 256
    Image.fromarray(pixels).save(path)
    third = extract(dataset_dir, library=tiny_library, progress=False)
    assert third.meta["cached_cells"] == 10
    assert third.frame.loc["c1", "t_mean_red.t_mean_red"] == pytest.approx(_expected_red(dataset_dir, "c1"))


def test_no_cache_computes_everything(dataset_dir, tiny_library):
    extract(dataset_dir, library=tiny_library, progress=False)
    again = extract(dataset_dir, library=tiny_library, progress=False, cache=False)
    assert again.meta["cached_cells"] == 0


def test_two_workers_give_the_same_table(dataset_dir, tiny_library):
    one = extract(dataset_dir, library=tiny_library, progress=False, cache=False)
    two = extract(dataset_dir, library=tiny_library, progress=False, cache=False, workers=2)
    pd.testing.assert_frame_equal(one.frame, two.frame)
    pd.testing.assert_frame_equal(one.errors.reset_index(drop=True), two.errors.reset_index(drop=True))


def test_save_and_load_round_trip(dataset_dir, tiny_library, tmp_path):
    table = extract(dataset_dir, library=tiny_library, progress=False)
    path = table.save(tmp_path / "out" / "features.csv")
    assert (tmp_path / "out" / "features.errors.csv").is_file()
    assert (tmp_path / "out" / "features.meta.json").is_file()
    back = FeatureTable.load(path)
    pd.testing.assert_frame_equal(back.frame, table.frame, check_dtype=False)
    assert back.errors.to_dict("records") == table.errors.astype(str).to_dict("records")
    assert back.meta["features"] == table.meta["features"]


def test_cache_keys_depend_on_bytes():
    image = np.zeros((4, 4, 3), np.uint8)
    mask = np.zeros((4, 4), bool)
    key = array_pair_key(image, mask)
    mask2 = mask.copy()
    mask2[0, 0] = True
    assert array_pair_key(image, mask2) != key
    assert array_pair_key(image.copy(), mask.copy()) == key


def test_cache_skips_load_dependent_outcomes(tmp_path):
    with ExtractionCache(tmp_path / "c.sqlite") as cache:
        cache.put_many([("k1", "s", "ok", {"a": 1.0}, ""), ("k2", "s", "timeout", None, "slow"),
                        ("k3", "s", "failed", None, "boom")])
        got = cache.get_many(["k1", "k2", "k3"], "s")
    assert got["k1"] == ("ok", {"a": 1.0}, "")
    assert "k2" not in got  # a timeout may pass on a quieter machine: retried, not cached
    assert got["k3"][0] == "failed"


def test_file_key_changes_with_mask_file(dataset_dir):
    a = file_pair_key(dataset_dir / "images" / "c0.png", dataset_dir / "images" / "c0_mask.png")
    b = file_pair_key(dataset_dir / "images" / "c0.png", dataset_dir / "images" / "c1_mask.png")
    assert a != b


def test_cli_exit_code_3_when_cells_failed(dataset_dir, tiny_library, tmp_path):
    from scafe.cli import main

    out = tmp_path / "f.csv"
    code = main(["extract", "--data", str(dataset_dir), "--out", str(out),
                 "--library", str(tiny_library.path)])
    assert code == 3
    assert pd.read_csv(tmp_path / "f.errors.csv")["id"].tolist() == ["c5"]
    assert pd.read_csv(out).shape == (6, 4)


def test_cli_exit_code_0_when_complete(dataset_dir, tiny_library, tmp_path):
    from scafe.cli import main

    tiny_library.deprecate("t_fragile", 1)
    code = main(["extract", "--data", str(dataset_dir), "--out", str(tmp_path / "f.csv"),
                 "--library", str(tiny_library.path), "--workers", "2"])
    assert code == 0


def test_cli_rejects_bad_dask_address(dataset_dir, tiny_library, tmp_path):
    from scafe.cli import main

    code = main(["extract", "--data", str(dataset_dir), "--out", str(tmp_path / "f.csv"),
                 "--library", str(tiny_library.path), "--dask", "localhost"])
    assert code == 2


ESCAPE = '''"""Tries to read the environment (test extractor): the jail must refuse it.

Criterion: VSS / vascularity - test only.
Measures: nothing useful. Empty mask: NaN.
"""
import os


def extract(image, mask):
    return {"t_env_size": float(len(os.environ))}
'''


def test_dask_local_cluster_matches_local_path(dataset_dir, tiny_library):
    """A 2-worker LocalCluster started and stopped here (~10 s); the jail applies in the workers."""
    pytest.importorskip("distributed")
    tiny_library.register(ESCAPE, name="t_escape", criterion="vss/vascularity", origin="reference",
                          validation={}, outputs=["t_env_size"])
    library = tiny_library.reload()
    local = extract(dataset_dir, library=library, progress=False, cache=False)
    on_dask = extract(dataset_dir, library=library, progress=False, cache=False,
                      dask="local", workers=2)
    pd.testing.assert_frame_equal(local.frame, on_dask.frame)
    key = ["id", "extractor", "outcome"]
    assert sorted(on_dask.errors[key].values.tolist()) == sorted(local.errors[key].values.tolist())
    refused = on_dask.errors[on_dask.errors["extractor"] == "t_escape@v1"]
    assert len(refused) == 6
    assert set(refused["outcome"]) == {"rejected"}
    assert on_dask.frame["t_escape.t_env_size"].isna().all()


@pytest.mark.slow
def test_dask_scheduler_address_path(dataset_dir, tiny_library):
    """``dask="tcp://..."`` connects to an existing scheduler (here a LocalCluster we start)."""
    distributed = pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.worker.daemon": False}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None,
                                     silence_logs=40) as cluster:
        remote = extract(dataset_dir, library=tiny_library, progress=False, cache=False,
                         dask=cluster.scheduler_address)
    local = extract(dataset_dir, library=tiny_library, progress=False, cache=False)
    pd.testing.assert_frame_equal(local.frame, remote.frame)
