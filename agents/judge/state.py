"""State, context and output schemas of the judge chain (HCR).

State is plain JSON-able data: the descriptors, the rule findings shown to the LLM, each stage's
validated output, and (when a stage could not be completed) which stage failed and why. Live
objects - the LLM client, the target file, the PNG images for ``--vision`` - travel in
:class:`JudgeContext`, which LangGraph passes to nodes as ``runtime.context``.

Every stage's reply is validated against its pydantic schema below; ``extra="forbid"`` on the
synthesis makes its reply *exactly* ``{"verdict", "confidence", "failure_modes", "rationale"}``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from agents.llm import LLMClient
    from scafe.judge.rules import SegmentationTarget

STAGES: tuple[str, ...] = (
    "knowledge_recall",
    "visual_feature_analysis",
    "anatomical_inference",
    "clinical_synthesis",
)


class KnowledgeRecall(BaseModel):
    """Stage 1: what a correct mask of the target looks like."""

    structure: str = Field(min_length=1)
    expected_properties: list[str] = Field(min_length=1)
    failure_signs: dict[str, str]


class Observation(BaseModel):
    """One descriptor as the model reads it."""

    descriptor: str
    value: float | None = None
    assessment: Literal["normal", "suspicious", "abnormal"]
    note: str = ""


class VisualFeatureAnalysis(BaseModel):
    """Stage 2: the descriptors (and, with --vision, the images) assessed."""

    observations: list[Observation] = Field(min_length=1)
    summary: str = Field(min_length=1)


class AnatomicalInference(BaseModel):
    """Stage 3: what the mask covers and which failure modes explain it."""

    covers: str = Field(min_length=1)
    plausible_anatomy: bool
    suspected_failure_modes: list[str]
    reasoning: str = Field(min_length=1)


class ClinicalSynthesis(BaseModel):
    """Stage 4: the verdict - exactly these four keys."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["acceptable", "unacceptable", "uncertain"]
    confidence: float = Field(ge=0.0, le=1.0, description="P(the stated verdict is correct)")
    failure_modes: list[str]
    rationale: str = Field(min_length=1)


SCHEMAS: dict[str, type[BaseModel]] = {
    "knowledge_recall": KnowledgeRecall,
    "visual_feature_analysis": VisualFeatureAnalysis,
    "anatomical_inference": AnatomicalInference,
    "clinical_synthesis": ClinicalSynthesis,
}


class JudgeInput(TypedDict):
    """What one judgement starts from (the narrow input state)."""

    descriptors: dict[str, float]
    rule_findings: list[dict[str, Any]]


class JudgeState(TypedDict, total=False):
    """One judgement in progress."""

    descriptors: dict[str, float]
    rule_findings: list[dict[str, Any]]
    knowledge_recall: dict[str, Any]
    visual_feature_analysis: dict[str, Any]
    anatomical_inference: dict[str, Any]
    clinical_synthesis: dict[str, Any]
    failed_stage: str
    failure_reason: str
    attempts: Annotated[list[dict[str, Any]], operator.add]  # one entry per LLM call: stage, ok, error


@dataclass
class JudgeContext:
    """Live objects for the nodes (never stored in state).

    Attributes
    ----------
    client : LLMClient
        The configured endpoint.
    target : SegmentationTarget
        The target file (expectations, failure modes, rules).
    images : list of bytes
        PNGs attached to stage 2 with ``--vision`` (photograph, overlay); empty otherwise.
    max_attempts : int
        LLM calls per stage before it is given up (1 + bounded retries on invalid output).
    templates_dir : str
        Folder holding ``judge_*.j2``.
    recall_cache : dict, optional
        Shared across judgements of one run: stage 1 has no case-specific input, so its validated
        reply is reused for every case with the same model and prompt (asked, and recorded, once).
    reference : dict
        The target's reference values (:func:`scafe.judge.glossary.load_reference`): acceptable
        ranges of the descriptors shown in the glossary; ``{}`` when the target has none.
    view : dict
        Image size, lesion width in px (and px per mm when known), Dice per px of offset, the
        zoomed crop's box and factor - the scale facts the prompts state.
    progress : callable, optional
        Called as ``progress(stage, attempt)`` after every answered LLM call.
    """

    client: LLMClient
    target: SegmentationTarget
    templates_dir: str
    images: list[bytes] = field(default_factory=list)
    max_attempts: int = 3
    recall_cache: dict[str, Any] | None = None  # stage-1 replies by (model, prompt): asked once per run
    reference: dict[str, Any] = field(default_factory=dict)
    view: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[str, int], None] | None = None
