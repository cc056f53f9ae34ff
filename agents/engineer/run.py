"""Run the feature-engineer graph end to end: new run or ``--resume``, then write the summary.

This is what ``scafe generate`` and ``benchmarks/engineer.py`` call. A run lives in
``<runs_dir>/<run_id>/`` (see ``runlog.py``); its LangGraph checkpoints are in
``checkpoint.sqlite`` there, so a crashed run continues with :func:`generate` ``(resume=run_id)``
without redoing finished items (accepted specs are never asked for again).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agents.engineer.runlog import RunLog, check_run_id, new_run_id
from agents.engineer.state import EngineerContext
from agents.engineer.usefulness import UsefulnessSettings
from agents.llm import LLMClient
from agents.redaction import redact_url
from scafe.errors import UsageError

OUTCOME_ORDER = ("accepted", "rejected", "plan_failed", "budget", "llm_error", "unobservable")


@dataclass
class RunOptions:
    """What one generation run does (stored in ``run.json`` for ``--resume``)."""

    criteria_path: Path
    items: list[str] = field(default_factory=list)
    library_dir: Path | None = None
    attempts: int = 3
    plan_attempts: int = 2
    activate: bool = False
    usefulness: UsefulnessSettings | None = field(default_factory=UsefulnessSettings)

    def to_json(self) -> dict[str, Any]:
        """JSON-able form."""
        data = asdict(self)
        data["criteria_path"] = str(self.criteria_path)
        data["library_dir"] = str(self.library_dir) if self.library_dir else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunOptions:
        """Inverse of :meth:`to_json`."""
        useful = data.get("usefulness")
        return cls(
            criteria_path=Path(data["criteria_path"]), items=list(data.get("items") or []),
            library_dir=Path(data["library_dir"]) if data.get("library_dir") else None,
            attempts=int(data.get("attempts", 3)), plan_attempts=int(data.get("plan_attempts", 2)),
            activate=bool(data.get("activate", False)),
            usefulness=UsefulnessSettings(**useful) if useful else None,
        )  # fmt: skip


@dataclass
class RunSummary:
    """Outcome of a run: ``rows`` in table order and the exit code (0 all items accepted, 3 some not)."""

    run_id: str
    directory: Path
    rows: list[dict[str, Any]]
    items: list[str]
    missing_items: list[str]
    usage: dict[str, Any]
    seconds: float
    to_activate: list[str]

    @property
    def exit_code(self) -> int:
        """0 when every requested item has an accepted extractor, else 3."""
        return 0 if not self.missing_items else 3


def _summarize(run: RunLog, options: RunOptions, state: dict[str, Any], llm: LLMClient, seconds: float,
               resumed: bool) -> RunSummary:
    results = state.get("results", {})
    items = list(state.get("items") or options.items)
    order = {item: i for i, item in enumerate(items)}
    rows = sorted(results.values(), key=lambda r: (order.get(r["item"], 99), r.get("spec") or ""))
    accepted_items = {r["item"] for r in rows if r["outcome"] == "accepted"}
    missing = [i for i in items if i not in accepted_items]
    lib_flag = f" --library {options.library_dir}" if options.library_dir else ""
    to_activate = [f"scafe library activate {r['name']}@v{r['version']}{lib_flag}"
                   for r in rows if r["outcome"] == "accepted" and not r["activated"]]  # fmt: skip
    usage = llm.usage.to_dict()
    summary = RunSummary(run.run_id, run.directory, rows, items, missing, usage, seconds, to_activate)
    run.write_json("summary.json", {
        "run_id": run.run_id, "criteria": str(options.criteria_path), "items": items, "missing_items": missing,
        "exit_code": summary.exit_code, "results": rows, "to_activate": to_activate, "llm": llm.provenance(),
        "usage_this_invocation": usage, "resumed": resumed, "wall_seconds": round(seconds, 3),
        "overhead_seconds": round(max(0.0, seconds - usage["llm_seconds"]), 3),
    })  # fmt: skip
    run.write("summary.md", summary_markdown(summary))
    return summary


def _fmt(value: Any, spec: str = "+.2f") -> str:
    return "-" if value is None else format(value, spec)


def summary_markdown(summary: RunSummary) -> str:
    """The summary table as Markdown (also what ``summary.md`` holds)."""
    lines = [f"# scafe generate run {summary.run_id}", "",
             "| item | spec | attempts | outcome | rho | dAUC [95% CI] | version |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in summary.rows:
        ci = r.get("delta_auc_ci")
        dauc = _fmt(r.get("delta_auc"), "+.3f") + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")
        version = f"{r['name']}@v{r['version']}" + (" (active)" if r.get("activated") else "") if r.get("version") else "-"
        lines.append(f"| {r['item']} | {r.get('spec') or '-'} | {r['attempts']} | {r['outcome']} | "
                     f"{_fmt(r.get('rho'))} | {dauc} | {version} |")  # fmt: skip
    lines.append("")
    if summary.missing_items:
        lines.append(f"Items without an accepted extractor: {', '.join(summary.missing_items)}")
        for r in summary.rows:
            if r["item"] in summary.missing_items and r.get("reason"):
                reason = " ".join(line.strip() for line in r["reason"].splitlines()[:2])  # headline + first failure
                lines.append(f"- {r['item']}/{r.get('spec') or '-'}: {reason[:400]}")
    if summary.to_activate:
        lines += ["", "New versions are registered inactive. To use them:"]
        lines += [f"    {command}" for command in summary.to_activate]
    u = summary.usage
    lines += ["", f"LLM calls {u['calls']} ({u['replayed']} replayed, {u['retries']} retries), "
              f"tokens {u['total_tokens']}, wall {summary.seconds:.1f} s."]  # fmt: skip
    return "\n".join(lines) + "\n"


def generate(
    options: RunOptions | None,
    llm: LLMClient,
    *,
    runs_dir: Path,
    resume: str | None = None,
    run_id: str | None = None,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
) -> RunSummary:
    """Run (or resume) the engineer graph and write ``summary.json``/``summary.md``.

    Parameters
    ----------
    options : RunOptions or None
        Required for a new run; ignored (read from ``run.json``) when ``resume`` is given.
    llm : LLMClient
        The client to use (for a resume, usually configured like the original run).
    runs_dir : Path
        Parent of the run directories (``<project root>/runs`` by default in the CLI).
    resume : str, optional
        Run id to continue.
    run_id : str, optional
        Id for a new run (default: timestamp + random suffix).
    progress : callable, optional
        ``progress(event, fields)`` callback.
    """
    from langgraph.checkpoint.sqlite import SqliteSaver

    from agents.engineer.graph import build_graph

    if resume:
        run = RunLog.existing(runs_dir, resume)
        if not (run.directory / "checkpoint.sqlite").is_file():
            raise UsageError(
                f"Run {resume!r} has no checkpoint (it stopped before its first step was saved), so there is "
                "nothing to resume; start a new run with the same options (see its run.json)."
            )
        try:
            options = RunOptions.from_json(run.read_json("run.json")["options"])
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"run.json of run {resume!r} is unreadable ({type(exc).__name__}: {exc}); "
                             "start a new run instead.") from None
    else:
        if options is None:
            raise UsageError("generate() needs RunOptions for a new run (or resume=RUN_ID).")
        if run_id is not None:
            check_run_id(run_id)
        run = RunLog(Path(runs_dir) / (run_id or new_run_id()))
        if (run.directory / "checkpoint.sqlite").exists():
            raise UsageError(f"Run {run.run_id!r} already exists; use --resume {run.run_id} to continue it.")
        run.write_json("run.json", {"options": options.to_json(), "llm": llm.provenance(),
                                    "base_url": redact_url(llm.config.base_url), "created": time.time()})  # fmt: skip
    context = EngineerContext(
        llm=llm, run=run, library_dir=options.library_dir, attempts=options.attempts,
        plan_attempts=options.plan_attempts, activate=options.activate, usefulness=options.usefulness,
        progress=progress,
    )  # fmt: skip
    config = {"configurable": {"thread_id": run.run_id}, "max_concurrency": llm.config.concurrency,
              "recursion_limit": 50 + 10 * options.attempts}  # fmt: skip
    started = time.perf_counter()
    connection = sqlite3.connect(run.directory / "checkpoint.sqlite", check_same_thread=False)
    try:
        graph = build_graph(SqliteSaver(connection))
        if resume:
            snapshot = graph.get_state(config)
            if snapshot.values and not snapshot.next:
                state = dict(snapshot.values)  # the run had finished: nothing left to do
            else:
                context.notify("resumed", pending=list(snapshot.next))
                state = graph.invoke(None, config, context=context, durability="sync")
        else:
            initial = {"criteria_path": str(Path(options.criteria_path).resolve()), "items": list(options.items)}
            state = graph.invoke(initial, config, context=context, durability="sync")
    finally:
        connection.close()
    return _summarize(run, options, state, llm, time.perf_counter() - started, bool(resume))
