"""``scafe studio``: the local web studio for clinicians (see ``scafe.studio``)."""

from __future__ import annotations

from pathlib import Path

import typer

from scafe.cli._common import console

STUDIO_HELP = (
    "A local web studio: edit criteria (form or YAML, live validation, diff, comment-keeping save), preview "
    "prompts, re-verify stale extractors, inspect extractors per item, browse a dataset's cases with feature "
    "percentiles, predictions and TreeSHAP explanations, grade cases against an item's anchors, and run the "
    "segmentation judge."
    "\n\n"
    "Serves 127.0.0.1 only unless --host is given, and answers only requests carrying the random token of the "
    "printed URL."
)


def studio(
    data: Path | None = typer.Option(None, "--data", "-d", help="Dataset folder or manifest CSV for the case pages (features are extracted, cached)."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model directory written by `scafe train`: predictions and TreeSHAP explanations."),
    port: int = typer.Option(8765, "--port", "-p", help="TCP port (0 = any free port)."),
    host: str | None = typer.Option(None, "--host", help="Listen on this address instead of 127.0.0.1 (e.g. 0.0.0.0); prints a warning."),
    read_only: bool = typer.Option(False, "--read-only", help="Nothing can be changed from the pages (for sharing a screen)."),
    root: Path | None = typer.Option(None, "--root", help="Project root holding prompts/ and feature_library/ (default: SCAFE_ROOT, else found from the working directory)."),
    workers: int = typer.Option(1, "--workers", help="Extraction workers for the dataset's features."),
) -> None:
    """Start the studio and print its URL (with the access token); Ctrl-C stops it."""
    from scafe.errors import UsageError
    from scafe.studio import StudioConfig, create_app
    from scafe.studio.server import bind, uvicorn_server

    if data is not None and not data.exists():
        raise UsageError(f"--data {str(data)!r} does not exist; pass a dataset folder or its manifest CSV.")
    address = host or "127.0.0.1"
    if host is not None and host not in ("127.0.0.1", "localhost", "::1"):
        from scafe.textsafe import escape_markup

        console.print(f"[yellow]warning:[/yellow] serving on {escape_markup(repr(host))}: anyone who can reach this machine and "
                      "learns the token can read and edit your criteria and grades. Prefer the default "
                      "127.0.0.1 (or an SSH tunnel).", highlight=False)
    config = StudioConfig(root=root, data=data, model=model, read_only=read_only,
                          allow_remote=host is not None, workers=workers)
    app = create_app(config)
    sock = bind(address, port)
    bound = sock.getsockname()[1]
    shown = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    shown = f"[{shown}]" if ":" in shown else shown
    mode = " (read-only)" if read_only else ""
    typer.echo(f"scafe studio{mode}: open http://{shown}:{bound}/?token={config.token}", err=False)
    typer.echo("Ctrl-C stops it.")
    uvicorn_server(app).run(sockets=[sock])


def register(app: typer.Typer) -> None:
    """Attach ``scafe studio``."""
    app.command("studio", help=STUDIO_HELP)(studio)
