"""``scafe demo``: the README's first command (phantoms → library → every method → report)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from scafe.cli._common import console, emit, format_option, progress_bar, resolve_format, stdout


@contextmanager
def progress_factory() -> Iterator[Callable[[str, int], Callable[[], None]]]:
    """One rich progress display; each ``factory(description, total)`` adds a task and returns its advance."""
    with progress_bar() as bar:

        def factory(description: str, total: int) -> Callable[[], None]:
            task = bar.add_task(description, total=total)
            return lambda: bar.advance(task)

        yield factory


def llm_client_or_reason(use_llm: bool) -> tuple[object | None, str]:
    """An ``agents.llm.LLMClient`` from the environment, or ``None`` and why not (wiring layer only)."""
    if not use_llm:
        return None, "LLM methods disabled with --no-llm"
    from scafe.errors import ConfigError

    try:
        from agents.llm import LLMClient, LLMConfig

        return LLMClient(LLMConfig.from_env()), ""
    except ConfigError:
        from scafe.evaluation.methods import NO_ENDPOINT

        return None, NO_ENDPOINT
    except ImportError as exc:
        return None, f"the LLM client could not be imported ({exc})"


def summary_rows(run, n_focus: int = 50) -> tuple[list[dict], dict]:
    """Rows (method, n_train, balanced accuracy mean and 95% CI) and the JSON payload of the summary."""
    from scafe.evaluation.goals import check_goals

    rows = [{"method": method, "n_train": n, "balanced_accuracy": values[0], "ci_low": values[1], "ci_high": values[2]}
            for method, by_n in run.result.table("balanced_accuracy").items() for n, values in sorted(by_n.items())]
    goals = [{"goal": g.goal, "passed": g.passed, "margin": g.margin} for g in check_goals(run.metrics, n_focus)]
    payload = {"metric": "balanced_accuracy", "goal_n_train": n_focus, "results": rows,
               "skipped": list(run.result.skipped), "goals": goals}
    return rows, payload


def print_summary(run, n_focus: int = 50, fmt: str = "table") -> None:
    """The short results table printed at the end of demo/evaluate (``fmt``: table, csv or json)."""
    from rich.table import Table

    if fmt != "table":
        rows, payload = summary_rows(run, n_focus)
        emit(fmt, rows, payload=payload)
        return
    res = run.result
    sizes = res.sizes
    n_ci = n_focus if n_focus in sizes else (sizes[-1] if sizes else 0)
    table = Table(title="Balanced accuracy on the held-out test set (mean over repeats)", title_justify="left")
    table.add_column("method", style="bold", no_wrap=True)
    for n in sizes:
        table.add_column(f"n={n}", justify="right")
    table.add_column(f"95% CI at n={n_ci}", justify="right", no_wrap=True)
    for method, by_n in res.table("balanced_accuracy").items():
        cells = [f"{by_n[n][0]:.3f}" if n in by_n else "–" for n in sizes]
        point = n_ci if n_ci in by_n else (0 if 0 in by_n else None)
        ci = "–" if point is None else f"{by_n[point][1]:.2f}–{by_n[point][2]:.2f}"
        if point == 0:
            cells = [f"{by_n[0][0]:.3f}*" for _ in sizes]  # zero-shot: the same figure at every size
        table.add_row(method, *cells, ci, style="blue" if method == "library+xgboost" else None)
    from rich.markup import escape

    stdout.print(table)
    for s in res.skipped:
        stdout.print(f"[yellow]skipped[/yellow] {s['method']}: {escape(s['reason'])}", highlight=False)
    from scafe.evaluation.goals import check_goals

    for g in check_goals(run.metrics, n_focus):
        mark = {True: "[green]met[/green]", False: "[red]missed[/red]", None: "[yellow]not evaluated[/yellow]"}[g.passed]
        margin = "" if g.margin is None else f" (margin {g.margin:+.3f})"
        subject = "" if g.goal.startswith("nuisance-only") else "library+xgboost "
        stdout.print(f"goal at n={n_focus}: {subject}{escape(g.goal)}: {mark}{margin}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach ``scafe demo``."""

    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("scafe-demo"), "--out", "-o", help="Folder for report.html and metrics.json."),
        quick: bool = typer.Option(False, "--quick", help="Small run (120+120 phantoms at 192 px, sizes 20/50/100, "
                                   "3 repeats; ≤ 2 min on 2 cores) instead of the full one (400+400 at 256 px, "
                                   "sizes 20/50/100/200, 10 repeats; ≤ 10 min)."),
        profile: str = typer.Option("default", "--profile", help="Phantom profile: 'default' or 'hard'."),
        family: str = typer.Option("a", "--family", help="Phantom family: 'a' or 'b' (docs/PHANTOMS.md)."),
        use_llm: bool = typer.Option(True, "--llm/--no-llm", show_default=False,
                                     help="Run llm-image/llm-features when an endpoint is configured (OPENAI_BASE_URL, "
                                     "SCAFE_MODEL); otherwise they are skipped (default: --llm)."),
        fmt: str = format_option(),
    ) -> None:
        """Phantoms -> sandboxed extraction with the committed library -> every offline method -> DIR/report.html + DIR/metrics.json."""
        from dataclasses import replace

        from scafe.demo import DEFAULT, QUICK, check_config, run_demo

        fmt = resolve_format(fmt)
        config = replace(QUICK if quick else DEFAULT, profile=profile, family=family)
        check_config(config)  # unknown family/profile: exit 2 before anything is printed or rendered
        client, reason = llm_client_or_reason(use_llm)
        console.print(f"scafe demo: {'quick' if quick else 'full'} run, {config.n_pool} training-pool + "
                      f"{config.n_test} test phantoms (family {config.family}) at {config.size} px, profile {profile!r}",
                      highlight=False)
        with progress_factory() as factory:
            outcome = run_demo(out, config=config, llm_client=client, llm_unavailable=reason, progress=factory)
        print_summary(outcome.run, fmt=fmt)
        (stdout if fmt == "table" else console).print(  # stdout stays parseable with --format csv/json
            f"\nreport:  {outcome.report.resolve()}\nmetrics: {outcome.metrics.resolve()}\n"
            f"done in {outcome.seconds:.0f} s", highlight=False)
