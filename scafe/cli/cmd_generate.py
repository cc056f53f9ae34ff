"""``scafe generate`` (the feature-engineer agent) and ``scafe criteria render`` (prompt preview)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from scafe.cli._common import (
    EXIT_PARTIAL,
    console,
    emit,
    format_option,
    progress_bar,
    resolve_format,
    stdout,
)
from scafe.textsafe import safe_text

ROOT_HELP = "Project root holding prompts/ and feature_library/ (default: SCAFE_ROOT, else found from the working directory)."


def _resolve_criteria(value: str, root: Path) -> Path:
    from scafe.errors import UsageError

    path = Path(value)
    if path.is_file():
        return path.resolve()
    candidate = root / "prompts" / "criteria" / f"{value}.yaml"
    if candidate.is_file():
        return candidate.resolve()
    raise UsageError(f"criteria file {value!r} not found; pass a path such as prompts/criteria/vss.yaml or a scale name like 'vss'")


def _check_items(criteria_path: Path, wanted: list[str]) -> None:
    """Fail fast (exit 2) on item ids the criteria file does not have."""
    from scafe.criteria import load_criteria
    from scafe.errors import UsageError

    known = [item.id for item in load_criteria(criteria_path).items]
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise UsageError(f"--items {','.join(unknown)} not in {criteria_path.name}; items are: {', '.join(known)}")


def _progress_printer(bar: Any) -> Any:
    """A ``progress(event, fields)`` callback driving a rich progress bar and one line per step."""
    tasks: dict[str, Any] = {}

    def progress(event: str, fields: dict[str, Any]) -> None:
        # every field may hold LLM or server text: no markup, no terminal escapes (issue 12 item 12)
        fields = {k: safe_text(v) if isinstance(v, str) else
                  [safe_text(x) for x in v] if isinstance(v, list) else v for k, v in fields.items()}
        where = "/".join(str(fields[k]) for k in ("item", "spec") if fields.get(k))
        if event == "criteria_loaded":
            tasks["plan"] = bar.add_task("planning items", total=len(fields["items"]))
        elif event in ("planned", "plan_failed"):
            if "plan" in tasks:
                bar.advance(tasks["plan"])
            detail = ", ".join(fields.get("specs", [])) or fields.get("reason", "")[:120]
            bar.console.print(f"  {event.replace('_', ' ')} {where}: {detail}", highlight=False)
        elif event == "dispatch":
            tasks["spec"] = bar.add_task("writing extractors", total=fields["specs"])
        elif event == "asking":
            bar.console.print(f"  {where}: {fields['stage']} (attempt {fields['attempt']})", highlight=False)
        elif event == "validated":
            bar.console.print(f"  {where}: attempt {fields['attempt']} validation {fields['outcome']}", highlight=False)
        elif event in ("registered", "gave_up"):
            if "spec" in tasks:
                bar.advance(tasks["spec"])
            text = f"registered {fields['name']}@v{fields['version']}" if event == "registered" else f"gave up ({fields['outcome']})"
            bar.console.print(f"  {where}: {text}", highlight=False)
        elif event == "resumed":
            bar.console.print(f"  resuming at {', '.join(fields['pending']) or 'the end'}", highlight=False)

    return progress


def _same_endpoint(a: str, b: str) -> bool:
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


def _resume_endpoint(resume: str, stored: Any, flag: str | None, config: Path | None, allow_change: bool) -> str | None:
    """The endpoint a resumed run talks to: flags > environment > config file > the stored run.

    The API key goes only where the *configuration* says: a stored URL that differs from the
    configured one is refused (unless ``--allow-endpoint-change``), and a stored URL is used on
    its own only when no API key is configured (so nothing secret can be sent to it).
    """
    from agents.llm_config import configured_api_key, configured_endpoint
    from agents.redaction import redact_url
    from scafe.errors import UsageError

    configured, source = configured_endpoint(flag, config_file=config)
    if not isinstance(stored, str) or not stored:
        return flag
    if configured:
        if _same_endpoint(configured, stored) or allow_change:
            return flag
        raise UsageError(
            f"Run {resume!r} was made against {redact_url(stored)!r}, but the endpoint configured by {source} is "
            f"{redact_url(configured)!r}. The API key is only sent to the configured endpoint: configure "
            f"{redact_url(stored)!r} to continue there, or pass --allow-endpoint-change to continue against "
            f"{redact_url(configured)!r}."
        )
    if configured_api_key(config_file=config):
        raise UsageError(
            f"Run {resume!r} was made against {redact_url(stored)!r} and no endpoint is configured now. An API key "
            f"is configured and is never sent to an address read from run.json: pass --base-url "
            f"{redact_url(stored)} (or set OPENAI_BASE_URL) to confirm it."
        )
    return stored  # no key configured: nothing secret goes there


def _table(summary: Any) -> Any:
    from rich.table import Table

    table = Table(title=f"scafe generate — run {summary.run_id}")
    for column in ("item", "spec", "attempts", "outcome", "ρ", "ΔAUC [95% CI]", "version"):
        table.add_column(column)
    colours = {"accepted": "green", "rejected": "red", "unobservable": "yellow"}
    for r in summary.rows:
        ci = r.get("delta_auc_ci")
        dauc = "-" if r.get("delta_auc") is None else f"{r['delta_auc']:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")
        version = f"{r['name']}@v{r['version']}" + (" (active)" if r.get("activated") else "") if r.get("version") else "-"
        colour = colours.get(r["outcome"], "magenta")
        table.add_row(safe_text(r["item"]), safe_text(r.get("spec") or "-"), str(r["attempts"]),
                      f"[{colour}]{safe_text(r['outcome'])}[/{colour}]",
                      "-" if r.get("rho") is None else f"{r['rho']:+.2f}", dauc, safe_text(version))  # fmt: skip
    return table


SUMMARY_COLUMNS = ("item", "spec", "output_key", "attempts", "outcome", "rho", "delta_auc", "delta_auc_ci",
                   "redundancy", "name", "version", "activated", "tokens", "reason")


def _emit_summary(summary: Any, fmt: str) -> None:
    """``--format csv|json``: the summary rows on stdout (every field as stored), the rest on stderr."""
    rows = [{key: (safe_text(value) if isinstance(value, str) else value) for key, value in row.items()}
            for row in summary.rows]
    payload = {"run_id": summary.run_id, "rows": rows, "missing_items": list(summary.missing_items),
               "to_activate": list(summary.to_activate), "usage": summary.usage, "seconds": summary.seconds,
               "directory": str(summary.directory)}
    columns = [c for c in SUMMARY_COLUMNS if any(c in row for row in rows)] or list(SUMMARY_COLUMNS[:4])
    emit(fmt, rows, columns=columns, payload=payload)
    console.print(safe_text(f"run {summary.run_id}: {len(rows)} spec(s); run directory {summary.directory}"),
                  highlight=False)


def generate(
    criteria: str = typer.Option(None, "--criteria", "-c", help="Criteria file (prompts/criteria/vss.yaml) or scale name (vss). Not needed with --resume."),
    items: str = typer.Option("", "--items", help="Comma-separated item ids (default: every item observable in a photo)."),
    library: Path | None = typer.Option(None, "--library", help="Feature library directory to register into (default: SCAFE_LIBRARY or <root>/feature_library)."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (default: OPENAI_BASE_URL or scafe.toml)."),
    model: str | None = typer.Option(None, "--model", help="Model name (default: SCAFE_MODEL or scafe.toml)."),
    temperature: float | None = typer.Option(None, "--temperature", help="Sampling temperature (default 0.2)."),
    timeout: float | None = typer.Option(None, "--timeout", help="Wall-clock seconds for one LLM request, the whole reply included (default 120)."),
    run_deadline: float | None = typer.Option(None, "--run-deadline", min=1, help="Wall-clock seconds for all LLM calls of this invocation (default: no limit); items left are reported as 'budget'."),
    allow_endpoint_change: bool = typer.Option(False, "--allow-endpoint-change", help="With --resume: continue against the configured endpoint although the run was made against another one."),
    attempts: int = typer.Option(3, "--attempts", min=1, max=10, help="Code-writing LLM calls per feature spec (first write + repairs)."),
    record: Path | None = typer.Option(None, "--record", help="Append every LLM exchange to this JSONL file (for --replay)."),
    replay: Path | None = typer.Option(None, "--replay", help="Answer every LLM request from this recording; no network."),
    resume: str | None = typer.Option(None, "--resume", help="Continue the crashed or interrupted run RUN_ID (finished specs are not redone)."),
    run_id: str | None = typer.Option(None, "--run-id", help="Name for a new run directory (default: UTC timestamp + random suffix)."),
    max_calls: int | None = typer.Option(None, "--max-calls", min=1, help="Stop asking the LLM after this many calls."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", min=1, help="Stop asking the LLM after this many tokens in total."),
    activate: bool = typer.Option(False, "--activate", help="Activate accepted versions (default: register them inactive and say how to activate)."),
    concurrency: int = typer.Option(2, "--concurrency", min=1, max=16, help="Feature specs worked on in parallel (and concurrent LLM requests)."),
    usefulness_n: int = typer.Option(100, "--usefulness-n", min=20, help="Training phantoms for the usefulness estimate (dAUC, redundancy)."),
    no_usefulness: bool = typer.Option(False, "--no-usefulness", help="Skip the usefulness estimate (faster; dAUC shown as '-')."),
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help="Where run directories go (default: <root>/runs)."),
    config: Path | None = typer.Option(None, "--config", help="TOML config file with an [llm] table (default: SCAFE_CONFIG or <root>/scafe.toml)."),
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
    fmt: str = format_option(),
) -> None:
    """Generate feature extractors from clinical criteria with an LLM, validate them, register them.

    Exit 0: every requested item got an accepted extractor; 3: some did not (listed); 2: configuration error.
    """
    import json

    from agents.engineer.run import RunOptions
    from agents.engineer.run import generate as run_generate
    from agents.engineer.runlog import check_run_id
    from agents.engineer.usefulness import UsefulnessSettings
    from agents.llm import LLMClient, LLMConfig
    from agents.redaction import redact_url
    from scafe.errors import UsageError
    from scafe.paths import project_root

    fmt = resolve_format(fmt)
    if record and replay:
        raise UsageError("--record and --replay exclude each other: record a live run, or replay a recording.")
    project = project_root(root)
    runs = runs_dir or project / "runs"
    previous: dict[str, Any] = {}
    options = None
    if resume:
        check_run_id(resume, "--resume")
        run_json = runs / resume / "run.json"
        if run_json.is_file():
            try:
                previous = json.loads(run_json.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise UsageError(f"{run_json} is not valid JSON ({exc}); start a new run instead.") from None
            if not isinstance(previous, dict):
                raise UsageError(f"{run_json} is not a run description; start a new run instead.")
    else:
        if run_id is not None:
            check_run_id(run_id)
        if not criteria:
            raise UsageError("--criteria is required for a new run, e.g. --criteria prompts/criteria/vss.yaml")
        criteria_path = _resolve_criteria(criteria, project)
        wanted = [i.strip() for i in items.split(",") if i.strip()]
        _check_items(criteria_path, wanted)
        options = RunOptions(
            criteria_path=criteria_path, items=wanted,
            library_dir=library.resolve() if library else None, attempts=attempts, activate=activate,
            usefulness=None if no_usefulness else UsefulnessSettings(n=usefulness_n),
        )  # fmt: skip
    llm_prev = previous.get("llm", {}) if isinstance(previous.get("llm"), dict) else {}
    endpoint = base_url
    if resume and not replay:
        endpoint = _resume_endpoint(resume, previous.get("base_url"), base_url, config, allow_endpoint_change)
    llm_config = LLMConfig.from_env(
        base_url=endpoint,
        model=model or llm_prev.get("model"), config_file=config,
        temperature=temperature if temperature is not None else llm_prev.get("temperature"),
        timeout_s=timeout, record=record, replay=replay, max_calls=max_calls, max_total_tokens=max_tokens,
        concurrency=concurrency, run_deadline_s=run_deadline,
    )  # fmt: skip
    client = LLMClient(llm_config)
    console.print(safe_text(f"LLM: {llm_config.provider} {llm_config.model!r}"
                            + (f" replaying {replay}" if replay else f" at {redact_url(llm_config.base_url)}")),
                  highlight=False)  # fmt: skip
    if not resume:
        from agents.engineer.runlog import new_run_id

        run_id = run_id or new_run_id()  # known up front so an interrupted run can say how to resume
    try:
        with progress_bar() as bar:
            summary = run_generate(options, client, runs_dir=runs, resume=resume, run_id=run_id,
                                   progress=_progress_printer(bar))
    except KeyboardInterrupt:
        console.print(f"[yellow]interrupted[/yellow]; continue with: scafe generate --resume {resume or run_id} "
                      f"--runs-dir {runs}", highlight=False)  # fmt: skip
        raise typer.Exit(130) from None
    if fmt != "table":
        _emit_summary(summary, fmt)
        if summary.exit_code:
            raise typer.Exit(EXIT_PARTIAL)
        return
    stdout.print(_table(summary))
    for row in summary.rows:
        if row["outcome"] != "accepted" and row.get("reason"):
            reason = " ".join(line.strip() for line in str(row["reason"]).splitlines()[:2])
            stdout.print(safe_text(f"  {row['item']}/{row.get('spec') or '-'}: {reason[:300]}"), highlight=False)
    if summary.missing_items:
        stdout.print(f"[yellow]No accepted extractor for: {safe_text(', '.join(summary.missing_items))}[/yellow]")
    if summary.to_activate:
        stdout.print("New versions are registered [bold]inactive[/bold]; activate them with:")
        for command in summary.to_activate:
            stdout.print(f"  {safe_text(command)}", highlight=False)
    u = summary.usage
    stdout.print(f"LLM calls {u['calls']} ({u['replayed']} replayed, {u['retries']} retries), tokens {u['total_tokens']}; "
                 f"wall {summary.seconds:.1f} s. Run directory: {safe_text(summary.directory)}", highlight=False)  # fmt: skip
    if summary.exit_code:
        raise typer.Exit(EXIT_PARTIAL)


def render_prompt(
    ref: str = typer.Argument(..., metavar="SCALE/ITEM", help="SCALE/ITEM, e.g. vss/vascularity."),
    stage: str = typer.Option("plan", "--stage", help="Which prompt: plan, write or repair (system is shown with each)."),
    spec_json: Path | None = typer.Option(None, "--spec", help="JSON file with one feature spec for write/repair (default: a placeholder spec)."),
    root: Path | None = typer.Option(None, "--root", help=ROOT_HELP),
) -> None:
    """Show exactly what the LLM will read for one criterion item (system + user message)."""
    import json

    from scafe import prompting
    from scafe.criteria import find_item
    from scafe.errors import UsageError
    from scafe.paths import project_root

    if stage not in ("plan", "write", "repair"):
        raise UsageError(f"--stage must be plan, write or repair; got {stage!r}")
    project = project_root(root)
    criteria, item = find_item(ref, project)
    context = prompting.sample_context(stage)
    if spec_json is not None:
        context["spec"] = json.loads(spec_json.read_text(encoding="utf-8"))
    elif stage in ("write", "repair"):
        console.print("[dim]note: a placeholder feature spec (and failure) is filled in; pass --spec FILE for a real one[/dim]")
    chat = prompting.messages(stage, item=item, criteria=criteria, root=project, **context)
    for message in chat:
        typer.echo(f"===== {message['role']} =====")
        typer.echo(message["content"])


def register(app: typer.Typer) -> None:
    """Attach ``generate`` to the root app and ``render`` to the ``criteria`` group."""
    app.command("generate")(generate)
    try:
        from scafe.cli.cmd_criteria import criteria_app
    except ImportError:  # the criteria group is not built yet
        return
    criteria_app.command("render")(render_prompt)
