"""Scripted validators injected into ``verify``/``validate_and_register`` (dependency injection).

They stand in for ``sandbox.validate`` and ``run_criterion_tests`` only inside these unit tests,
so the store's own logic (ordering, bookkeeping, failure reporting) is tested without the sandbox.
The real validators are exercised by ``test_committed_library.py`` and the integration tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Failure:
    check: str
    input: str = ""
    expected: Any = None
    got: Any = None
    line: int | None = None


@dataclass
class ContractReport:
    ok: bool
    keys: list[str]
    status: str = "ok"
    failures: list[Failure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "ok": self.ok, "keys": self.keys}

    def repair_text(self) -> str:
        return "; ".join(f"{f.check}: expected {f.expected}, got {f.got}" for f in self.failures)


@dataclass
class CriterionReport:
    passed: bool
    rho: float = 0.8
    output_key: str | None = None
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "rho": self.rho, "output_key": self.output_key}

    def repair_text(self) -> str:
        return "\n".join(self.failures)


class Recorder:
    """Callable validators that record their calls and return scripted reports."""

    def __init__(self, contract: ContractReport, criterion: CriterionReport) -> None:
        self.contract, self.criterion = contract, criterion
        self.validated: list[str] = []
        self.tested: list[tuple[str, str, str | None]] = []

    def validate(self, source: str) -> ContractReport:
        self.validated.append(source)
        return self.contract

    def criterion_test(self, source: str, item: Any, *, output_key: str | None = None) -> CriterionReport:
        self.tested.append((source, item.id, output_key))
        return self.criterion
