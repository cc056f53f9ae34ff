"""``scafe library add`` through the real cascade (sandbox battery + criterion tests), then verify."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scafe.cli import main
from scafe.library import Library


@pytest.mark.slow
def test_add_real_reference_extractor_then_verify(tmp_path: Path, project_root: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    committed = Library.open(project_root / "feature_library")
    source_entry = committed.get("lesion_size")
    folder = tmp_path / "incoming" / "lesion_size"
    folder.mkdir(parents=True)
    shutil.copy(committed.file_path(source_entry), folder / "v1.py")
    lib_dir = tmp_path / "lib"
    args = ["library", "add", str(folder / "v1.py"), "--criterion", "jsw_keloid/size", "--library", str(lib_dir)]
    assert main(args) == 0, capsys.readouterr().err
    entry = Library.open(lib_dir).get("lesion_size")  # name taken from the folder of v1.py
    assert (entry.version, entry.origin, entry.status) == (1, "reference", "active")
    assert entry.outputs == source_entry.outputs
    assert entry.validation["criterion"]["passed"] is True
    assert entry.validation["criterion"]["rho"] >= 0.3
    version_id = Library.open(lib_dir).version_id
    assert main(args) == 0  # identical source: a no-op
    assert Library.open(lib_dir).version_id == version_id
    assert main(["library", "verify", "--library", str(lib_dir)]) == 0
    assert "1 active entries verified" in capsys.readouterr().err
