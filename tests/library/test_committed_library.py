"""CI gate: the committed ``feature_library/`` is consistent and every active entry verifies.

One test per active entry (hash, sandbox contract battery, criterion tests), so a broken or
tampered extractor fails CI by name. This is how ``.ci/run`` (plain ``pytest``) validates the
committed library; ``scafe library verify`` runs the same checks from the command line.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from scafe.library import Library
from scafe.library.verify import verify_entry

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = Library.open(ROOT / "feature_library", criteria_dir=ROOT / "prompts" / "criteria")
ACTIVE = LIBRARY.active()


def test_manifest_is_consistent() -> None:
    data = json.loads(LIBRARY.manifest_path.read_text(encoding="utf-8"))
    assert data["version_id"] == LIBRARY.version_id, "library.json was edited by hand: version_id is stale"
    labels = [e.label for e in LIBRARY.entries()]
    assert len(labels) == len(set(labels)), "a version appears twice"
    active_names = Counter(e.name for e in ACTIVE)
    assert all(n == 1 for n in active_names.values()), f"more than one active version: {active_names}"
    keys = Counter(k for e in ACTIVE for k in e.outputs)
    assert all(n == 1 for n in keys.values()), f"duplicate active output keys: {keys}"
    for entry in LIBRARY.entries():
        assert LIBRARY.file_path(entry).is_file(), f"{entry.label}: {entry.path} is not committed"


@pytest.mark.parametrize("entry", ACTIVE, ids=[e.label for e in ACTIVE])
def test_active_entry_verifies(entry) -> None:
    result = verify_entry(LIBRARY, entry)
    assert result.ok, f"{entry.label} failed verification:\n" + "\n".join(result.failures)


def test_no_active_entry_is_stale() -> None:
    """An edit of a criteria file (even a hint) must be followed by ``scafe library refresh`` of the
    active entries it grades, so that their registration records the criteria they passed."""
    from scafe.library.verify import library_status

    stale = [f"{row.name}@v{row.version}: {row.detail}" for row in library_status(LIBRARY)
             if row.status == "active" and row.state != "active"]
    assert stale == [], "\n".join(stale)
