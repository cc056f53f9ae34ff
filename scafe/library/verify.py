"""Re-checking the library: ``verify`` (what CI runs) and ``status`` (what a clinician reads).

``verify`` trusts nothing recorded at registration: for each active entry it recomputes the
source's SHA-256 (one changed byte fails), re-runs the sandbox contract battery
(``sandbox.validate``) and the criterion tests (``scafe.criterion_tests.run_criterion_tests``),
and checks the extractor still returns the recorded output keys.

``status`` is cheap (no sandbox): it flags entries whose file is missing or modified, and
entries that are *stale* because their criteria file changed since registration.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from scafe.errors import CriteriaError

if TYPE_CHECKING:
    from scafe.library.manifest import Entry
    from scafe.library.store import Library

_MAX_LISTED_FAILURES = 5


@dataclass
class VerifyResult:
    """Outcome of re-verifying one entry; ``ok`` only if every check passed."""

    name: str
    version: int
    ok: bool
    sha_ok: bool
    contract: str  # an Outcome value ("ok", "failed", ...) or "skipped"/"unavailable"
    criterion: str  # "passed", "failed", "skipped" or "unavailable"
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rho: float | None = None
    #: per phantom family: ``{"passed", "rho", "worst_nuisance": [column, rho] | None,
    #: "invariance_max_rel_change", "failures"}`` (the criterion tests run on every family)
    families: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``"name@vK"``."""
        return f"{self.name}@v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``scafe library verify --json``)."""
        return {"label": self.label, **asdict(self)}

    def family_lines(self) -> list[str]:
        """One line per phantom family: pass/fail, rho, worst nuisance, invariance."""
        lines = []
        for family, fig in self.families.items():
            rho = "n/a" if fig.get("rho") is None else f"{fig['rho']:+.2f}"
            worst = fig.get("worst_nuisance")
            worst_text = f"{worst[0]} {worst[1]:+.2f}" if worst else "none"
            inv = fig.get("invariance_max_rel_change")
            inv_text = "not tested" if inv is None else f"{100 * inv:.1f}%"
            mark = "pass" if fig.get("passed") else "FAIL"
            lines.append(f"family {family}: {mark} rho {rho}, worst nuisance {worst_text}, invariance {inv_text}")
        return lines


@dataclass
class StatusRow:
    """One entry's state: ``active``, ``deprecated``, ``stale``, ``modified`` or ``missing file``."""

    name: str
    version: int
    status: str  # as recorded: active / deprecated
    state: str  # the most important of: missing file > modified > stale > status
    criterion: str
    origin: str
    detail: str = ""

    @property
    def label(self) -> str:
        """``"name@vK"``."""
        return f"{self.name}@v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"label": self.label, **asdict(self)}


def _file_state(library: Library, entry: Entry) -> tuple[str | None, str]:
    """``(problem, detail)`` for the entry's file: missing, modified, unsafe path, or ``(None, "")``."""
    return library.file_problem(entry)  # layout, symlink and hash checks live in the store


def _staleness(library: Library, entry: Entry) -> str:
    """Why the entry is stale (its criteria text changed or vanished), or ``""``."""
    from scafe.criteria import find_item

    try:
        criteria, _ = find_item(entry.criterion.ref, directory=library.criteria_dir)
    except CriteriaError as exc:
        return f"criterion {entry.criterion.ref} no longer resolves: {exc}"
    if criteria.sha256 != entry.criterion.file_sha256:
        return (
            f"{criteria.path.name} changed since registration (sha256 {entry.criterion.file_sha256[:12]}… → "
            f"{criteria.sha256[:12]}…); `scafe library refresh {entry.name}` if it still fits, else regenerate it"
        )
    return ""


def library_status(library: Library) -> list[StatusRow]:
    """State of every entry, sorted by name and version."""
    rows = []
    for entry in library.entries():
        problem, detail = _file_state(library, entry)
        if problem is None:
            detail = _staleness(library, entry)
            problem = "stale" if detail else None
        rows.append(StatusRow(
            name=entry.name, version=entry.version, status=entry.status, state=problem or entry.status,
            criterion=entry.criterion.ref, origin=entry.origin, detail=detail,
        ))  # fmt: skip
    return rows


def _describe_failures(report: Any) -> list[str]:
    out = []
    for failure in list(getattr(report, "failures", []) or [])[:_MAX_LISTED_FAILURES]:
        parts = [str(getattr(failure, "check", failure))]
        if getattr(failure, "input", None):
            parts.append(f"on {failure.input}")
        if getattr(failure, "expected", None) is not None or getattr(failure, "got", None) is not None:
            parts.append(f"expected {getattr(failure, 'expected', '?')}, got {getattr(failure, 'got', '?')}")
        if getattr(failure, "line", None):
            parts.append(f"(line {failure.line})")
        out.append(" ".join(parts))
    return out


def _import(module: str, attr: str, result: VerifyResult) -> Callable[..., Any] | None:
    """``module.attr`` or ``None`` (recording why in ``result``): verification needs both stages."""
    import importlib

    try:
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as exc:
        result.failures.append(f"cannot load {module}.{attr} ({exc}); install or finish that package")
        return None


def verify_entry(
    library: Library,
    entry: Entry,
    *,
    criterion_tests: bool = True,
    validate: Callable[[str], Any] | None = None,
    criterion_test: Callable[..., Any] | None = None,
) -> VerifyResult:
    """Verify one entry: hash, contract battery, output keys, criterion tests.

    ``validate``/``criterion_test`` default to ``sandbox.validate`` and
    ``scafe.criterion_tests.run_criterion_tests`` (imported here, so opening a library never
    loads the sandbox).
    """
    start = time.perf_counter()
    result = VerifyResult(entry.name, entry.version, ok=False, sha_ok=False, contract="skipped", criterion="skipped")
    problem, detail = _file_state(library, entry)
    if problem is not None:
        result.failures.append(f"{problem}: {detail}")
        result.seconds = time.perf_counter() - start
        return result
    result.sha_ok = True
    source = library.source(entry)

    run_validate = validate or _import("sandbox", "validate", result)
    if run_validate is None:
        result.contract = "unavailable"
    else:
        try:
            report = run_validate(source)
        except Exception as exc:  # a broken sandbox set-up must fail this entry by name, not abort the run
            result.contract = "error"
            result.failures.append(f"contract battery could not run: {type(exc).__name__}: {exc}")
            report = None
        if report is not None:
            status = getattr(report, "status", "?")
            result.contract = str(getattr(status, "value", status))
            if not report.ok:
                result.failures.append(f"contract battery: {result.contract}")
                result.failures.extend(f"contract: {text}" for text in _describe_failures(report))
            elif sorted(report.keys) != sorted(entry.outputs):
                result.failures.append(
                    f"outputs changed: the library records {sorted(entry.outputs)}, "
                    f"the extractor returns {sorted(report.keys)}"
                )

    if criterion_tests and not result.failures:
        result.criterion = _run_criterion(library, entry, source, criterion_test, result)
    result.ok = not result.failures
    result.seconds = time.perf_counter() - start
    return result


def _run_criterion(library: Library, entry: Entry, source: str, test: Callable[..., Any] | None,
                   result: VerifyResult) -> str:
    from scafe.criteria import find_item

    try:
        _, item = find_item(entry.criterion.ref, directory=library.criteria_dir)
    except CriteriaError as exc:
        result.failures.append(f"criterion {entry.criterion.ref}: {exc}")
        return "failed"
    run_test = test or _import("scafe.criterion_tests", "run_criterion_tests", result)
    if run_test is None:
        return "unavailable"
    output_key = (entry.validation.get("criterion") or {}).get("output_key")
    try:
        report = run_test(source, item, output_key=output_key)
    except Exception as exc:  # e.g. phantoms cannot be rendered: fail this entry by name
        result.failures.append(f"criterion tests could not run: {type(exc).__name__}: {exc}")
        return "error"
    result.rho = getattr(report, "rho", None)
    for family, fam in (getattr(report, "families", None) or {}).items():
        result.families[family] = {
            "passed": fam.passed, "rho": fam.rho, "form": fam.form,
            "worst_nuisance": list(fam.worst_nuisance) if fam.worst_nuisance else None,
            "invariance_max_rel_change": fam.invariance_max_rel_change, "failures": fam.failures,
        }  # fmt: skip
    if not report.passed:
        found = list(getattr(report, "failures", []) or []) or ["criterion tests failed"]
        result.failures.extend(f"criterion {entry.criterion.ref}: {text}" for text in found)
        return "failed"
    return "passed"


def verify_library(
    library: Library,
    names: list[str] | None = None,
    *,
    criterion_tests: bool = True,
    validate: Callable[[str], Any] | None = None,
    criterion_test: Callable[..., Any] | None = None,
    on_result: Callable[[VerifyResult], None] | None = None,
) -> list[VerifyResult]:
    """Verify every active entry (or those named) fully, and every other version's hash.

    ``on_result`` is called after each full verification. Results are sorted by name, version.
    """
    entries = library.active()
    if names:
        unknown = sorted(set(names) - {e.name for e in entries})
        if unknown:
            from scafe.errors import LibraryError

            raise LibraryError(f"no active extractor named {', '.join(map(repr, unknown))}; see `scafe library list`")
        entries = [e for e in entries if e.name in names]
    results = []
    for entry in entries:
        outcome = verify_entry(library, entry, criterion_tests=criterion_tests, validate=validate, criterion_test=criterion_test)
        results.append(outcome)
        if on_result is not None:
            on_result(outcome)
    # every other version too, hash only (issue 12 item 4): re-activating a tampered one must fail
    checked = {(e.name, e.version) for e in entries}
    for entry in library.entries():
        if (entry.name, entry.version) not in checked and (not names or entry.name in names):
            results.append(_hash_only(library, entry))
    return sorted(results, key=lambda r: (r.name, r.version))


def _hash_only(library: Library, entry: Entry) -> VerifyResult:
    problem, detail = _file_state(library, entry)
    result = VerifyResult(entry.name, entry.version, ok=problem is None, sha_ok=problem is None,
                          contract="skipped", criterion="skipped")
    if problem is not None:
        result.failures.append(f"{problem}: {detail}")
    return result
