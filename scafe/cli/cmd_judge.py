"""``scafe judge`` (one image and mask) and ``scafe judge-bench`` (the segmentation-QA benchmark)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import typer

from scafe.cli._common import console, progress_bar, skipped_judgements, stdout

JUDGE_HELP = (
    "Judge whether a segmentation mask is clinically acceptable, in four stages: knowledge recall, "
    "visual feature analysis, anatomical inference, clinical synthesis, grounded in trusted mask descriptors."
    "\n\n"
    "With an LLM endpoint (--base-url/--model, or OPENAI_BASE_URL and SCAFE_MODEL) the model answers the "
    "stages (reasoner llm:<model>); otherwise the deterministic rule reasoner runs them with the thresholds "
    "of the target's YAML (reasoner rules)."
    "\n\n"
    "An LLM reply still invalid after bounded retries, or an endpoint that fails after the client's retries "
    "(timeouts, HTTP 5xx), gives the verdict uncertain with the reason in the failed stage - never a guess."
)


def _llm_client(
    base_url: str | None, model: str | None, *, required: bool, record: Path | None = None, replay: Path | None = None,
    **overrides: Any,
) -> Any:
    """A configured LLM client, or None when no endpoint (or recording) is configured and none is required."""
    import os

    from scafe.errors import ConfigError

    configured = base_url or model or replay or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY")
    if not configured and not required:
        return None
    try:
        from agents.llm import LLMClient, LLMConfig
    except ImportError as exc:  # pragma: no cover - the LLM stack is a core dependency
        raise ConfigError(f"The LLM client cannot be imported ({exc}); reinstall scafe.") from exc
    return LLMClient(LLMConfig.from_env(base_url=base_url, model=model, record=record, replay=replay, **overrides))


RECORD_HELP = "Append every LLM exchange to this JSONL file (replay it later with --replay)."
REPLAY_HELP = "Answer the LLM stages from a recording made with --record; no network."


def _print_readable(result: dict[str, Any]) -> None:
    """Readable form; every text that may come from a model or a file is escaped before rich sees it."""
    from rich.table import Table

    from scafe.textsafe import safe_text

    colour = {"acceptable": "green", "unacceptable": "red"}.get(result["verdict"], "yellow")
    stdout.print(
        f"[bold {colour}]{safe_text(result['verdict'])}[/] (confidence {result['confidence']:.2f}, "
        f"reasoner {safe_text(result['reasoner'])})"
    )
    if result.get("verdict_source") == "hard_failure":
        stdout.print("[bold]decided by a hard failure of the mask[/], whatever the LLM replied")
    for hard in result.get("hard_failures", []):
        stdout.print(f"  hard failure: {safe_text(hard['finding'])}", highlight=False)
    if "llm" in result:
        llm, rules = result["llm"], result["rules"]
        stdout.print(
            f"llm: {safe_text(llm['verdict'])} ({llm['confidence']:.2f}); rules: {safe_text(rules['verdict'])} "
            f"({rules['confidence']:.2f})" + ("  [yellow]the LLM and the rules disagree[/]" if result["disagreement"] else ""),
            highlight=False,
        )
        if llm["rejected_failure_modes"]:
            stdout.print("ignored failure modes not declared by the target: "
                         + ", ".join(safe_text(m) for m in llm["rejected_failure_modes"]), highlight=False)
    if result["failure_modes"]:
        stdout.print("failure modes: " + ", ".join(safe_text(m) for m in result["failure_modes"]), highlight=False)
    for stage, value in result["stages"].items():
        stdout.print(f"[bold]{stage.replace('_', ' ')}[/]")
        if value is None:
            stdout.print("  (not reached)")
        elif "error" in value:
            stdout.print(f"  [yellow]{safe_text(value['error'])}[/]", highlight=False)
        elif stage == "visual_feature_analysis" and "findings" in value:
            fired = [f for f in value["findings"] if f["fired"]]
            stdout.print(f"  {len(fired)} of {len(value['findings'])} rules fired")
            for f in fired:
                if f.get("hard"):
                    stdout.print(f"  - {safe_text(f['rule'])}: {safe_text(f['finding'])}", highlight=False)
                else:
                    stdout.print(f"  - {f['rule']}: {f['descriptor']}={f['value']} {f['op']} {f['threshold']} ({f['failure_mode']})", highlight=False)
        elif stage == "anatomical_inference" and "explanations" in value:
            if not value["explanations"]:
                stdout.print("  consistent with the target: no failure mode suspected")
            for mode, texts in value["explanations"].items():
                stdout.print(f"  - {safe_text(mode)}: {safe_text(' '.join(texts))}", highlight=False)
        else:
            text = value.get("rationale") or value.get("summary") or value.get("reasoning") or value.get("structure")
            stdout.print(f"  {safe_text(text if text else json.dumps(value)[:300])}", highlight=False)
    table = Table(title="descriptors", show_header=False)
    for name, v in result["descriptors"].items():
        table.add_row(name, "undefined" if v is None else f"{v:.4g}")
    stdout.print(table)


def judge(
    image: Path | None = typer.Option(None, "--image", "-i", help="Photograph (PNG/JPEG/TIFF; converted to 8-bit RGB)."),
    mask: Path | None = typer.Option(None, "--mask", "-m", help="Mask to judge (PNG/TIFF; nonzero = lesion), same size as the image."),
    data: Path | None = typer.Option(None, "--data", help="Judge every mask of a dataset (manifest CSV with image and mask columns, or its folder) instead of one; writes --out/judgements.csv, summary.json and report.html."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder for --data (default: judge-<manifest folder name> in the working directory)."),
    target: str = typer.Option("scar", "--target", help="Segmentation target name (a file stem in prompts/criteria/segmentation/, e.g. scar), not a path."),
    as_json: bool = typer.Option(False, "--json", help="Print the machine-readable JSON result instead of the readable form."),
    vision: bool = typer.Option(False, "--vision", help="Also send images to the model at stages 2 and 3 (multimodal models only): the photograph with the mask outline, and a zoomed crop around the mask, plain and with the mask filled semi-transparently."),
    px_per_mm: float | None = typer.Option(None, "--px-per-mm", min=0.01, help="Pixel size of the photograph, when known; the prompts state it next to the lesion width in px."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (default: OPENAI_BASE_URL)."),
    model: str | None = typer.Option(None, "--model", help="Model name (default: SCAFE_MODEL)."),
    record: Path | None = typer.Option(None, "--record", help=RECORD_HELP),
    replay: Path | None = typer.Option(None, "--replay", help=REPLAY_HELP),
    root: Path | None = typer.Option(None, "--root", help="Project root holding prompts/ (default: SCAFE_ROOT, else found from the working directory)."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="With --data: rows whose image or mask cannot be read are also written to OUT/skipped_rows.csv and the exit code is 3 (partial); without it such rows make the exit code 1 (the readable rows are still judged and written)."),
) -> None:
    """Judge one mask (JSON: verdict, confidence, failure_modes, stages, reasoner, descriptors)."""
    from scafe.data.dataset import read_image, read_mask
    from scafe.errors import UsageError
    from scafe.judge.rules import SegmentationTarget, judge_with_rules
    from scafe.paths import project_root, templates_dir

    project = project_root(root)
    if data is not None:
        if image is not None or mask is not None:
            raise UsageError("Pass either --data MANIFEST or --image and --mask, not both.")
        summary, folder = _judge_data(data, out, target=target, project=project, as_json=as_json, vision=vision,
                                      client=_llm_client(base_url, model, required=vision, record=record, replay=replay))
        if skip_bad and skipped_judgements(summary, data, folder) is not None:  # hook of helper cli (issue 13 s4)
            raise typer.Exit(3)
        if summary["errors"]:  # the readable rows are judged and written either way; the exit code says it
            console.print(f"{len(summary['errors'])} row(s) could not be judged (verdict 'error' in judgements.csv); "
                          "pass --skip-bad to accept a partial run (exit code 3).", highlight=False)
            raise typer.Exit(1)
        return
    if image is None or mask is None:
        raise UsageError("Pass --image and --mask (one mask), or --data MANIFEST (every mask of a dataset).")
    picture = read_image(image)
    candidate = read_mask(mask)
    if candidate.shape != picture.shape[:2]:
        raise UsageError(
            f"The mask {mask} is {candidate.shape[1]}x{candidate.shape[0]} but the image {image} is "
            f"{picture.shape[1]}x{picture.shape[0]}; pass the mask made for this image."
        )
    client = _llm_client(base_url, model, required=vision, record=record, replay=replay)
    if client is None:
        result = judge_with_rules(picture, candidate, target=target, root=project)
    else:
        from agents.judge.run import judge_with_llm

        result = judge_with_llm(
            picture, candidate, client=client, target=SegmentationTarget.load(target, project),
            vision=vision, templates_dir=str(templates_dir(project)), px_per_mm=px_per_mm,
        )
    if as_json:
        stdout.print_json(json.dumps(result))
    else:
        _print_readable(result)


def _judge_data(data: Path, out: Path | None, *, target: str, project: Path, as_json: bool, vision: bool,
                client: Any) -> tuple[dict[str, Any], Path]:
    from scafe.judge.dataset_judge import judge_dataset
    from scafe.judge.rules import SegmentationTarget, judge_with_rules
    from scafe.paths import templates_dir
    from scafe.textsafe import safe_text

    loaded = SegmentationTarget.load(target, project)
    folder = out or Path(f"judge-{(data if data.is_dir() else data.parent).resolve().name or 'data'}")
    recall_cache: dict[str, Any] = {}

    def one(picture: Any, candidate: Any) -> dict[str, Any]:
        if client is None:
            return judge_with_rules(picture, candidate, target=target, root=project)
        from agents.judge.run import judge_with_llm

        return judge_with_llm(picture, candidate, client=client, target=loaded, vision=vision,
                              templates_dir=str(templates_dir(project)), recall_cache=recall_cache)

    with progress_bar() as bar:
        task = bar.add_task("judging masks", total=None)
        summary = judge_dataset(data, folder, one, progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        stdout.print_json(json.dumps({**summary, "out": str(folder)}))
        return summary, folder
    stdout.print(f"{summary['n']} masks judged: " + ", ".join(f"{k} {v}" for k, v in summary["verdicts"].items()), highlight=False)
    if summary["failure_modes"]:
        stdout.print("failure modes: " + ", ".join(f"{safe_text(k)} {v}" for k, v in summary["failure_modes"].items()), highlight=False)
    for bad in summary["errors"][:10]:
        stdout.print(f"  could not judge {safe_text(bad['id'])}: {safe_text(bad['error'], 200)}", highlight=False)
    console.print(f"wrote {safe_text(folder / 'judgements.csv')}, summary.json and report.html", highlight=False)
    return summary, folder


def judge_bench(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for metrics.json and report.html."),
    n: int = typer.Option(80, "--n", help="Number of phantoms (first half train for the learned QC, second half test)."),
    seed: int = typer.Option(0, "--seed", help="Phantom-set seed; the benchmark is a pure function of (n, seed, size)."),
    size: int = typer.Option(256, "--size", help="Phantom side in pixels."),
    target: str = typer.Option("scar", "--target", help="Segmentation target whose YAML holds the rule thresholds."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint; adds the 'llm' method (default: OPENAI_BASE_URL; skipped when none)."),
    model: str | None = typer.Option(None, "--model", help="Model name for the 'llm' method (default: SCAFE_MODEL)."),
    vision: bool = typer.Option(False, "--vision", help="Send the images (photograph with outline, zoomed crop plain and filled) to the model at stages 2 and 3 in the 'llm' method."),
    llm_limit: int = typer.Option(100, "--llm-limit", help="Judge only the first N test cases with the LLM (4 calls each); --llm-sample is the fairer choice."),
    llm_sample: int | None = typer.Option(None, "--llm-sample", min=1, help="Judge a stratified, seeded sample of N test cases (across failure modes, severities and phantoms) with the LLM; every method is also scored on that sample."),
    timeout: float | None = typer.Option(None, "--timeout", min=1, help="Seconds per LLM call (default: the client's, SCAFE_LLM_TIMEOUT)."),
    max_retries: int | None = typer.Option(None, "--max-retries", min=0, help="Retries per LLM call on timeouts and HTTP 5xx (default: the client's)."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, max=16, help="Cases judged in parallel by the LLM methods (concurrent LLM requests); results do not depend on it."),
    ensemble_band: float = typer.Option(0.3, "--ensemble-band", min=0.0, max=1.0, help="The 'ensemble' method asks the LLM where the learned QC is unsure: |P(unacceptable) - its threshold| < this band; elsewhere it keeps the learned QC's verdict."),
    ensemble_only: bool = typer.Option(False, "--ensemble-only", help="Score the LLM only inside the ensemble (asked for the unsure cases alone: fewer calls), not on its own."),
    record: Path | None = typer.Option(None, "--record", help=RECORD_HELP),
    replay: Path | None = typer.Option(None, "--replay", help=REPLAY_HELP),
) -> None:
    """Build the segmentation-QA benchmark from phantoms and score every judge method."""
    from scafe.judge.bench import build_benchmark, run_benchmark
    from scafe.judge.report import metrics_document, write_metrics, write_report

    overrides: dict[str, Any] = {}
    if timeout is not None:
        overrides["timeout_s"] = timeout
    if max_retries is not None:
        overrides["max_retries"] = max_retries
    client = _llm_client(base_url, model, required=False, record=record, replay=replay, **overrides)
    skipped: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if client is None:
        skipped["llm"] = "no LLM endpoint configured (pass --base-url and --model, or set OPENAI_BASE_URL and SCAFE_MODEL)"
    else:
        from agents.judge.run import judge_with_llm
        from scafe.judge.rules import SegmentationTarget

        loaded = SegmentationTarget.load(target)
        recall_cache: dict[str, Any] = {}  # stage 1 is the same for every case: asked once per run

        def llm_method(image: Any, mask: Any, descriptors: dict[str, float]) -> dict[str, Any]:
            return judge_with_llm(image, mask, client=client, target=loaded, vision=vision, descriptors=descriptors,
                                  recall_cache=recall_cache, progress=call_progress)

        extra["llm"] = llm_method
    with progress_bar() as bar:
        task = bar.add_task("phantoms -> perturbed masks -> descriptors", total=n)
        bench = build_benchmark(n, seed=seed, size=size, progress=lambda done, total: bar.update(task, completed=done))
        tasks: dict[str, Any] = {}
        calls_task = bar.add_task("LLM calls answered", total=None, visible=client is not None)
        calls = [0]
        calls_lock = threading.Lock()

        def call_progress(stage: str, attempt: int) -> None:
            with calls_lock:
                calls[0] += 1
                bar.update(calls_task, completed=calls[0], description=f"LLM calls answered (last: {stage})")

        def method_progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"method {name}", total=total)
            bar.update(tasks[name], completed=done)

        results = run_benchmark(bench, target=target, extra_methods=extra, extra_limit=llm_limit,
                                extra_sample=llm_sample, progress=method_progress, concurrency=concurrency,
                                ensemble_of="llm" if extra else None, ensemble_band=ensemble_band,
                                ensemble_alone=not ensemble_only)
    from scafe.judge.sample import write_cases_csv

    document = metrics_document(bench, results, skipped)
    metrics_path = write_metrics(out / "metrics.json", document)
    report_path = write_report(out, bench, results, skipped)
    cases_path = write_cases_csv(out / "cases.csv", bench.split("test"), results["predictions"], results["positions"],
                                 results["sample"].get("indices", ()))
    _print_table(document)
    console.print(f"wrote {metrics_path}, {cases_path} and {report_path}", highlight=False)


def _print_table(document: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="judge benchmark (test split)")
    for column in ("method", "n", "accuracy", "balanced acc.", "AUC", "uncertain"):
        table.add_column(column)
    for name, m in document["methods"].items():
        auc = "-" if m["auc"] != m["auc"] else f"{m['auc']:.3f}"
        table.add_row(name, str(m["n"]), f"{m['accuracy']:.3f}", f"{m['balanced_accuracy']:.3f}", auc, f"{m['uncertain_rate']:.2f}")
    stdout.print(table)
    if document.get("sample"):
        sample = Table(title=f"the same methods on the LLM sample ({document['sample']['how']}, n = {document['sample']['n']})")
        for column in ("method", "n", "accuracy", "balanced acc.", "AUC", "uncertain"):
            sample.add_column(column)
        for name, m in document["sample"]["methods"].items():
            auc = "-" if m["auc"] != m["auc"] else f"{m['auc']:.3f}"
            sample.add_row(name, str(m["n"]), f"{m['accuracy']:.3f}", f"{m['balanced_accuracy']:.3f}", auc, f"{m['uncertain_rate']:.2f}")
        stdout.print(sample)
    for name, reason in document["skipped"].items():
        stdout.print(f"{name}: skipped - {reason}")
    calibration = document.get("calibration") or {}
    if calibration:
        stdout.print(f"learned QC threshold {calibration['threshold']:g} (chosen by {calibration['folds']}-fold cross-validation "
                     "by phantom on the train split)")
    ensemble = document.get("ensemble") or {}
    if ensemble:
        stdout.print(f"ensemble: {ensemble['rule']}; the LLM judged {ensemble['n_llm']} of {ensemble['n']} cases", highlight=False)
    timing = document["timing"]
    stdout.print(f"judge overhead without LLM latency: {timing['judge_overhead_ms_mean']:.1f} ms per case")


def register(app: typer.Typer) -> None:
    """Attach ``judge`` and ``judge-bench`` to the root app."""
    app.command("judge", help=JUDGE_HELP)(judge)
    app.command("judge-bench", help="Build the segmentation-QA benchmark from phantom ground truth and score rules, descriptors+xgboost and (with an endpoint) the LLM chain; writes DIR/metrics.json and DIR/report.html.")(judge_bench)
