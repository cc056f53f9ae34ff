"""Issue 12 items 1-4: extractor bytes are verified at every use; library.json is confined."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from scafe.cli import main
from scafe.errors import ExtractionError, LibraryError
from scafe.extraction import extract, extract_items, library_specs
from scafe.extraction.engine import ExtractorSpec, WorkItem
from scafe.library import Library

from .conftest import const_source


def _tamper(lib: Library, name: str = "t_const", value: float = 666.0) -> Path:
    path = lib.file_path(lib.get(name))
    path.write_text(const_source(value=value), encoding="utf-8")
    return path


# ---------------------------------------------------------------- item 1: hash at every use

def test_extract_refuses_a_tampered_extractor_naming_entry_and_verify(const_library, small_dataset, sec_cache):
    _tamper(const_library)
    with pytest.raises(LibraryError) as info:
        extract(small_dataset, library=const_library.reload(), progress=False)
    message = str(info.value)
    assert "t_const@v1" in message
    assert "scafe library verify" in message


def test_cli_extract_exits_nonzero_on_tampered_extractor(const_library, small_dataset, sec_cache, tmp_path, capsys):
    _tamper(const_library)
    code = main(["extract", "--data", str(small_dataset), "--out", str(tmp_path / "f.csv"),
                 "--library", str(const_library.path)])
    assert code != 0
    assert not (tmp_path / "f.csv").exists()
    assert "t_const@v1" in capsys.readouterr().err


def test_poisoned_values_are_not_served_after_restore(const_library, small_dataset, sec_cache):
    """The cache is keyed by the hash of the bytes that ran: a tampered run can never feed it."""
    first = extract(small_dataset, library=const_library, progress=False)
    assert (first.frame["t_const.t_const"] == 1.0).all()
    path = _tamper(const_library)
    with pytest.raises(LibraryError):
        extract(small_dataset, library=const_library.reload(), progress=False)
    path.write_text(const_source(), encoding="utf-8")  # restored
    again = extract(small_dataset, library=const_library.reload(), progress=False)
    assert (again.frame["t_const.t_const"] == 1.0).all()


def test_engine_refuses_a_spec_whose_source_does_not_match_its_hash(sec_cache):
    real = const_source()
    from scafe.library import sha256_text

    spec = ExtractorSpec(name="t_const", version=1, sha256=sha256_text(real), source=const_source(value=5.0),
                         outputs=("t_const",))
    import numpy as np

    item = WorkItem("a", image=np.zeros((8, 8, 3), np.uint8), mask=np.ones((8, 8), bool))
    with pytest.raises(ExtractionError, match=r"t_const@v1.*scafe library verify"):
        extract_items([item], [spec], cache=False)


def test_library_specs_and_transformer_use_the_checked_source(const_library):
    specs, _ = library_specs(const_library)
    assert specs[0].source == const_source()
    _tamper(const_library)
    with pytest.raises(LibraryError, match="t_const@v1"):
        library_specs(const_library.reload())
    import numpy as np

    from scafe.transformer import FeatureLibraryTransformer

    with pytest.raises(LibraryError, match="t_const@v1"):
        FeatureLibraryTransformer(library=const_library.path).fit(
            [(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), bool))])


def test_show_refuses_tampered_source(const_library, capsys):
    _tamper(const_library)
    code = main(["library", "show", "t_const", "--library", str(const_library.path)])
    assert code == 1
    assert "scafe library verify" in capsys.readouterr().err


# ---------------------------------------------------------------- item 2: cache rows protected

def test_edited_cache_cell_is_a_miss_with_a_warning(const_library, small_dataset, sec_cache):
    extract(small_dataset, library=const_library, progress=False)
    db = sqlite3.connect(next(sec_cache.glob("extraction*.sqlite")))
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    table = next(t for t in tables if t.startswith("cells"))
    changed = db.execute(f"UPDATE {table} SET features = ?", (json.dumps({"t_const": 999.0}),)).rowcount
    db.commit()
    db.close()
    assert changed == 3
    with pytest.warns(UserWarning, match="cache"):
        table2 = extract(small_dataset, library=const_library, progress=False)
    assert (table2.frame["t_const.t_const"] == 1.0).all()
    assert table2.meta["cached_cells"] == 0
    assert table2.meta.get("cache_rejected") == 3


# ---------------------------------------------------------------- item 3: confined paths

def _edit_manifest(lib: Library, **changes: object) -> None:
    data = json.loads(lib.manifest_path.read_text())
    data["entries"][0].update(changes)
    lib.manifest_path.write_text(json.dumps(data))


@pytest.mark.parametrize("bad", ["../outside/evil.py", "/etc/passwd", "extractors/other/v1.py",
                                 "extractors/t_const/v1.py/../../x.py", "extractors/t_const/v2.py"])
def test_manifest_path_outside_the_layout_is_refused(const_library, bad):
    _edit_manifest(const_library, path=bad)
    with pytest.raises(LibraryError, match="t_const@v1"):
        Library.open(const_library.path)


@pytest.mark.parametrize("command", [["library", "status"], ["library", "verify", "--no-criterion-tests"],
                                     ["library", "show", "t_const"], ["library", "list"]])
def test_cli_refuses_escaping_path_in_one_line(const_library, tmp_path, command, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.py").write_text(const_source(value=7.0))
    from scafe.library import sha256_text

    _edit_manifest(const_library, path="../outside/evil.py", sha256=sha256_text(const_source(value=7.0)))
    code = main([*command, "--library", str(const_library.path)])
    err = capsys.readouterr().err
    assert code != 0
    assert "t_const@v1" in err
    assert "Traceback" not in err


def test_symlinked_extractor_file_is_refused(const_library, tmp_path, small_dataset, sec_cache):
    path = const_library.file_path(const_library.get("t_const"))
    real = tmp_path / "real.py"
    real.write_bytes(path.read_bytes())  # same bytes, same hash: only the link is wrong
    path.unlink()
    path.symlink_to(real)
    with pytest.raises(LibraryError, match=r"t_const@v1.*symlink"):
        const_library.source(const_library.get("t_const"))
    with pytest.raises(LibraryError, match="symlink"):
        extract(small_dataset, library=const_library, progress=False)
    results = const_library.verify(criterion_tests=False, validate=lambda s: None)
    assert not results[0].ok
    assert "symlink" in " ".join(results[0].failures)


def test_symlinked_extractor_folder_is_refused(const_library, tmp_path):
    folder = const_library.path / "extractors" / "t_const"
    moved = tmp_path / "moved"
    folder.rename(moved)
    folder.symlink_to(moved, target_is_directory=True)
    with pytest.raises(LibraryError, match="symlink"):
        const_library.source(const_library.get("t_const"))


def test_deeply_nested_manifest_gives_one_line_error(tmp_path, capsys):
    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    (lib_dir / "library.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(LibraryError, match="library.json"):
        Library.open(lib_dir)
    code = main(["library", "status", "--library", str(lib_dir)])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    assert err.count("error:") == 1
    assert "nested too deeply" in " ".join(err.split())


@pytest.mark.parametrize("text", ['{"entries": 5}', "[]", '{"entries": [{"name": 1}]}', "\xff\xfe", "nul\x00l"])
def test_malformed_manifest_gives_library_error(tmp_path, text):
    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    (lib_dir / "library.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(LibraryError):
        Library.open(lib_dir)


def test_leftover_manifest_temp_files_are_reported_and_cleaned(const_library):
    leftover = const_library.path / ".library.json.999999.tmp"
    leftover.write_text("{half a manifest")
    assert leftover in const_library.leftovers()
    const_library.register(const_source("t_other"), name="t_other", criterion="vss/vascularity",
                           origin="reference", outputs=["t_other"])
    assert not leftover.exists()
    assert const_library.leftovers() == []


# ---------------------------------------------------------------- item 4: every entry verified

def test_verify_checks_deprecated_entries_and_activate_rechecks(const_library):
    const_library.register(const_source(value=2.0), name="t_const", criterion="vss/vascularity",
                           origin="reference", outputs=["t_const"])
    lib = const_library.reload()
    old = lib.get("t_const", 1)
    assert old.status == "deprecated"
    lib.file_path(old).write_text(const_source(value=666.0))
    results = lib.verify(criterion_tests=False, validate=_ok_report)
    by_label = {r.label: r for r in results}
    assert "t_const@v1" in by_label
    assert not by_label["t_const@v1"].ok
    assert by_label["t_const@v2"].ok
    with pytest.raises(LibraryError, match=r"t_const@v1.*scafe library verify"):
        lib.activate("t_const", 1)
    assert lib.reload().get("t_const").version == 2


def _ok_report(source: str) -> object:
    class Report:
        ok = True
        status = "ok"
        keys = ["t_const"]
        failures: list[object] = []

    return Report()


def test_cli_activate_of_tampered_version_fails(const_library, capsys):
    const_library.register(const_source(value=2.0), name="t_const", criterion="vss/vascularity",
                           origin="reference", outputs=["t_const"])
    lib = const_library.reload()
    lib.file_path(lib.get("t_const", 1)).write_text(const_source(value=666.0))
    assert main(["library", "activate", "t_const@v1", "--library", str(lib.path)]) == 1
    assert "scafe library verify" in capsys.readouterr().err
    assert os.path.exists(lib.manifest_path)


def test_generate_usefulness_refuses_a_tampered_active_extractor(const_library):
    from agents.engineer.usefulness import UsefulnessSettings, active_features

    _tamper(const_library)
    with pytest.raises(LibraryError, match=r"t_const@v1.*scafe library verify"):
        active_features(const_library.reload(), UsefulnessSettings(n=20))


def test_status_reports_leftover_temp_files(const_library, capsys):
    (const_library.path / ".library.json.4242.tmp").write_text("{")
    assert main(["library", "status", "--library", str(const_library.path)]) == 0
    assert "leftover temp file" in " ".join(capsys.readouterr().err.split())
