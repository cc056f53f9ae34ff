"""Score the validator (contract battery + criterion tests) on the labelled corpus.

Used by ``benchmarks/validator.py`` (the whole corpus, every family) and by the quick CI test in
this folder. Each extractor runs once per family (``run_outputs``); its outputs are then judged
against every item of its folder (``evaluate_outputs``), which is exactly what
``run_criterion_tests`` does for one item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).resolve().parent


@dataclass
class CorpusEntry:
    """One labelled extractor of the corpus."""

    group: str
    name: str
    sound: bool
    path: Path
    items: list[str]

    @property
    def label(self) -> str:
        """``group/name``."""
        return f"{self.group}/{self.name}"


@dataclass
class Verdict:
    """The validator's decision on one entry for one item (all families)."""

    entry: CorpusEntry
    item: str
    accepted: bool
    contract_ok: bool
    families: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def correct(self) -> bool:
        """Accepted a sound extractor, or rejected a wrong one."""
        return self.accepted == self.entry.sound


def load_corpus(groups: list[str] | None = None) -> list[CorpusEntry]:
    """Every corpus entry (of ``groups``), sorted by group and name."""
    mapping = yaml.safe_load((CORPUS / "groups.yaml").read_text(encoding="utf-8"))
    entries = []
    for group, items in mapping.items():
        if groups and group not in groups:
            continue
        for path in sorted((CORPUS / group).glob("*.py")):
            kind, _, name = path.stem.partition("_")
            if kind not in ("sound", "wrong"):
                raise ValueError(f"{path}: corpus files are named sound_*.py or wrong_*.py")
            entries.append(CorpusEntry(group, name, kind == "sound", path, list(items)))
    return entries


def judge(entry: CorpusEntry, families: tuple[str, ...], items: list[str] | None = None,
          seed: int | None = None, n: int | None = None) -> list[Verdict]:
    """Run the validator on ``entry`` for each of its items (or ``items``) on ``families``.

    ``seed``: the phantom set (default the criterion tests' own validation seed); another seed is a
    held-out set for checking thresholds that were calibrated on the validation set. ``n``: phantoms
    per family (default the criterion tests' ``VALIDATION_N``).
    """
    import sandbox
    from scafe.criteria import find_item
    from scafe.criterion_tests import evaluate_outputs, run_outputs, validation_set

    source = entry.path.read_text(encoding="utf-8")
    contract = sandbox.validate(source)
    refs = items or entry.items
    resolved = [find_item(ref) for ref in refs]
    verdicts = [Verdict(entry, ref, False, contract.ok) for ref in refs]
    if not contract.ok:
        for verdict in verdicts:
            verdict.families = {"contract": {"failures": [str(f) for f in contract.failures[:3]]}}
        return verdicts
    orientation_free = any(item.orientation_free for _, item in resolved)
    results: dict[str, list[bool]] = {ref: [] for ref in refs}
    for family in families:
        chosen = {k: v for k, v in (("seed", seed), ("n", n)) if v is not None}
        vs = validation_set(family=family, **chosen)
        outputs = run_outputs(source, vs, orientation_free=orientation_free)
        key = next(iter(outputs["features"][0]), None) if outputs["features"] and outputs["features"][0] else None
        for verdict, (_, item) in zip(verdicts, resolved, strict=True):
            result = evaluate_outputs(outputs, vs, item, key)
            results[verdict.item].append(result.passed)
            verdict.families[family] = {"passed": result.passed, "rho": result.rho, "form": result.form,
                                        "failures": result.failures,
                                        "nuisance_rho": {c: round(v, 4) for c, v in result.nuisance_rho.items()},
                                        "invariance": result.invariance_max_rel_change}
    for verdict in verdicts:
        verdict.accepted = bool(results[verdict.item]) and all(results[verdict.item])
    return verdicts
