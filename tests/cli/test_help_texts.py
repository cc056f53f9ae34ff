"""Help texts read well in a pipe: on/off flags do not show a default as if it were a value."""

from __future__ import annotations

import pytest
import typer.main

from scafe.cli import app, main


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


@pytest.mark.parametrize("path", [p for p, _ in _walk(typer.main.get_command(app))], ids=" ".join)
def test_no_flag_default_shown_as_a_value(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*path, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for bad in ("[default: llm]", "[default: True]", "[default: False]", "<bool>"):
        assert bad not in text, f"'scafe {' '.join(path)} --help' shows {bad}"
