"""The deterministic rule reasoner: the judge's four stages without an LLM, labelled ``rules``.

It runs the same stages as the LLM chain (``agents/judge``) so both produce the same output
shape, and so the chain's stage 2 can show the LLM exactly what the rules found:

1. knowledge recall - the target's expectations, read from
   ``prompts/criteria/segmentation/<target>.yaml``;
2. visual feature analysis - every rule of that file evaluated on the trusted descriptors
   (value, threshold, fired or not, normalised margin);
3. anatomical inference - fired rules grouped into failure modes with their explanations;
4. clinical synthesis - ``unacceptable`` if any *critical* rule fired or at least
   ``synthesis.major_needed`` *major* rules fired, else ``acceptable``.

Scores: each rule's normalised margin ``m = (value - threshold) / scale`` (sign chosen so that
``m > 0`` means fired) gives ``p_rule = sigmoid(1.5 m)`` (one scale unit past the threshold
-> 0.82, two -> 0.95); ``p_unacceptable`` is the largest
critical ``p_rule`` (or the second-largest major one when that is higher); ``confidence`` is
``max(p, 1 - p)``. A NaN descriptor (undefined, e.g. the ring of a full-image mask) fires the
rule when the rule says ``nan_fires: true``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from scafe.errors import CriteriaError, UsageError
from scafe.judge.descriptors import DESCRIPTOR_NAMES, compute_descriptors

TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # a file stem, never a path


class Rule(BaseModel):
    """One check: ``descriptor op threshold`` means the mask looks wrong in ``failure_mode``."""

    id: str
    descriptor: str
    op: Literal[">", "<"]
    threshold: float
    scale: float = Field(gt=0, description="What counts as a clear margin, in descriptor units.")
    severity: Literal["critical", "major"] = "critical"
    failure_mode: str
    finding: str  # what the rule saw, in words (stage 2)
    inference: str  # what it means anatomically (stage 3)
    nan_fires: bool = True

    @field_validator("descriptor")
    @classmethod
    def _known_descriptor(cls, value: str) -> str:
        if value not in DESCRIPTOR_NAMES:
            raise ValueError(f"unknown descriptor {value!r}; use one of {list(DESCRIPTOR_NAMES)}")
        return value


class Synthesis(BaseModel):
    """How fired rules become a verdict."""

    major_needed: int = Field(2, ge=1)


class SegmentationTarget(BaseModel):
    """A segmentation target file (``prompts/criteria/segmentation/<target>.yaml``)."""

    target: str
    title: str
    structure: str  # what the structure is, for the prompts
    expectations: list[str]  # what a correct mask looks like, one statement each
    failure_modes: dict[str, str]  # mode -> description
    rules: list[Rule]
    synthesis: Synthesis = Synthesis(major_needed=2)
    path: str = ""

    @classmethod
    def load(cls, target: str = "scar", root: Path | None = None) -> SegmentationTarget:
        """Load and validate ``<root>/prompts/criteria/segmentation/<target>.yaml``.

        Raises
        ------
        UsageError
            When no such target file exists (lists the ones that do).
        CriteriaError
            When the file is not valid YAML or does not match the schema.
        """
        from scafe.paths import criteria_dir
        from scafe.safe_yaml import safe_load

        folder = criteria_dir(root) / "segmentation"
        known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
        if not isinstance(target, str) or not TARGET_NAME.fullmatch(target):
            raise UsageError(
                f"--target takes a target name, not a path: {target!r} is not one. Known targets: "
                f"{known or 'none'} (files in {folder})."
            )
        path = folder / f"{target}.yaml"
        if not path.is_file():
            raise UsageError(
                f"No segmentation target {target!r}: {path} does not exist. Known targets: {known or 'none'}; "
                "add a YAML file there (copy scar.yaml) to define a new one."
            )
        try:
            data = safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                shape = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
                raise CriteriaError(
                    f"{path} is {shape}; a segmentation target is a mapping with target, title, structure, "
                    "expectations, failure_modes and rules (copy scar.yaml)."
                )
            model = cls.model_validate({**data, "path": str(path)})
        except UnicodeDecodeError as exc:
            raise CriteriaError(f"{path} is not UTF-8 text ({exc.reason}); save it as UTF-8.") from exc
        except yaml.YAMLError as exc:
            raise CriteriaError(f"{path} is not valid YAML: {exc}") from exc
        except ValidationError as exc:
            raise CriteriaError(f"{path} does not match the segmentation-target schema:\n{exc}") from exc
        unknown = {r.failure_mode for r in model.rules} - set(model.failure_modes)
        if unknown:
            raise CriteriaError(f"{path}: rules name failure modes {sorted(unknown)} missing from failure_modes:.")
        return model


MARGIN_GAIN = 1.5  # logistic gain per scale unit of margin (see module docstring)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def evaluate_rule(rule: Rule, value: float) -> dict[str, Any]:
    """Stage-2 finding of one rule: value, threshold, margin (> 0 = fired), fired."""
    if value is None or not math.isfinite(value):
        fired = rule.nan_fires
        margin = 1.0 if fired else -1.0
        shown = None
    else:
        margin = (value - rule.threshold) / rule.scale
        if rule.op == "<":
            margin = -margin
        fired = margin > 0
        shown = round(float(value), 4)
    return {
        "rule": rule.id,
        "descriptor": rule.descriptor,
        "value": shown,
        "op": rule.op,
        "threshold": rule.threshold,
        "fired": bool(fired),
        "margin": round(float(margin), 3),
        "severity": rule.severity,
        "failure_mode": rule.failure_mode,
        "finding": rule.finding if fired else "",
    }


class RuleReasoner:
    """Deterministic four-stage judge over the trusted descriptors (module docstring)."""

    name = "rules"

    def __init__(self, target: SegmentationTarget):
        self.target = target

    @classmethod
    def for_target(cls, target: str = "scar", root: Path | None = None) -> RuleReasoner:
        """Reasoner for a named target file."""
        return cls(SegmentationTarget.load(target, root))

    def knowledge_recall(self) -> dict[str, Any]:
        """Stage 1: what a correct mask of this target looks like."""
        t = self.target
        return {"structure": t.structure, "expectations": list(t.expectations), "failure_modes": dict(t.failure_modes)}

    def visual_feature_analysis(self, descriptors: dict[str, float]) -> dict[str, Any]:
        """Stage 2: every rule evaluated on the descriptors."""
        findings = [evaluate_rule(r, descriptors.get(r.descriptor, math.nan)) for r in self.target.rules]
        return {"findings": findings, "n_fired": sum(f["fired"] for f in findings)}

    def anatomical_inference(self, analysis: dict[str, Any]) -> dict[str, Any]:
        """Stage 3: fired rules grouped by failure mode, with what they mean."""
        by_rule = {r.id: r for r in self.target.rules}
        suspected: dict[str, list[str]] = {}
        for f in analysis["findings"]:
            if f["fired"]:
                suspected.setdefault(f["failure_mode"], []).append(by_rule[f["rule"]].inference)
        return {
            "suspected_failure_modes": sorted(suspected),
            "explanations": {mode: sorted(set(texts)) for mode, texts in sorted(suspected.items())},
            "consistent_with_target": not suspected,
        }

    def clinical_synthesis(self, analysis: dict[str, Any], inference: dict[str, Any]) -> dict[str, Any]:
        """Stage 4: the verdict, exactly the synthesis schema plus ``p_unacceptable``."""
        critical = [f for f in analysis["findings"] if f["severity"] == "critical"]
        major = [f for f in analysis["findings"] if f["severity"] == "major"]
        need = self.target.synthesis.major_needed
        p_crit = max((_sigmoid(MARGIN_GAIN * f["margin"]) for f in critical), default=0.0)
        major_p = sorted((_sigmoid(MARGIN_GAIN * f["margin"]) for f in major), reverse=True)
        p_major = major_p[need - 1] if len(major_p) >= need else 0.0
        p = max(p_crit, p_major)
        fired_crit = [f for f in critical if f["fired"]]
        fired_major = [f for f in major if f["fired"]]
        unacceptable = bool(fired_crit) or len(fired_major) >= need
        # Keep verdict and score consistent even where sigmoid(0) rounding would disagree.
        p = max(p, 0.5 + 1e-6) if unacceptable else min(p, 0.5 - 1e-6)
        # The verdict's failure modes are those of the rules that decided it: every fired critical
        # rule, and the fired major rules only when enough of them fired to count.
        deciding = fired_crit + (fired_major if len(fired_major) >= need else [])
        modes = sorted({f["failure_mode"] for f in deciding})
        if unacceptable:
            reasons = [f"{f['descriptor']}={f['value']} {f['op']} {f['threshold']}" for f in fired_crit + fired_major]
            rationale = f"Rules fired: {'; '.join(reasons)}."
        else:
            rationale = "No critical rule fired" + (
                f"; {len(fired_major)} major rule(s) fired, fewer than {need}." if fired_major else "."
            )
        return {
            "verdict": "unacceptable" if unacceptable else "acceptable",
            "confidence": round(max(p, 1 - p), 4),
            "failure_modes": modes,
            "rationale": rationale,
            "p_unacceptable": round(p, 4),
        }

    def stages(self, descriptors: dict[str, float], hard: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """All four stages, keyed as in the judge's JSON output.

        ``hard``: hard failures of the mask (:mod:`scafe.judge.grounding`); derived from the
        descriptors (empty/full mask) when not given. A hard failure replaces the rule findings
        (the rules would only fire on undefined values) and decides ``unacceptable``.
        """
        from scafe.judge.grounding import hard_failures_from_descriptors

        recall = self.knowledge_recall()
        if hard is None:
            hard = hard_failures_from_descriptors(descriptors, list(self.target.failure_modes))
        if hard:
            return {"knowledge_recall": recall, **hard_failure_stages(hard)}
        analysis = self.visual_feature_analysis(descriptors)
        inference = self.anatomical_inference(analysis)
        synthesis = self.clinical_synthesis(analysis, inference)
        return {
            "knowledge_recall": recall,
            "visual_feature_analysis": analysis,
            "anatomical_inference": inference,
            "clinical_synthesis": synthesis,
        }

    def judge(self, descriptors: dict[str, float]) -> dict[str, Any]:
        """Verdict dict: ``verdict, confidence, failure_modes, rationale, p_unacceptable``."""
        return self.stages(descriptors)["clinical_synthesis"]


def hard_failure_stages(hard: list[dict[str, Any]]) -> dict[str, Any]:
    """Stages 2-4 of a mask with hard failures: those findings only, verdict ``unacceptable``, confidence 1."""
    modes = sorted({f["failure_mode"] for f in hard if f["failure_mode"]})
    texts = "; ".join(f["finding"] for f in hard)
    return {
        "visual_feature_analysis": {"findings": list(hard), "n_fired": len(hard)},
        "anatomical_inference": {
            "suspected_failure_modes": modes,
            "explanations": {m: [f["finding"] for f in hard if f["failure_mode"] == m] for m in modes},
            "consistent_with_target": False,
        },
        "clinical_synthesis": {
            "verdict": "unacceptable",
            "confidence": 1.0,
            "failure_modes": modes,
            "rationale": f"Hard failure found by the trusted descriptors: {texts}.",
            "p_unacceptable": 1.0,
        },
    }


def fit_thresholds(
    target: SegmentationTarget,
    descriptors: list[dict[str, float]],
    unacceptable: list[bool],
    *,
    passes: int = 3,
    grid: int = 101,
    silent_on: Sequence[dict[str, float]] = (),
    silent_margin: float = 0.5,
) -> dict[str, float]:
    """Suggest rule thresholds that maximise accuracy on labelled (train-split) masks.

    Coordinate ascent: for each rule in file order, try every ``1/(grid-1)`` quantile of that
    descriptor's finite values as its threshold, keep the one with the best accuracy of the
    whole reasoner (ties keep the earlier, i.e. lower-quantile, candidate), repeat ``passes``
    times. This is how the committed thresholds of ``scar.yaml`` were chosen, on the train
    split only; ``benchmarks/judge.py`` prints fresh suggestions next to the file's values.
    The rules, their directions and severities stay the clinician's; only numbers are fitted.

    ``silent_on``: descriptors of masks no rule may fire on (the ground-truth masks of the train
    phantoms): each rule's candidates are limited to thresholds at least ``silent_margin * scale``
    beyond the most extreme of those values, so a perfect mask never trips a rule.
    """
    if len(descriptors) != len(unacceptable) or not descriptors:
        raise UsageError(f"fit_thresholds needs as many labels as descriptor dicts (got {len(descriptors)} and {len(unacceptable)}).")
    y = np.asarray(unacceptable, dtype=bool)
    values = {r.id: np.array([d.get(r.descriptor, math.nan) for d in descriptors], dtype=float) for r in target.rules}
    thresholds = {r.id: r.threshold for r in target.rules}
    critical = [r for r in target.rules if r.severity == "critical"]
    major = [r for r in target.rules if r.severity == "major"]
    need = target.synthesis.major_needed

    def fires(rule: Rule, threshold: float) -> np.ndarray:
        v = values[rule.id]
        with np.errstate(invalid="ignore"):
            hit = v > threshold if rule.op == ">" else v < threshold
        return np.where(np.isfinite(v), hit, rule.nan_fires)

    def accuracy() -> float:
        verdict = np.zeros(len(y), bool)
        for r in critical:
            verdict |= fires(r, thresholds[r.id])
        if major:
            verdict |= np.sum([fires(r, thresholds[r.id]) for r in major], axis=0) >= need
        return float(np.mean(verdict == y))

    bounds = {r.id: _silent_bound(r, silent_on, silent_margin) for r in target.rules}
    for rule in target.rules:  # start from an admissible value
        thresholds[rule.id] = _admissible(rule, thresholds[rule.id], bounds[rule.id])
    for _ in range(passes):
        for rule in target.rules:
            finite_values = values[rule.id][np.isfinite(values[rule.id])]
            if finite_values.size == 0:
                continue
            best_acc, best_t = -1.0, thresholds[rule.id]
            candidates = np.unique(np.quantile(finite_values, np.linspace(0, 1, grid)))
            candidates = np.unique([_admissible(rule, float(c), bounds[rule.id]) for c in candidates])
            for candidate in candidates:
                thresholds[rule.id] = float(candidate)
                acc = accuracy()
                if acc > best_acc + 1e-12:
                    best_acc, best_t = acc, float(candidate)
            thresholds[rule.id] = best_t
    return thresholds


def _silent_bound(rule: Rule, silent_on: Sequence[dict[str, float]], margin: float) -> float | None:
    """The least extreme threshold at which ``rule`` fires on none of ``silent_on`` (None: no constraint)."""
    values = np.array([d.get(rule.descriptor, math.nan) for d in silent_on], dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    return float(values.max() + margin * rule.scale) if rule.op == ">" else float(values.min() - margin * rule.scale)


def _admissible(rule: Rule, threshold: float, bound: float | None) -> float:
    if bound is None:
        return threshold
    return max(threshold, bound) if rule.op == ">" else min(threshold, bound)


def rule_statistics(
    target: SegmentationTarget, descriptors: Sequence[dict[str, float]], unacceptable: Sequence[bool]
) -> dict[str, dict[str, Any]]:
    """Per rule on labelled masks: how often it fires and its precision (share of fired masks that
    are unacceptable; None when it never fires), and the accuracy lost when it is removed."""
    y = np.asarray(unacceptable, dtype=bool)

    def accuracy(rules: list[Rule]) -> float:
        reasoner = RuleReasoner(target.model_copy(update={"rules": rules}))
        said = np.array([reasoner.judge(d)["verdict"] == "unacceptable" for d in descriptors])
        return float(np.mean(said == y))

    full = accuracy(list(target.rules))
    stats: dict[str, dict[str, Any]] = {}
    for rule in target.rules:
        fired = np.array([evaluate_rule(rule, d.get(rule.descriptor, math.nan))["fired"] for d in descriptors])
        stats[rule.id] = {
            "threshold": rule.threshold,
            "fires": int(fired.sum()),
            "precision": round(float(y[fired].mean()), 4) if fired.any() else None,
            "accuracy_gain": round(full - accuracy([r for r in target.rules if r is not rule]), 4),
        }
    return stats


def json_safe(value: Any) -> Any:
    """Replace NaN/inf floats by None, recursively (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def judge_with_rules(
    image: np.ndarray, mask: np.ndarray, *, target: str = "scar", root: Path | None = None
) -> dict[str, Any]:
    """The judge's full output for the deterministic reasoner (``reasoner: "rules"``).

    ``{"verdict", "confidence", "failure_modes", "stages": {the four stages}, "reasoner": "rules",
    "descriptors": {...}}``; undefined descriptors are ``None``.
    """
    from scafe.judge.grounding import hard_failures

    descriptors = compute_descriptors(image, mask)
    reasoner = RuleReasoner.for_target(target, root)
    hard = hard_failures(mask, list(reasoner.target.failure_modes))
    stages = reasoner.stages(descriptors, hard=hard)
    synthesis = stages["clinical_synthesis"]
    return {
        "verdict": synthesis["verdict"],
        "confidence": synthesis["confidence"],
        "failure_modes": synthesis["failure_modes"],
        "stages": json_safe(stages),
        "reasoner": "rules",
        "hard_failures": hard,
        "rule_findings": json_safe(stages["visual_feature_analysis"]["findings"]),
        "descriptors": json_safe(descriptors),
    }
