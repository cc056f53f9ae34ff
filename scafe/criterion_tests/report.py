"""The outcome of the criterion tests: per family, every check with found vs required.

``CriterionReport.repair_text`` is what the LLM repair prompt shows: every failing check, every
passing one, in clinical words. Phantom column names stay in the JSON form (``to_dict``), which
goes to the library record and ``scafe library verify --json``, never to a prompt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from scafe.criterion_tests.checks import Check


@dataclass
class FamilyResult:
    """The criterion test of one extractor on one phantom family."""

    family: str
    passed: bool = False
    rho: float | None = None
    score: float | None = None  # rho in the required direction (higher is better)
    form: str | None = None
    nuisance_rho: dict[str, float] = field(default_factory=dict)
    worst_nuisance: tuple[str, float] | None = None
    invariance_max_rel_change: float | None = None
    invariance_worst: str | None = None
    n_phantoms: int = 0
    checks: list[Check] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """Texts of the failing checks."""
        return [c.text for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = asdict(self)
        out["worst_nuisance"] = list(self.worst_nuisance) if self.worst_nuisance else None
        out["checks"] = [c.to_dict() for c in self.checks]
        return out


@dataclass
class CriterionReport:
    """Outcome of ``run_criterion_tests``: passed only if every family passed.

    The flat fields (``rho``, ``worst_nuisance``, ...) describe the deciding family: the one with
    the weakest tracking; ``families`` holds each family's figures.
    """

    item: str
    output_key: str | None
    column: str | None
    direction: str | None
    passed: bool
    rho: float | None
    required: float | None
    worst_nuisance: tuple[str, float] | None
    max_nuisance_rho: float | None
    nuisance_rho: dict[str, float] = field(default_factory=dict)
    invariance_max_rel_change: float | None = None
    invariance_worst: str | None = None
    n_phantoms: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    item_name: str = ""
    quantity: str = ""
    form: str | None = None
    families: dict[str, FamilyResult] = field(default_factory=dict)

    def finish(self) -> CriterionReport:
        """Fill the flat fields from the per-family results (call once all families ran)."""
        results = list(self.families.values())
        self.passed = bool(results) and all(r.passed for r in results) and not self.failures
        scored = [r for r in results if r.rho is not None and r.score is not None]
        if scored:
            deciding = min(scored, key=lambda r: float(r.score))  # type: ignore[arg-type]
            self.rho, self.form = deciding.rho, deciding.form
            self.nuisance_rho = dict(deciding.nuisance_rho)
            worst = [r.worst_nuisance for r in scored if r.worst_nuisance is not None]
            self.worst_nuisance = max(worst, key=lambda w: abs(w[1])) if worst else None
            changes = [r for r in scored if r.invariance_max_rel_change is not None]
            if changes:
                top = max(changes, key=lambda r: float(r.invariance_max_rel_change))  # type: ignore[arg-type]
                self.invariance_max_rel_change = top.invariance_max_rel_change
                self.invariance_worst = top.invariance_worst
        self.n_phantoms = sum(r.n_phantoms for r in results)
        for r in results:
            self.failures.extend(self._tag(r.family, text) for text in r.failures)
        self.passed = self.passed and not self.failures
        return self

    def _tag(self, family: str, text: str) -> str:
        return f"[family {family}] {text}" if len(self.families) > 1 else text

    def checks(self) -> list[tuple[str, Check]]:
        """``(family, check)`` for every check run."""
        return [(f, c) for f, r in self.families.items() for c in r.checks]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (stored as ``validation.criterion`` in the library)."""
        out = asdict(self)
        out["worst_nuisance"] = list(self.worst_nuisance) if self.worst_nuisance else None
        out["families"] = {f: r.to_dict() for f, r in self.families.items()}
        return out

    def figures(self) -> dict[str, Any]:
        """The headline figures of this attempt (for the history shown in later repair prompts)."""
        out: dict[str, Any] = {"passed": self.passed}
        for family, result in self.families.items():
            out[family] = {
                "rho": None if result.rho is None else round(result.rho, 3),
                "failed": [c.name if c.name != "nuisance" else c.text.split(":")[0]
                           for c in result.checks if not c.passed],
            }
        return out

    def repair_text(self) -> str:
        """Every failing check and every passing one, in clinical words (the repair prompt shows it)."""
        name = self.item_name or self.item
        fams = ", ".join(self.families) or "-"
        sizes = {r.n_phantoms for r in self.families.values()}
        count = (f"{sizes.pop()} validation phantoms per family" if len(sizes) == 1
                 else f"{self.n_phantoms} validation phantoms in all")
        head = (f"Criterion tests {'passed' if self.passed else 'FAILED'} for {name} (main output "
                f"{self.output_key!r}; phantom families {fams}, {count}; "
                "an extractor must pass every check on every family).")
        lines = [head]
        failing = list(self.failures)
        passing = [self._tag(f, c.text) for f, c in self.checks() if c.passed]
        if failing:
            lines.append("Failing checks (found vs required):")
            lines += [f"- {text}" for text in failing]
        if passing:
            lines.append("Passing checks (keep these):")
            lines += [f"- {text}" for text in passing]
        return "\n".join(lines)
