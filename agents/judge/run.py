"""Run the judge chain on one image and mask and return the judge's JSON output.

Output shape (shared with the rule reasoner, see ``scafe judge --help``)::

    {"verdict": "acceptable"|"unacceptable"|"uncertain", "confidence": float, "failure_modes": [...],
     "stages": {"knowledge_recall": ..., "visual_feature_analysis": ..., "anatomical_inference": ...,
                "clinical_synthesis": ...},
     "reasoner": "llm:<model>", "descriptors": {...}}

For ``uncertain`` the confidence is 0, ``failure_modes`` is empty, the failed stage's entry is
``{"error": "<reason>"}`` and the stages never reached are ``null``.

Grounding (issue 12 item 13): the output always carries, next to the LLM's answer (``llm``), the
deterministic rule reasoner's verdict (``rules``), its findings (``rule_findings``) and the hard
failures measured on the mask (``hard_failures``). A hard failure (empty, full, frame-only mask)
decides ``unacceptable`` whatever the LLM replied (``verdict_source: "hard_failure"``);
``disagreement`` says whether the LLM's verdict differs from the rules'. The LLM's failure modes
are restricted to the target's declared list; others are listed in ``llm.rejected_failure_modes``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.judge.nodes import finite
from agents.judge.state import STAGES, JudgeContext

if TYPE_CHECKING:
    from agents.llm import LLMClient
    from scafe.judge.rules import SegmentationTarget


def judge_with_llm(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    client: LLMClient,
    target: SegmentationTarget,
    vision: bool = False,
    descriptors: dict[str, float] | None = None,
    max_attempts: int = 3,
    templates_dir: str | None = None,
    recall_cache: dict[str, Any] | None = None,
    px_per_mm: float | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """Judge one mask with the four-stage LLM chain.

    Parameters
    ----------
    image, mask : ndarray
        ``(H, W, 3)`` uint8 RGB and ``(H, W)`` bool.
    client : LLMClient
        A configured client (``LLMClient(LLMConfig.from_env(...))``).
    target : SegmentationTarget
        Loaded target file (``SegmentationTarget.load("scar")``).
    vision : bool
        Attach the photograph and an overlay of the mask boundary (PNG) to stage 2.
    descriptors : dict, optional
        Precomputed descriptors (the benchmark reuses them); computed here otherwise.
    max_attempts : int
        LLM calls per stage (1 + bounded retries on invalid output).
    templates_dir : str, optional
        Folder with ``judge_*.j2`` (default ``<project root>/prompts/templates``).
    recall_cache : dict, optional
        Pass the same dict to every judgement of a run: stage 1 (nothing case-specific) is then
        asked once per model and target and its reply reused.
    px_per_mm : float, optional
        Pixel size of the photograph when known (stated in the prompts next to the lesion width in px).
    progress : callable, optional
        ``progress(stage, attempt)`` after every answered LLM call.
    """
    from agents.judge.graph import graph
    from scafe.judge.descriptors import compute_descriptors
    from scafe.judge.glossary import load_reference
    from scafe.judge.grounding import hard_failures, restrict_modes
    from scafe.judge.overlay import vision_images, zoom_box
    from scafe.judge.rules import RuleReasoner
    from scafe.paths import templates_dir as default_templates

    if descriptors is None:
        descriptors = compute_descriptors(image, mask)
    declared = list(target.failure_modes)
    hard = hard_failures(mask, declared)
    rule_stages = RuleReasoner(target).stages(descriptors, hard=hard)
    reference = load_reference(target.path) if target.path else {}
    findings = [_with_precision(f, reference) for f in rule_stages["visual_feature_analysis"]["findings"]]
    rules_synthesis = rule_stages["clinical_synthesis"]
    images, crop = vision_images(image, mask) if vision else ([], {})
    context = JudgeContext(
        client=client, target=target, images=images, max_attempts=max_attempts,
        templates_dir=str(templates_dir or default_templates()), recall_cache=recall_cache,
        reference=reference, view=_view(image, mask, descriptors, crop, px_per_mm, zoom_box), progress=progress,
    )
    state = graph.invoke({"descriptors": descriptors, "rule_findings": findings}, context=context)
    stages: dict[str, Any] = {stage: state.get(stage) for stage in STAGES}
    reasoner = f"llm:{client.config.model}"
    if "failed_stage" in state:
        stages[state["failed_stage"]] = {"error": state["failure_reason"]}
        llm: dict[str, Any] = {"verdict": "uncertain", "confidence": 0.0, "failure_modes": [],
                               "rejected_failure_modes": []}
    else:
        synthesis = state["clinical_synthesis"]
        kept, rejected = restrict_modes(list(synthesis["failure_modes"]), declared)
        llm = {"verdict": synthesis["verdict"], "confidence": float(synthesis["confidence"]),
               "failure_modes": kept, "rejected_failure_modes": rejected}
    rules = {k: rules_synthesis[k] for k in ("verdict", "confidence", "failure_modes")}
    if hard:
        final, source = {**rules}, "hard_failure"
    else:
        final, source = {k: llm[k] for k in ("verdict", "confidence", "failure_modes")}, "llm"
    return {
        "verdict": final["verdict"],
        "confidence": float(final["confidence"]),
        "failure_modes": list(final["failure_modes"]),
        "verdict_source": source,
        "llm": llm,
        "rules": rules,
        "disagreement": llm["verdict"] != "uncertain" and llm["verdict"] != rules["verdict"],
        "hard_failures": hard,
        "rule_findings": finite(findings),
        "stages": stages,
        "reasoner": reasoner,
        "descriptors": finite(descriptors),
    }


def _with_precision(finding: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """A rule finding with its precision and firing count on the reference set (None when unknown)."""
    if finding.get("hard"):
        return finding
    stats = reference.get("rules", {}).get(finding["rule"], {})
    return {**finding, "precision": stats.get("precision"), "fires": stats.get("fires")}


def _view(
    image: np.ndarray, mask: np.ndarray, descriptors: dict[str, float], crop: dict[str, int],
    px_per_mm: float | None, zoom_box: Callable[[np.ndarray], tuple[int, int, int, int]],
) -> dict[str, Any]:
    """The scale facts the prompts state: image size, lesion width, Dice per px, the zoomed crop."""
    width = descriptors.get("lesion_width_px", math.nan)
    width = float(width) if isinstance(width, float | int) and math.isfinite(width) and width > 0 else math.nan
    top, bottom, left, right = zoom_box(mask)
    return {
        "height": int(image.shape[0]), "width": int(image.shape[1]),
        "px_per_mm": round(float(px_per_mm), 3) if px_per_mm else None,
        "lesion_width_px": round(width, 1) if math.isfinite(width) else "undefined",
        "dice_per_px": round(min(1.0 / width, 1.0), 3) if math.isfinite(width) else "undefined",
        "crop_top": top, "crop_bottom": bottom - 1, "crop_left": left, "crop_right": right - 1,
        "zoom": crop.get("factor", 1),
    }
