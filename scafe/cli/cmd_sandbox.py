"""``scafe sandbox check`` (static policy + contract battery on one file) and ``scafe sandbox info``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from scafe.cli._common import (
    EXIT_FAILURE,
    EXIT_OK,
    emit,
    format_option,
    json_option,
    progress_bar,
    resolve_format,
    stdout,
)

sandbox_app = typer.Typer(
    name="sandbox",
    help="Check an extractor file in the jailed sandbox, and show which isolation layers are active.",
    no_args_is_help=True,
)


def _emit(payload: dict, fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(payload, indent=2, allow_nan=True))
        return
    if fmt == "csv":  # one row per failure, or one row per feature when it passed
        if payload.get("failures"):
            emit("csv", payload["failures"], columns=["check", "input", "expected", "got", "line", "outcome"])
        else:
            emit("csv", [{"status": payload["status"], "feature": key, "value": value, "on": payload.get("features_on")}
                         for key, value in (payload.get("features") or {}).items()]
                 or [{"status": payload["status"], "error": payload.get("error")}])
        return
    from rich.table import Table

    status = payload["status"]
    colour = "green" if status == "ok" else "red"
    stdout.print(f"status: [{colour}]{status}[/{colour}]" + (f"  (line {payload['line']})" if payload.get("line") else ""))
    if payload.get("error"):
        stdout.print(payload["error"], highlight=False, markup=False)
    for failure in payload.get("failures", [])[1:]:
        stdout.print(f"- [{failure['check']}] on {failure['input']}: expected {failure['expected']}; got {failure['got']}",
                     highlight=False, markup=False)
    if payload.get("features"):
        table = Table("feature", "value", title=f"features ({payload.get('features_on', '')})")
        for key, value in payload["features"].items():
            table.add_row(key, f"{value:.6g}")
        stdout.print(table)
    if "seconds" in payload:
        stdout.print(f"checked in {payload['seconds']:.2f} s")


@sandbox_app.command("check")
def check(
    file: Path = typer.Argument(..., metavar="FILE", help="Extractor module (.py) to check; it is never imported by this process."),
    image: Path | None = typer.Option(None, "--image", help="Also run on this image (PNG/JPEG/TIFF); needs --mask."),
    mask: Path | None = typer.Option(None, "--mask", help="Mask for --image (nonzero = lesion)."),
    as_json: bool = json_option(),
    fmt: str = format_option(),
    per_image_seconds: float = typer.Option(10.0, "--per-image-seconds", min=0.01, help="Deadline per image (s)."),
    memory_mb: int = typer.Option(2048, "--memory-mb", min=16, help="Memory a child may allocate (MiB)."),
    require_layer: list[str] = typer.Option(
        [], "--require-layer", metavar="LAYER", help="Refuse to run unless this layer is active (repeatable; see 'scafe sandbox info')."
    ),
) -> None:
    """Run the static policy and the contract battery on FILE; exit 0 when it passes, 1 when not."""
    from scafe.errors import UsageError

    fmt = resolve_format(fmt, as_json)
    if (image is None) != (mask is None):
        raise UsageError("--image and --mask go together; give both or neither.")
    if not file.is_file():
        raise UsageError(f"extractor file {str(file)!r} does not exist; pass the path of a .py file.")
    try:
        source = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{str(file)!r} is not UTF-8 text ({exc}); save it as UTF-8.") from exc
    # Start the fork server and its scipy/skimage imports first: they run while this process
    # imports numpy and builds the battery images (sandbox.server itself needs no numpy).
    from sandbox import check_source
    from sandbox.server import fork_server

    static = check_source(source)
    if static.ok:
        fork_server().prefetch(static.modules)
    from sandbox import Limits, validate
    from sandbox.battery import features_for
    from sandbox.runner import required_layers_from_env

    required = tuple(dict.fromkeys([*required_layers_from_env(), *require_layer]))
    limits = Limits(per_image_seconds=per_image_seconds, memory_mb=memory_mb, require_layers=required)
    with progress_bar(transient=True) as bar:
        task = bar.add_task("contract battery (sandboxed)", total=None)
        report = validate(source, limits=limits,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    payload: dict = {"status": report.status.value, "error": report.error, "line": report.line,
                     "keys": report.keys, "failures": report.to_dict()["failures"],
                     "seconds": round(report.seconds, 3)}
    if report.ok:
        payload.update(features=report.features or {}, features_on="battery image typical_512x512")
        del payload["error"], payload["line"]
        if image is not None and mask is not None:
            try:
                from scafe.data.dataset import read_image, read_mask
            except ImportError as exc:
                raise UsageError(f"--image needs scafe.data.dataset, which is not available ({exc}).") from exc
            result = features_for(source, read_image(image), read_mask(mask), limits=limits)
            if not result.ok:
                payload = {"status": result.outcome.value, "error": result.error, "line": result.line,
                           "input": str(image)}
            else:
                payload.update(features=result.features, features_on=str(image))
    _emit(payload, fmt)
    raise typer.Exit(EXIT_OK if payload["status"] == "ok" else EXIT_FAILURE)


@sandbox_app.command("info")
def info(as_json: bool = json_option(), fmt: str = format_option()) -> None:
    """Show which sandbox layers (static, RestrictedPython, rlimits, seccomp, Landlock, ...) are active here.

    Exits 1 when a layer named in SCAFE_SANDBOX_REQUIRE_LAYERS is not active.
    """
    from sandbox import layers_info
    from sandbox.runner import REQUIRE_ENV, required_layers_from_env

    required = required_layers_from_env()
    data = layers_info()
    missing = [name for name in required if not data["layers"].get(name, {}).get("active")]
    data["required"] = {"from": REQUIRE_ENV, "layers": list(required), "missing": missing}
    fmt = resolve_format(fmt, as_json)
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2))
        raise typer.Exit(EXIT_FAILURE if missing else EXIT_OK)
    if fmt == "csv":
        emit("csv", [{"layer": name, "active": layer["active"], "required": name in required, "detail": layer["detail"]}
                     for name, layer in data["layers"].items()])
        raise typer.Exit(EXIT_FAILURE if missing else EXIT_OK)
    from rich.table import Table

    table = Table("layer", "active", "detail", title="sandbox layers on this machine")
    for name, layer in data["layers"].items():
        table.add_row(name, "[green]yes[/green]" if layer["active"] else "[red]no[/red]", layer["detail"])
    stdout.print(table)
    plat = data["platform"]
    if required:
        state = f"[red]missing: {', '.join(missing)}[/red]" if missing else "[green]all active[/green]"
        stdout.print(f"required by {REQUIRE_ENV}: {', '.join(required)} -> {state}")
    stdout.print(f"{plat['system']} {plat['kernel']} {plat['machine']}, Python {plat['python']}, "
                 f"first child start {plat['child_start_ms']} ms (includes the fork server start in a fresh process)")
    raise typer.Exit(EXIT_FAILURE if missing else EXIT_OK)


def register(app: typer.Typer) -> None:
    """Attach ``scafe sandbox ...`` to the root app."""
    app.add_typer(sandbox_app, name="sandbox")
