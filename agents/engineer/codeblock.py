"""Pull code and JSON out of an LLM reply, and validate the plan stage's feature specs.

The reply is text; we never execute it here. The code of a write/repair reply is the *first*
fenced ``python`` block (```python or ```py; an untagged fence is accepted only if it defines
``extract``), so prose around it is ignored and a reply without code is a failure the repair prompt
explains. The plan reply is a JSON object ``{"features": [...]}``, optionally fenced.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_SNAKE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def first_python_block(text: str) -> str | None:
    """The first fenced Python block of ``text`` (without the fences), or ``None``.

    A block left open at the end of the reply is taken up to the end (a truncated reply is caught
    earlier by ``finish_reason``).
    """
    for match in _FENCE.finditer(text):
        language, body = match.group(1).lower(), match.group(2)
        if language in ("python", "py", "python3") or (language == "" and "def extract" in body):
            code = body.strip("\n")
            return code + "\n" if code.strip() else None
    return None


class FeatureSpec(BaseModel):
    """One measurable feature proposed by the plan stage (validated before any code is written)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    output_key: str
    measures: str = Field(min_length=5)
    formula: str = Field(min_length=3)
    units: str = ""
    expected_range: str = ""

    @field_validator("name", "output_key", mode="before")
    @classmethod
    def _snake(cls, value: Any) -> str:
        text = str(value).strip()
        if not _SNAKE.match(text):
            fixed = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:40] or "feature"
            raise ValueError(f"{text!r} must be lower snake_case, at most 40 characters, e.g. {fixed!r}")
        return text


class PlanReply(BaseModel):
    """The plan stage's JSON: 1–3 feature specs with distinct names."""

    model_config = ConfigDict(extra="ignore")

    features: list[FeatureSpec] = Field(min_length=1, max_length=3)

    @field_validator("features")
    @classmethod
    def _distinct(cls, value: list[FeatureSpec]) -> list[FeatureSpec]:
        names = [spec.name for spec in value]
        if len(set(names)) != len(names):
            raise ValueError(f"feature names must differ; got {names}")
        return value


def _json_candidates(text: str) -> list[str]:
    candidates = [m.group(2) for m in _FENCE.finditer(text) if m.group(1).lower() in ("json", "")]
    start = text.find("{")
    end = text.rfind("}")
    if start != -1:  # an unclosed object is still a candidate, so the parse error can be shown
        candidates.append(text[start : end + 1] if end > start else text[start:])
    return candidates


def parse_plan(text: str) -> tuple[list[FeatureSpec] | None, str]:
    """Parse a plan reply; return ``(specs, "")`` or ``(None, why it is unusable)``.

    The reason is worded for the retry prompt (what was wrong and what form is expected).
    """
    candidates = _json_candidates(text)
    if not candidates:
        return None, 'the reply contained no JSON object; answer with {"features": [...]} only'
    problem = ""
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError as exc:
            problem = f"the JSON does not parse ({exc.msg} at line {exc.lineno} column {exc.colno})"
            continue
        try:
            return PlanReply.model_validate(data).features, ""
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'top level'}: {err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors()
            )
            problem = f"the JSON does not match the requested form ({details})"
    return None, problem
