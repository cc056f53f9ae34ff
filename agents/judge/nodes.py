"""Nodes of the judge chain: one per HCR stage, plus the routing between them.

Each stage node renders its own template (``prompts/templates/judge_<stage>.j2``, Jinja2 with
``StrictUndefined``), with every earlier stage's validated output embedded as JSON, calls the LLM,
extracts one JSON object from the reply and validates it against the stage's pydantic schema.
An invalid reply is answered with ``judge_retry.j2`` (the validation error) in the same
conversation, up to ``max_attempts`` calls per stage.

Failure policy (documented in the CLI help too): nothing is ever guessed.

* a stage whose replies are still invalid after ``max_attempts`` -> the judgement ends as
  ``uncertain`` with the stage and the last validation error as the reason;
* a truncated reply (``LLMTruncated``) counts as an invalid attempt;
* an endpoint failure after the client's own retries (timeouts, HTTP 5xx, connection refused,
  budget spent: any ``LLMError``) -> ``uncertain`` at once, with the client's message as reason.

Configuration problems (no endpoint, no model) are raised *before* the graph runs, as
``ConfigError``, so the CLI exits 2 with setup help instead of returning ``uncertain``.
"""

from __future__ import annotations

import json
import math
import re
import threading
from typing import Any, Literal

import jinja2
from langgraph.runtime import Runtime
from pydantic import ValidationError

from agents.judge.state import SCHEMAS, STAGES, JudgeContext, JudgeState
from scafe.judge.rules import json_safe
from scafe.prompting import template_environment

Ctx = Runtime[JudgeContext]
VISION_STAGES = ("visual_feature_analysis", "anatomical_inference")  # stages that see the images with --vision
_RECALL_LOCK = threading.Lock()
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def render(templates_dir: str, name: str, **context: Any) -> str:
    """Render ``judge_<name>.j2``; a missing template or variable raises ``CriteriaError``."""
    from scafe.errors import CriteriaError

    try:
        return template_environment(templates_dir).get_template(f"judge_{name}.j2").render(**context)
    except jinja2.TemplateNotFound as exc:
        raise CriteriaError(
            f"The judge template judge_{name}.j2 is missing from {templates_dir}; restore it from git."
        ) from exc
    except jinja2.UndefinedError as exc:
        raise CriteriaError(f"The judge template judge_{name}.j2 uses an undefined variable: {exc}.") from exc


def as_json(value: Any) -> str:
    """Compact JSON for prompts (unicode kept readable, NaN written as null)."""
    return json.dumps(finite(value), ensure_ascii=False)


finite = json_safe  # NaN -> None, recursively (JSON has no NaN)


def extract_json(text: str) -> dict[str, Any]:
    """The single JSON object in a reply: the whole text, a fenced block, or the outermost braces.

    Raises
    ------
    ValueError
        With a message fit to show the model in the retry prompt.
    """
    candidates = [text.strip()]
    candidates += [m.strip() for m in _FENCE.findall(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    last = "the reply is empty" if not text.strip() else "no JSON object found"
    for candidate in candidates:
        if not candidate:
            continue
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError as exc:
            last = f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            continue
        if isinstance(value, dict):
            return value
        last = f"expected a JSON object, got {type(value).__name__}"
    raise ValueError(last)


def _prompt_context(state: JudgeState, ctx: JudgeContext) -> dict[str, Any]:
    from scafe.judge.glossary import glossary_rows

    descriptors = {k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else "undefined")
                   for k, v in state["descriptors"].items()}
    return {
        "target": ctx.target,
        "descriptors": descriptors,
        "glossary": glossary_rows(state["descriptors"], ctx.reference),
        "reference_source": ctx.reference.get("source", ""),
        "view": ctx.view,
        "rule_findings": state.get("rule_findings", []),
        "vision": bool(ctx.images),
        **{stage: as_json(state.get(stage)) for stage in STAGES if stage in state},
    }


def run_stage(stage: str, state: JudgeState, ctx: JudgeContext) -> dict[str, Any]:
    """Ask for one stage with bounded retries; return the partial state update."""
    from agents.llm import LLMTruncated
    from scafe.errors import LLMError

    schema = SCHEMAS[stage]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": render(ctx.templates_dir, "system", target=ctx.target)},
        {"role": "user", "content": render(ctx.templates_dir, stage, **_prompt_context(state, ctx))},
    ]
    images = ctx.images if stage in VISION_STAGES else None
    attempts: list[dict[str, Any]] = []
    error = ""
    for attempt in range(1, ctx.max_attempts + 1):
        try:
            reply = ctx.client.chat(messages, images=images if attempt == 1 else None)
            text = reply.text
            if ctx.progress is not None:
                ctx.progress(stage, attempt)
        except LLMTruncated as exc:
            text = exc.reply.text if exc.reply is not None else ""
            error = "the reply was cut at the token limit; answer with a shorter JSON object"
        except LLMError as exc:
            attempts.append({"stage": stage, "attempt": attempt, "ok": False, "error": str(exc)})
            return {"failed_stage": stage, "failure_reason": f"{stage}: the LLM endpoint failed: {exc}",
                    "attempts": attempts}
        else:
            try:
                parsed = schema.model_validate(extract_json(text))
            except ValueError as exc:  # ValidationError is a ValueError too
                error = _short_error(exc)
            else:
                attempts.append({"stage": stage, "attempt": attempt, "ok": True, "error": ""})
                return {stage: parsed.model_dump(), "attempts": attempts}
        attempts.append({"stage": stage, "attempt": attempt, "ok": False, "error": error})
        if attempt == 1 and images:
            # Retries go without images: keep the first user turn's text only, to save tokens.
            messages[1] = {"role": "user", "content": messages[1]["content"]}
        messages += [
            {"role": "assistant", "content": text},
            {"role": "user", "content": render(ctx.templates_dir, "retry", error=error)},
        ]
    return {
        "failed_stage": stage,
        "failure_reason": f"{stage}: no valid reply after {ctx.max_attempts} attempts (last: {error})",
        "attempts": attempts,
    }


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}" for e in exc.errors()[:5]]
        return "schema mismatch - " + "; ".join(parts)
    return str(exc)


def knowledge_recall(state: JudgeState, runtime: Ctx) -> dict[str, Any]:
    """Stage 1: what a correct mask looks like (from the target file); asked once per run and target.

    The stage-1 prompt holds nothing case-specific, so with a ``recall_cache`` its validated reply
    is keyed by model, system prompt and stage-1 prompt and reused for every later case.
    """
    ctx = runtime.context
    if ctx.recall_cache is None:
        return run_stage("knowledge_recall", state, ctx)
    key = json.dumps([
        ctx.client.config.model,
        render(ctx.templates_dir, "system", target=ctx.target),
        render(ctx.templates_dir, "knowledge_recall", **_prompt_context(state, ctx)),
    ])
    with _RECALL_LOCK:  # concurrent judgements: the first asks, the others wait for its reply
        if key in ctx.recall_cache:
            return {"knowledge_recall": ctx.recall_cache[key],
                    "attempts": [{"stage": "knowledge_recall", "attempt": 0, "ok": True, "error": "", "cached": True}]}
        update = run_stage("knowledge_recall", state, ctx)
        if "knowledge_recall" in update:
            ctx.recall_cache[key] = update["knowledge_recall"]
        return update


def visual_feature_analysis(state: JudgeState, runtime: Ctx) -> dict[str, Any]:
    """Stage 2: descriptors and rule findings (and, with --vision, the images)."""
    return run_stage("visual_feature_analysis", state, runtime.context)


def anatomical_inference(state: JudgeState, runtime: Ctx) -> dict[str, Any]:
    """Stage 3: what the mask covers, which failure modes explain it."""
    return run_stage("anatomical_inference", state, runtime.context)


def clinical_synthesis(state: JudgeState, runtime: Ctx) -> dict[str, Any]:
    """Stage 4: the verdict."""
    return run_stage("clinical_synthesis", state, runtime.context)


def route_after_recall(state: JudgeState) -> Literal["visual_feature_analysis", "__end__"]:
    """Continue unless stage 1 failed."""
    return "__end__" if "failed_stage" in state else "visual_feature_analysis"


def route_after_analysis(state: JudgeState) -> Literal["anatomical_inference", "__end__"]:
    """Continue unless stage 2 failed."""
    return "__end__" if "failed_stage" in state else "anatomical_inference"


def route_after_inference(state: JudgeState) -> Literal["clinical_synthesis", "__end__"]:
    """Continue unless stage 3 failed."""
    return "__end__" if "failed_stage" in state else "clinical_synthesis"
