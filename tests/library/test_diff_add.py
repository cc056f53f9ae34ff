"""``diff`` between versions and ``validate_and_register`` (the ``library add`` path)."""

from __future__ import annotations

import pytest

from scafe.errors import LibraryError
from scafe.library import Library
from scafe.library.add import validate_and_register
from scafe.library.diff import diff_versions

from .conftest import extractor_source
from .doubles import ContractReport, CriterionReport, Failure, Recorder


def test_diff_shows_source_and_metadata(library: Library) -> None:
    library.register(extractor_source("k", 1.0), name="red", criterion="vss/vascularity", origin="reference",
                     outputs=["k"], validation={"criterion": {"rho": 0.61}})
    library.register(extractor_source("k", 2.0), name="red", criterion="vss/vascularity", origin="generated",
                     outputs=["k"], validation={"criterion": {"rho": 0.74}}, generator={"model": "m"})
    result = diff_versions(library, "red", 1, 2)
    assert "-    return {'k': float(1.0)}" in result.source
    assert "+    return {'k': float(2.0)}" in result.source
    assert "--- red@v1 (extractors/red/v1.py)" in result.source
    changed = {key: (old, new) for key, old, new in result.metadata}
    assert changed["origin"] == ("reference", "generated")
    assert changed["validation.criterion.rho"] == (0.61, 0.74)
    assert changed["status"] == ("deprecated", "active")
    assert changed["parent"] == (None, 1)
    text = result.text()
    assert text.startswith("red: v1 -> v2\nmetadata:\n")


def test_diff_of_a_version_with_itself(library: Library) -> None:
    library.register(extractor_source("k"), name="red", criterion="vss/vascularity", origin="reference", outputs=["k"])
    result = diff_versions(library, "red", 1, 1)
    assert result.source == ""
    assert result.metadata == []
    assert "source: identical" in result.text()


def test_add_registers_after_both_stages(library: Library) -> None:
    fake = Recorder(ContractReport(ok=True, keys=["k_main", "k_aux"]), CriterionReport(passed=True, output_key="k_main"))
    entry = validate_and_register(library, extractor_source("k_main"), name="red", criterion="vss/vascularity",
                                  validate=fake.validate, criterion_test=fake.criterion_test)
    assert (entry.origin, entry.status, entry.outputs) == ("reference", "active", ["k_main", "k_aux"])
    assert entry.validation["contract"]["keys"] == ["k_main", "k_aux"]
    assert entry.validation["criterion"]["output_key"] == "k_main"
    assert entry.validation["seconds"] >= 0


def test_add_refuses_contract_failure_with_report(library: Library) -> None:
    report = ContractReport(ok=False, keys=[], status="failed", failures=[Failure("deterministic", expected="equal", got="differs")])
    fake = Recorder(report, CriterionReport(passed=True))
    with pytest.raises(LibraryError, match=r"failed the contract battery \(failed\); not registered.\ndeterministic: expected equal, got differs"):
        validate_and_register(library, extractor_source("k"), name="red", criterion="vss/vascularity",
                              validate=fake.validate, criterion_test=fake.criterion_test)
    assert fake.tested == []
    assert library.entries() == []


def test_add_refuses_criterion_failure_with_report(library: Library) -> None:
    fake = Recorder(ContractReport(ok=True, keys=["k"]),
                    CriterionReport(passed=False, failures=["output 'k' does not track latent_central_delta_a"]))
    with pytest.raises(LibraryError, match=r"(?s)failed the criterion tests for vss/vascularity.*does not track"):
        validate_and_register(library, extractor_source("k"), name="red", criterion="vss/vascularity",
                              validate=fake.validate, criterion_test=fake.criterion_test)
    assert library.entries() == []


def test_add_refuses_unobservable_item_and_unknown_output_key(library: Library) -> None:
    fake = Recorder(ContractReport(ok=True, keys=["k"]), CriterionReport(passed=True))
    with pytest.raises(LibraryError, match="vss/pliability is not observable in a photograph"):
        validate_and_register(library, extractor_source("k"), name="soft", criterion="vss/pliability",
                              validate=fake.validate, criterion_test=fake.criterion_test)
    with pytest.raises(LibraryError, match="--output-key 'nope' is not among"):
        validate_and_register(library, extractor_source("k"), name="red", criterion="vss/vascularity",
                              output_key="nope", validate=fake.validate, criterion_test=fake.criterion_test)
