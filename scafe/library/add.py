"""Adding a hand-written (``reference``) extractor through the full validation cascade.

Order (cheap first, as in DESIGN.md): sandbox contract battery (``sandbox.validate``), then the
criterion tests on the validation phantoms; only a candidate passing both is registered, with
both reports stored in the entry's ``validation`` so ``verify`` and reviewers can compare.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from scafe.errors import LibraryError
from scafe.library.manifest import Entry
from scafe.library.store import Library


def _to_dict(report: Any) -> dict[str, Any]:
    return dict(report.to_dict()) if hasattr(report, "to_dict") else {}


def validate_and_register(
    library: Library,
    source: str,
    *,
    name: str,
    criterion: str,
    origin: str = "reference",
    output_key: str | None = None,
    activate: bool = True,
    generator: dict[str, Any] | None = None,
    validate: Callable[[str], Any] | None = None,
    criterion_test: Callable[..., Any] | None = None,
) -> Entry:
    """Validate ``source`` for ``criterion`` (``"scale/item"``) and register it; raise otherwise.

    Raises ``LibraryError`` carrying the failing stage's report (``repair_text()``) when the
    contract battery or the criterion tests fail, and when the item is not observable in a photo.
    """
    from scafe.criteria import find_item

    _, item = find_item(criterion, directory=library.criteria_dir)  # fail fast on a bad reference
    if not item.observable_in_photo or item.ground_truth is None:
        raise LibraryError(
            f"{criterion} is not observable in a photograph ({item.unobservable_reason}); "
            "no extractor can be validated for it"
        )
    if validate is None:
        from sandbox import validate as sandbox_validate

        validate = sandbox_validate
    if criterion_test is None:
        from scafe.criterion_tests import run_criterion_tests

        criterion_test = run_criterion_tests

    start = time.perf_counter()
    contract = validate(source)
    if not contract.ok:
        raise LibraryError(
            f"{name!r} failed the contract battery ({getattr(contract, 'status', 'failed')}); not registered.\n"
            f"{contract.repair_text()}"
        )
    keys = list(contract.keys)
    if output_key is not None and output_key not in keys:
        raise LibraryError(f"--output-key {output_key!r} is not among the extractor's outputs {keys}")
    tested = criterion_test(source, item, output_key=output_key)
    if not tested.passed:
        raise LibraryError(
            f"{name!r} failed the criterion tests for {criterion}; not registered.\n{tested.repair_text()}"
        )
    validation = {
        "contract": {**_to_dict(contract), "keys": keys},
        "criterion": {**_to_dict(tested), "output_key": getattr(tested, "output_key", None) or output_key},
        "seconds": round(time.perf_counter() - start, 3),
    }
    return library.register(
        source, name=name, criterion=criterion, origin=origin,  # type: ignore[arg-type]
        generator=generator, validation=validation, activate=activate, outputs=keys,
    )  # fmt: skip
