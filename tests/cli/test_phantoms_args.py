"""`scafe phantoms` refuses bad arguments before it starts rendering (no progress line, no folder)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--family", "c"], "a, b"),
        (["--size", "8"], "32..4096"),
        (["--profile", "extreme"], "extreme"),
    ],
)
def test_bad_arguments_fail_before_rendering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    from scafe.cli import main

    out_dir = tmp_path / "never"
    assert main(["phantoms", "--n", "2", "--out", str(out_dir), *args]) == 2
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert said in text
    assert "rendering phantoms" not in text
    assert not out_dir.exists()
