"""Every command and group has help text, and the root CLI behaves (version, unknown command)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from scafe import __version__
from scafe.cli import app, main


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    if hasattr(command, "commands"):  # a group (typer vendors click)
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(typer.main.get_command(app)))


def test_commands_are_registered():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert "" in names
    assert len(names) > 1, "no command registered"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help(path, command, capsys):
    assert (command.help or command.short_help or "").strip(), f"'scafe {' '.join(path)}' has no help text"
    for param in command.params:
        if param.param_type_name == "option" and param.name not in {"help", "version"}:
            assert (param.help or "").strip(), f"option {param.opts} of 'scafe {' '.join(path)}' has no help"
    assert main([*path, "--help"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"scafe {__version__}"


def test_unknown_command_is_usage_error():
    assert main(["no-such-command"]) == 2


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "scafe", "--version"], capture_output=True, text=True, check=True)
    assert __version__ in out.stdout


HELP_TEXTS = [(path, command) for path, command in COMMANDS]


@pytest.mark.parametrize(("path", "command"), HELP_TEXTS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_help_keeps_brackets_and_shows_no_bool_metavar(path, command, capsys):
    assert main([*path, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # click re-wraps; compare word by word
    assert "<bool>" not in text, f"'scafe {' '.join(path)} --help' shows <bool> on a flag"
    for param in command.params:
        help_text = " ".join((getattr(param, "help", None) or "").split())
        for bracketed in __import__("re").findall(r"\[[^\]\s]+\]", help_text):
            assert bracketed in text, f"{bracketed} of {param.opts} is missing from 'scafe {' '.join(path)} --help'"
    assert "╭" not in text
    assert "│" not in text


def test_help_keeps_the_llm_table_name_in_a_pipe():
    out = subprocess.run([sys.executable, "-m", "scafe", "generate", "--help"], capture_output=True, text=True,
                         env={**__import__("os").environ, "COLUMNS": "200"}, check=True).stdout
    assert "[llm]" in out
