"""``verify`` and ``library add`` against the real sandbox (no injected validators)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scafe.cli import main
from scafe.errors import LibraryError
from scafe.library import Library
from scafe.library.add import validate_and_register

ESCAPING = '"""Reads the environment (must be rejected)."""\nimport os\n\n\ndef extract(image, mask):\n    return {"leak": float(len(os.environ))}\n'


def test_verify_runs_the_real_battery(library: Library) -> None:
    # the passing path of the real battery is exercised per entry by test_committed_library.py;
    # here: a file that never went through validation (e.g. a hand-edited manifest) is caught
    library.register(ESCAPING, name="escape", criterion="vss/pigmentation", origin="generated", outputs=["leak"])
    [bad] = library.verify(criterion_tests=False)
    assert not bad.ok
    assert bad.contract == "rejected"
    assert any("static_policy" in f and "'os'" in f for f in bad.failures), bad.failures


def test_add_refuses_a_rejected_extractor_with_the_report(library: Library) -> None:
    with pytest.raises(LibraryError, match=r"(?s)failed the contract battery \(.*rejected.*\).*'os'"):
        validate_and_register(library, ESCAPING, name="escape", criterion="vss/vascularity")
    assert library.entries() == []


def test_cli_add_refuses_and_leaves_library_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "escape.py"
    source.write_text(ESCAPING)
    lib_dir = tmp_path / "lib"
    assert main(["library", "add", str(source), "--criterion", "vss/vascularity", "--library", str(lib_dir)]) == 1
    assert "'os'" in capsys.readouterr().err
    assert Library.open(lib_dir).entries() == []
