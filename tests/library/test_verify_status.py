"""``status`` (stale / modified / missing) and ``verify`` (hash first, then battery, then criterion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scafe.errors import LibraryError
from scafe.library import Library

from .conftest import extractor_source
from .doubles import ContractReport, CriterionReport, Failure, Recorder


def add(library: Library, key: str, name: str, criterion: str = "vss/vascularity", output_key: str | None = None):
    return library.register(
        extractor_source(key), name=name, criterion=criterion, origin="reference", outputs=[key],
        validation={"criterion": {"output_key": output_key}} if output_key else None,
    )


def states(library: Library) -> dict[str, str]:
    return {row.label: row.state for row in library.status()}


def test_status_active_and_deprecated(library: Library) -> None:
    add(library, "k_a", "a")
    add(library, "k_b", "b")
    library.deprecate("b")
    assert states(library) == {"a@v1": "active", "b@v1": "deprecated"}


def test_status_stale_after_criteria_edit(library: Library, criteria_dir: Path) -> None:
    add(library, "k_red", "red", "vss/vascularity")
    add(library, "k_gloss", "gloss", "manchester/surface")
    vss = criteria_dir / "vss.yaml"
    vss.write_text(vss.read_text().replace("pink", "pink (light red)"))
    rows = {row.label: row for row in library.status()}
    assert rows["red@v1"].state == "stale"
    assert "vss.yaml changed since registration" in rows["red@v1"].detail
    assert rows["gloss@v1"].state == "active"  # other files untouched


def test_status_stale_when_item_disappears(library: Library, criteria_dir: Path) -> None:
    add(library, "k_red", "red", "vss/vascularity")
    (criteria_dir / "vss.yaml").unlink()
    row = library.status()[0]
    assert row.state == "stale"
    assert "no longer resolves" in row.detail


def test_status_modified_and_missing(library: Library) -> None:
    a = add(library, "k_a", "a")
    b = add(library, "k_b", "b")
    path = library.file_path(a)
    path.write_bytes(path.read_bytes().replace(b"1.0", b"1.1"))  # one changed byte
    library.file_path(b).unlink()
    assert states(library) == {"a@v1": "modified", "b@v1": "missing file"}


def test_verify_passes_and_runs_all_stages(library: Library) -> None:
    add(library, "k_a", "a", output_key="k_a")
    fake = Recorder(ContractReport(ok=True, keys=["k_a"]), CriterionReport(passed=True, rho=0.71))
    [result] = library.verify(validate=fake.validate, criterion_test=fake.criterion_test)
    assert result.ok
    assert (result.sha_ok, result.contract, result.criterion, result.rho) == (True, "ok", "passed", 0.71)
    assert fake.validated == [extractor_source("k_a")]
    assert fake.tested == [(extractor_source("k_a"), "vascularity", "k_a")]


def test_verify_catches_one_changed_byte_without_running_code(library: Library) -> None:
    entry = add(library, "k_a", "a")
    path = library.file_path(entry)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01
    path.write_bytes(bytes(data))
    fake = Recorder(ContractReport(ok=True, keys=["k_a"]), CriterionReport(passed=True))
    [result] = library.verify(validate=fake.validate, criterion_test=fake.criterion_test)
    assert not result.ok
    assert not result.sha_ok
    assert "modified" in result.failures[0]
    assert fake.validated == []  # tampered code is never executed


def test_verify_reports_contract_failures(library: Library) -> None:
    add(library, "k_a", "a")
    report = ContractReport(ok=False, keys=[], status="failed",
                            failures=[Failure("finite_values", "8x8 empty mask", "finite", "nan", line=4)])
    fake = Recorder(report, CriterionReport(passed=True))
    [result] = library.verify(validate=fake.validate, criterion_test=fake.criterion_test)
    assert not result.ok
    assert result.contract == "failed"
    assert "finite_values on 8x8 empty mask expected finite, got nan (line 4)" in " ".join(result.failures)
    assert result.criterion == "skipped"
    assert fake.tested == []


def test_verify_reports_changed_outputs_and_criterion_failures(library: Library) -> None:
    add(library, "k_a", "a")
    fake = Recorder(ContractReport(ok=True, keys=["other"]), CriterionReport(passed=True))
    [result] = library.verify(validate=fake.validate, criterion_test=fake.criterion_test)
    assert "outputs changed" in result.failures[0]
    fake = Recorder(ContractReport(ok=True, keys=["k_a"]),
                    CriterionReport(passed=False, rho=0.1, failures=["rho +0.10 < required 0.50"]))
    [result] = library.verify(validate=fake.validate, criterion_test=fake.criterion_test)
    assert (result.ok, result.criterion) == (False, "failed")
    assert result.failures == ["criterion vss/vascularity: rho +0.10 < required 0.50"]


def test_verify_active_entries_fully_others_by_hash_and_named(library: Library) -> None:
    add(library, "k_a", "a")
    add(library, "k_b", "b")
    add(library, "k_c", "c")
    library.deprecate("c")
    fake = Recorder(ContractReport(ok=True, keys=["k_a"]), CriterionReport(passed=True))
    results = library.verify(criterion_tests=False, validate=lambda s: ContractReport(True, [s.split("'")[1]]))
    # issue 12 item 4: the deprecated c@v1 is hash-checked too (no battery: it does not run)
    assert [r.label for r in results] == ["a@v1", "b@v1", "c@v1"]
    assert all(r.ok and r.criterion == "skipped" for r in results)
    assert [r.contract for r in results] == ["ok", "ok", "skipped"]
    assert [r.label for r in library.verify(["a"], validate=fake.validate, criterion_test=fake.criterion_test)] == ["a@v1"]
    with pytest.raises(LibraryError, match="no active extractor named 'c'"):
        library.verify(["c"])


def test_verify_records_a_crashing_validator_by_entry(library: Library) -> None:
    add(library, "k_a", "a")

    def broken(source: str) -> ContractReport:
        raise RuntimeError("seccomp unavailable")

    [result] = library.verify(validate=broken)
    assert not result.ok
    assert result.contract == "error"
    assert result.failures == ["contract battery could not run: RuntimeError: seccomp unavailable"]


def test_refresh_accepts_an_edited_criteria_file_only_if_it_still_passes(library: Library, criteria_dir: Path) -> None:
    entry = add(library, "k_red", "red", "vss/vascularity")
    vss = criteria_dir / "vss.yaml"
    vss.write_text(vss.read_text().replace("pink", "pink (light red)"))
    assert states(library) == {"red@v1": "stale"}
    failing = Recorder(ContractReport(ok=True, keys=["k_red"]), CriterionReport(passed=False, failures=["rho too low"]))
    with pytest.raises(LibraryError, match="does not pass against the edited vss.yaml: criterion vss/vascularity: rho too low"):
        library.refresh("red", validate=failing.validate, criterion_test=failing.criterion_test)
    assert states(library) == {"red@v1": "stale"}
    before = library.version_id
    passing = Recorder(ContractReport(ok=True, keys=["k_red"]), CriterionReport(passed=True))
    refreshed = library.refresh("red", validate=passing.validate, criterion_test=passing.criterion_test)
    assert refreshed.sha256 == entry.sha256  # the source is untouched
    assert states(library) == {"red@v1": "active"}
    assert library.version_id != before
    assert library.history[-1].action == "refresh"
