"""The ``scafe`` command line: wiring only.

Each ``cmd_*`` module owns one area and exposes ``register(app)``. Command modules import only
typer/rich at module level and load heavy packages inside the command functions, so
``scafe --help`` stays fast and the library/CI commands never load the LLM stack.
"""

from __future__ import annotations

import sys

import typer

from scafe import __version__
from scafe.cli import (
    cmd_criteria,
    cmd_data,
    cmd_demo,
    cmd_extract,
    cmd_generate,
    cmd_judge,
    cmd_library,
    cmd_model,
    cmd_sandbox,
    cmd_studio,
)
from scafe.cli._common import run_guarded

app = typer.Typer(
    name="scafe",
    help=(
        "Clinical criteria -> LLM-written feature extractors, proven safe in a sandbox, kept in a "
        "versioned library, feeding an XGBoost scar classifier; plus a hierarchical segmentation judge."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: no swallowed [brackets], no boxes cut at 80 columns in logs
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scafe {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Scafe: scar feature engineering with LLM-written, sandboxed extractors."""


for _module in (
    cmd_data,
    cmd_sandbox,
    cmd_criteria,
    cmd_library,
    cmd_extract,
    cmd_generate,
    cmd_model,
    cmd_demo,
    cmd_judge,
    cmd_studio,
):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    return run_guarded(app, sys.argv[1:] if argv is None else argv)
