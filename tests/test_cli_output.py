"""Output that survives pipes and CI logs: no hard wrapping, whatever $COLUMNS says."""

from __future__ import annotations

import os
import subprocess
import sys


def _scafe(*args: str, columns: int = 40) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([sys.executable, "-m", "scafe", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_long_error_message_is_one_line_in_a_narrow_pipe() -> None:
    name = "a" * 70
    out = _scafe("library", "show", name)
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: no extractor named")
    assert name in lines[0]
    assert lines[0].endswith("to see the names")


def test_progress_lines_off_a_terminal(monkeypatch) -> None:
    import io

    from rich.console import Console

    from scafe.cli._progress import LineProgress, progress_bar, progress_mode

    piped = Console(file=io.StringIO())
    monkeypatch.delenv("SCAFE_PROGRESS", raising=False)
    assert progress_mode(piped) == ("lines", 10.0)
    monkeypatch.setenv("SCAFE_PROGRESS", "lines:0")
    with progress_bar(piped) as bar:
        assert isinstance(bar, LineProgress)
        task = bar.add_task("extracting", total=3)
        for _ in range(3):
            bar.advance(task)
    lines = piped.file.getvalue().splitlines()
    assert lines[0] == "extracting: 0/3"
    assert lines[-1].startswith("extracting: 3/3, done in")
    monkeypatch.setenv("SCAFE_PROGRESS", "off")
    with progress_bar(piped) as bar:
        bar.advance(bar.add_task("quiet", total=2), 2)
    assert "quiet" not in piped.file.getvalue()


def test_plain_table_never_cuts_a_cell() -> None:
    from rich.table import Table

    from scafe.cli._output import plain_table

    table = Table(title="t")
    table.add_column("id", no_wrap=True, max_width=3)
    table.add_column("value")
    table.add_row("ph0000123", "[red]x[/red]")
    assert plain_table(table).splitlines()[-1].split() == ["ph0000123", "x"]
    wide = Table()
    for name in ("a", "b", "c"):
        wide.add_column(name)
    wide.add_row("1" * 40, "2" * 40, "3" * 40)
    text = plain_table(wide)
    assert "1" * 40 in text
    assert "  b  " + "2" * 40 in text
