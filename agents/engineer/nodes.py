"""Nodes and routing functions of the feature-engineer graph (wiring is in ``graph.py``).

Every node is a function of (state, runtime) returning a partial update; the LLM client, the run
log and the settings come from ``runtime.context`` (:class:`EngineerContext`). Heavy modules
(sandbox battery, criterion tests, library, XGBoost) are imported inside the nodes that need them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Send

from agents.engineer.codeblock import first_python_block, parse_plan
from agents.engineer.runlog import format_chat
from agents.engineer.state import EngineerContext, EngineerState, PlanTask, SpecState
from agents.llm import LLMBudgetExceeded, LLMTruncated
from scafe.errors import CriteriaError, LLMError, ScafeError

Ctx = Runtime[EngineerContext]


def _criteria(path: str) -> Any:
    from scafe.criteria import load_criteria

    return load_criteria(Path(path))


def result_key(item_id: str, spec_name: str | None = None) -> str:
    """Key of a result in ``state["results"]``."""
    return f"{item_id}/{spec_name}" if spec_name else item_id


def result_record(item_id: str, spec: dict[str, Any] | None, outcome: str, **fields: Any) -> dict[str, Any]:
    """One row of the final table (JSON-able). ``outcome``: accepted, rejected, plan_failed,
    unobservable, budget, llm_error."""
    base = {"item": item_id, "spec": spec.get("name") if spec else None,
            "output_key": spec.get("output_key") if spec else None, "outcome": outcome, "attempts": 0,
            "reason": None, "rho": None, "delta_auc": None, "delta_auc_ci": None, "redundancy": None,
            "name": None, "version": None, "activated": False, "tokens": 0}  # fmt: skip
    base.update(fields)
    return base


# ------------------------------------------------------------------------------------ run level


def load_criteria(state: EngineerState, runtime: Ctx) -> dict[str, Any]:
    """Check the requested items; unobservable ones are recorded and not planned."""
    criteria = _criteria(state["criteria_path"])
    known = {item.id: item for item in criteria.items}
    requested = state.get("items") or [i.id for i in criteria.items if i.observable_in_photo]
    unknown = [i for i in requested if i not in known]
    if unknown:
        raise CriteriaError(f"scale {criteria.scale!r} has no item(s) {unknown}; items are: {', '.join(known)}")
    results = {}
    for item_id in requested:
        if not known[item_id].observable_in_photo:
            reason = f"not observable in a photograph: {known[item_id].unobservable_reason}"
            results[result_key(item_id)] = result_record(item_id, None, "unobservable", reason=reason)
    runtime.context.notify("criteria_loaded", scale=criteria.scale, items=requested)
    return {"items": requested, "results": results}


def route_plans(state: EngineerState) -> list[Send] | Literal["dispatch"]:
    """Fan out one ``plan_item`` per observable requested item."""
    done = state.get("results", {})
    sends = [Send("plan_item", PlanTask(criteria_path=state["criteria_path"], item_id=item_id))
             for item_id in state["items"] if result_key(item_id) not in done]  # fmt: skip
    return sends or "dispatch"


def plan_item(state: PlanTask, runtime: Ctx) -> dict[str, Any]:
    """Ask for 1–3 feature specs; retry unparseable replies with the parse error (bounded)."""
    from scafe import prompting

    ctx = runtime.context
    criteria = _criteria(state["criteria_path"])
    item = criteria.item(state["item_id"])
    chat = prompting.messages("plan", item=item, criteria=criteria)
    tokens = 0
    problem = ""
    for attempt in range(1, ctx.plan_attempts + 1):
        suffix = "" if attempt == 1 else f".{attempt}"
        ctx.run.write(f"{item.id}/plan{suffix}.prompt.md", format_chat(chat))
        try:
            reply = ctx.llm.chat(chat)
        except LLMTruncated as exc:
            problem = str(exc)
            if exc.reply is not None:
                ctx.run.write(f"{item.id}/plan{suffix}.reply.md", exc.reply.text)
            continue
        except LLMError as exc:
            outcome = "budget" if isinstance(exc, LLMBudgetExceeded) else "llm_error"
            ctx.notify("plan_failed", item=item.id, reason=str(exc))
            return {"results": {result_key(item.id): result_record(item.id, None, outcome, reason=str(exc), tokens=tokens)}}
        tokens += reply.prompt_tokens + reply.completion_tokens
        ctx.run.write(f"{item.id}/plan{suffix}.reply.md", reply.text)
        specs, problem = parse_plan(reply.text)
        if specs is not None:
            plan = [{**s.model_dump(), "plan_tokens": tokens} for s in specs]
            ctx.run.write_json(f"{item.id}/plan.json", plan)
            ctx.notify("planned", item=item.id, specs=[s.name for s in specs])
            return {"plans": {item.id: plan}}
        # show the model its own reply and what was wrong with it, then ask again
        chat = [*chat[:2], {"role": "assistant", "content": reply.text},
                {"role": "user", "content": f"That reply could not be used: {problem}. Answer again with the JSON object only."}]  # fmt: skip
    reason = f"no usable plan after {ctx.plan_attempts} attempts: {problem}"
    ctx.notify("plan_failed", item=item.id, reason=reason)
    return {"results": {result_key(item.id): result_record(item.id, None, "plan_failed", reason=reason, tokens=tokens)}}


def dispatch(state: EngineerState, runtime: Ctx) -> dict[str, Any]:
    """Barrier after planning (all plans are in before specs fan out)."""
    total = sum(len(v) for v in state.get("plans", {}).values())
    runtime.context.notify("dispatch", specs=total)
    return {}


def route_specs(state: EngineerState) -> list[Send] | Literal["finish"]:
    """Fan out one ``develop`` subgraph per planned spec not already finished."""
    done = state.get("results", {})
    sends = []
    for item_id, specs in state.get("plans", {}).items():
        for spec in specs:
            if result_key(item_id, spec["name"]) in done:
                continue
            sends.append(Send("develop", SpecState(
                criteria_file=state["criteria_path"], item_id=item_id, spec=spec,
                plan_tokens=int(spec.get("plan_tokens", 0)), attempt=0, code=None, failure=None, stop=None)))  # fmt: skip
    return sends or "finish"


def finish(state: EngineerState, runtime: Ctx) -> dict[str, Any]:
    """End of the run (the summary is written by ``agents.engineer.run``)."""
    runtime.context.notify("finished", results=len(state.get("results", {})))
    return {}


# ----------------------------------------------------------------------------------- spec level


def _ask_for_code(state: SpecState, runtime: Ctx, stage: Literal["write", "repair"]) -> dict[str, Any]:
    from scafe import prompting

    ctx = runtime.context
    criteria = _criteria(state["criteria_file"])
    item = criteria.item(state["item_id"])
    spec = state["spec"]
    attempt = state.get("attempt", 0) + 1
    extra: dict[str, Any] = {"spec": spec}
    if stage == "repair":
        extra.update(previous_code=state.get("code"), failure=state.get("failure") or "", attempt=attempt - 1,
                     history=history_lines(state.get("history", []), before=attempt - 1),
                     advice=_advice(state, item))
    chat = prompting.messages(stage, item=item, criteria=criteria, **extra)
    where = f"{item.id}/{spec['name']}/attempt{attempt}"
    ctx.run.write(f"{where}.prompt.md", format_chat(chat))
    update: dict[str, Any] = {"attempt": attempt, "max_attempts": ctx.attempts}
    if stage == "write":
        update["prompt_sha256"] = prompting.prompt_sha256(chat)
    ctx.notify("asking", item=item.id, spec=spec["name"], attempt=attempt, stage=stage)
    try:
        reply = ctx.llm.chat(chat)
    except LLMTruncated as exc:
        if exc.reply is not None:
            ctx.run.write(f"{where}.reply.md", exc.reply.text)
        tokens = (exc.reply.prompt_tokens + exc.reply.completion_tokens) if exc.reply else 0
        failure = ("Your reply was cut off at the token limit before the code block ended, so it was discarded. "
                   "Write a shorter module: fewer comments, no alternatives, one ```python block.")  # fmt: skip
        return {**update, "code": None, "failure": failure, "failure_kind": "truncated", "tokens": tokens,
                "history": [{"attempt": attempt, "stage": stage, "outcome": "truncated"}]}
    except LLMError as exc:
        kind = "budget" if isinstance(exc, LLMBudgetExceeded) else "llm_error"
        return {**update, "stop": str(exc), "failure_kind": kind,
                "history": [{"attempt": attempt, "stage": stage, "outcome": kind, "reason": str(exc)}]}
    ctx.run.write(f"{where}.reply.md", reply.text)
    tokens = reply.prompt_tokens + reply.completion_tokens
    code = first_python_block(reply.text)
    if code is None:
        failure = ("Your reply contained no ```python fenced code block, so there was nothing to run. "
                   "Reply with the complete module inside one ```python block.")  # fmt: skip
        return {**update, "code": None, "failure": failure, "failure_kind": "no_code", "tokens": tokens,
                "history": [{"attempt": attempt, "stage": stage, "outcome": "no_code"}]}
    ctx.run.write(f"{where}.code.py", code)
    return {**update, "code": code, "failure": None, "failure_kind": "", "tokens": tokens}


_OUTCOME_WORDS = {"criterion": "criterion tests failed", "contract": "contract battery failed", "passed": "passed"}


def history_lines(history: list[dict[str, Any]], *, before: int) -> list[str]:
    """One line of figures per validated attempt before ``before`` (the repair prompt's history)."""
    lines = []
    for record in history:
        if record.get("stage") != "validate" or record.get("attempt", 0) >= before:
            continue
        figures = record.get("figures") or {}
        outcome = _OUTCOME_WORDS.get(str(record.get("outcome")), str(record.get("outcome")))
        parts = [f"attempt {record['attempt']}: {outcome}"]
        for family, fig in figures.items():
            if not isinstance(fig, dict):
                continue
            rho = fig.get("rho")
            text = f"family {family}: rho {rho:+.2f}" if rho is not None else f"family {family}: no rho"
            if fig.get("failed"):
                text += " (failed: " + ", ".join(fig["failed"]) + ")"
            parts.append(text)
        if record.get("contract_failure"):
            parts.append(f"contract check failed: {record['contract_failure']}")
        lines.append("; ".join(parts))
    return lines[-4:]


def _advice(state: SpecState, item: Any) -> list[str]:
    """Advice for the last failure, keyed to the failing checks and to what the code does."""
    if state.get("failure_kind") != "criterion" or not state.get("criterion"):
        return []
    from scafe.criterion_tests.advice import advice_for

    return advice_for(state["criterion"], state.get("code"), item)


def write_code(state: SpecState, runtime: Ctx) -> dict[str, Any]:
    """First attempt: the write prompt for this spec."""
    return _ask_for_code(state, runtime, "write")


def repair_code(state: SpecState, runtime: Ctx) -> dict[str, Any]:
    """Later attempts: the repair prompt with the exact failure and the previous code."""
    return _ask_for_code(state, runtime, "repair")


def validate_code(state: SpecState, runtime: Ctx) -> dict[str, Any]:
    """Contract battery in the sandbox, then the criterion tests (cheap first)."""
    import sandbox
    from scafe.criterion_tests import run_criterion_tests

    code = state.get("code")
    if state.get("stop") or code is None:
        return {}  # nothing to validate: the failure (no code / truncated) is already set
    ctx = runtime.context
    spec, attempt = state["spec"], state["attempt"]
    where = f"{state['item_id']}/{spec['name']}/attempt{attempt}"
    started = time.perf_counter()
    report = sandbox.validate(code)
    contract = report.to_dict()
    record: dict[str, Any] = {"attempt": attempt, "contract": contract,
                              "contract_seconds": round(time.perf_counter() - started, 3)}  # fmt: skip
    update: dict[str, Any] = {"contract": contract, "criterion": None}
    figures: dict[str, Any] = {}
    if not report.ok:
        update.update(failure=report.repair_text(), failure_kind="contract")
    else:
        key = spec["output_key"] if spec["output_key"] in report.keys else None
        if key is None and len(report.keys) == 1:
            key = report.keys[0]  # the only output is the main one whatever its name
        if key is None:
            update.update(failure_kind="contract", failure=(
                f"check: main output key\nexpected: the returned dict contains {spec['output_key']!r}\n"
                f"got: keys {report.keys}\nReturn the main value under {spec['output_key']!r}."))  # fmt: skip
        else:
            item = _criteria(state["criteria_file"]).item(state["item_id"])
            criterion = run_criterion_tests(code, item, output_key=key)
            figures = criterion.figures()
            update["criterion"] = criterion.to_dict()
            update["output_key"] = key
            record["criterion"] = update["criterion"]
            if criterion.passed:
                update.update(failure=None, failure_kind="")
            else:
                update.update(failure=criterion.repair_text(), failure_kind="criterion")
    outcome = "passed" if update.get("failure") is None else update["failure_kind"]
    record.update(outcome=outcome, failure=update.get("failure"), seconds=round(time.perf_counter() - started, 3))
    ctx.run.write_json(f"{where}.report.json", record)
    ctx.notify("validated", item=state["item_id"], spec=spec["name"], attempt=attempt, outcome=outcome)
    step: dict[str, Any] = {"attempt": attempt, "stage": "validate", "outcome": outcome}
    if update.get("criterion"):
        step["figures"] = figures
    elif outcome == "contract":
        step["contract_failure"] = (update.get("failure") or "").splitlines()[0][:160]
    return {**update, "history": [step]}


def route_validation(state: SpecState) -> Literal["evaluate", "repair", "give_up"]:
    """Accepted → evaluate; failed with attempts left → repair; otherwise give up."""
    if state.get("stop"):
        return "give_up"
    if state.get("failure") is None and state.get("code") is not None:
        return "evaluate"
    return "repair" if state.get("attempt", 0) < state.get("max_attempts", 3) else "give_up"


def _library(state: SpecState, runtime: Ctx) -> Any:
    from scafe.library import Library

    return Library.open(runtime.context.library_dir, criteria_dir=Path(state["criteria_file"]).parent)


def evaluate(state: SpecState, runtime: Ctx) -> dict[str, Any]:
    """Usefulness on training phantoms: ΔAUC with CI over the active library, redundancy."""
    from agents.engineer.usefulness import evaluate_usefulness

    ctx = runtime.context
    if ctx.usefulness is None:
        return {"usefulness": {"skipped": "usefulness not computed (--no-usefulness)"}}
    code, key = state.get("code"), state.get("output_key")
    if code is None or key is None:  # route_validation sends only accepted code here
        raise ScafeError("evaluate reached without accepted code; this is a bug in the engineer graph")
    try:
        scores = evaluate_usefulness(code, key, _library(state, runtime), ctx.usefulness, name=state["spec"]["name"])
    except ScafeError as exc:  # reported, never a reason to reject
        scores = {"error": str(exc)}
    ctx.run.write_json(f"{state['item_id']}/{state['spec']['name']}/usefulness.json", scores)
    ctx.notify("evaluated", item=state["item_id"], spec=state["spec"]["name"], delta_auc=scores.get("delta_auc"))
    return {"usefulness": scores}


def _extractor_name(library: Any, scale: str, item_id: str, name: str) -> str:
    """The spec name, unless the library already uses it for another criterion."""
    for entry in library.entries():
        if entry.name == name and (entry.criterion.scale, entry.criterion.item) != (scale, item_id):
            return f"{item_id}_{name}"[:60]
    return name


def register(state: SpecState, runtime: Ctx) -> dict[str, Any]:
    """Register the accepted code as a new ``generated`` version with full provenance."""
    from scafe.errors import LibraryError

    ctx = runtime.context
    criteria = _criteria(state["criteria_file"])
    spec = state["spec"]
    library = _library(state, runtime)
    name = _extractor_name(library, criteria.scale, state["item_id"], spec["name"])
    tokens = int(state.get("tokens", 0))
    generator = {**ctx.llm.provenance(), "prompt_sha256": state.get("prompt_sha256", ""), "run_id": ctx.run.run_id,
                 "attempts": state["attempt"], "tokens": tokens + int(state.get("plan_tokens", 0)), "spec": spec}  # fmt: skip
    criterion = {**(state.get("criterion") or {}), "output_key": state["output_key"]}
    validation = {"contract": state["contract"], "criterion": criterion, "usefulness": state.get("usefulness")}
    note = None
    try:
        entry = library.register(state["code"], name=name, criterion=f"{criteria.scale}/{state['item_id']}",
                                 origin="generated", generator=generator, validation=validation, activate=ctx.activate)  # fmt: skip
    except LibraryError as exc:
        if not ctx.activate:
            raise
        note = f"registered but not activated: {exc}"  # e.g. an output key already active elsewhere
        entry = library.register(state["code"], name=name, criterion=f"{criteria.scale}/{state['item_id']}",
                                 origin="generated", generator=generator, validation=validation, activate=False)  # fmt: skip
    usefulness = state.get("usefulness") or {}
    record = result_record(
        state["item_id"], spec, "accepted", attempts=state["attempt"], rho=criterion.get("rho"),
        delta_auc=usefulness.get("delta_auc"), delta_auc_ci=usefulness.get("delta_auc_ci"),
        redundancy=usefulness.get("redundancy_max_abs_rho"), name=entry.name, version=entry.version,
        activated=entry.status == "active", tokens=tokens, reason=note, output_key=state["output_key"])  # fmt: skip
    ctx.notify("registered", item=state["item_id"], spec=spec["name"], name=entry.name, version=entry.version)
    return {"results": {result_key(state["item_id"], spec["name"]): record}}


def give_up(state: SpecState, runtime: Ctx) -> dict[str, Any]:
    """Record why this spec produced no extractor (the last failure report)."""
    kind = state.get("failure_kind") or "rejected"
    outcome = kind if kind in ("budget", "llm_error") else "rejected"
    reason = state.get("stop") or state.get("failure") or "no attempt made"
    spec = state["spec"]
    criterion = state.get("criterion") or {}
    record = result_record(state["item_id"], spec, outcome, attempts=state.get("attempt", 0), reason=reason,
                           rho=criterion.get("rho"), tokens=int(state.get("tokens", 0)), last_check=kind)  # fmt: skip
    runtime.context.run.write(f"{state['item_id']}/{spec['name']}/gave_up.md", reason + "\n")
    runtime.context.notify("gave_up", item=state["item_id"], spec=spec["name"], outcome=outcome, reason=reason[:200])
    return {"results": {result_key(state["item_id"], spec["name"]): record}}

