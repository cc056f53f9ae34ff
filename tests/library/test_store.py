"""The store: versions, immutability, no-op re-registration, activation, key uniqueness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scafe.errors import LibraryError
from scafe.library import Library, sha256_text

from .conftest import extractor_source


def register(library: Library, key: str = "red_delta_a", *, name: str = "redness", value: float = 1.0,
             activate: bool = True, criterion: str = "vss/vascularity"):
    return library.register(
        extractor_source(key, value), name=name, criterion=criterion, origin="reference",
        validation={"contract": {"keys": [key], "status": "ok"}}, activate=activate,
    )


def test_empty_library_has_no_entries(library: Library) -> None:
    assert library.entries() == []
    assert library.active() == []
    assert not library.manifest_path.exists()


def test_register_writes_file_and_manifest(library: Library, criteria_dir: Path) -> None:
    entry = register(library)
    assert (entry.name, entry.version, entry.status, entry.parent) == ("redness", 1, "active", None)
    assert entry.path == "extractors/redness/v1.py"
    assert library.source(entry) == extractor_source("red_delta_a")
    assert entry.sha256 == sha256_text(extractor_source("red_delta_a"))
    assert entry.outputs == ["red_delta_a"]
    assert entry.criterion.ref == "vss/vascularity"
    assert entry.criterion["scale"] == "vss"
    assert entry.criterion.get("item") == "vascularity"
    assert entry.criterion.get("nope", "-") == "-"
    reopened = Library.open(library.path, criteria_dir=criteria_dir)
    assert [e.label for e in reopened.entries()] == ["redness@v1"]
    data = json.loads(library.manifest_path.read_text())
    assert data["version_id"] == reopened.version_id
    assert data["history"][0]["action"] == "register"


def test_criterion_file_hash_is_recorded(library: Library, criteria_dir: Path) -> None:
    import hashlib

    entry = register(library)
    assert entry.criterion.file_sha256 == hashlib.sha256((criteria_dir / "vss.yaml").read_bytes()).hexdigest()


def test_identical_source_twice_is_a_noop(library: Library) -> None:
    first = register(library)
    version_id = library.version_id
    manifest_bytes = library.manifest_path.read_bytes()
    again = register(library)
    assert again == first
    assert library.version_id == version_id
    assert library.manifest_path.read_bytes() == manifest_bytes


def test_new_version_never_overwrites_and_deprecates_previous(library: Library) -> None:
    v1 = register(library, value=1.0)
    id1 = library.version_id
    v2 = register(library, value=2.0)
    assert (v2.version, v2.parent, v2.status) == (2, 1, "active")
    assert library.get("redness", 1).status == "deprecated"
    assert library.source(v1) == extractor_source("red_delta_a", 1.0)  # untouched
    assert library.version_id != id1
    assert [e.name for e in library.active()] == ["redness"]
    actions = [(h.action, h.version) for h in library.history]
    assert ("deprecate", 1) in actions


def test_activate_switches_the_active_version_and_records_it(library: Library) -> None:
    register(library, value=1.0)
    register(library, value=2.0)
    before = library.version_id
    library.activate("redness", 1)
    assert [e.label for e in library.active()] == ["redness@v1"]
    assert library.get("redness", 2).status == "deprecated"
    assert library.version_id != before
    assert library.history[-1].action == "activate"
    assert "v1 activated" in library.history[-2].detail
    library.deprecate("redness")
    assert library.active() == []
    assert library.get("redness").version == 2  # no active one: the newest


def test_register_inactive(library: Library) -> None:
    register(library, value=1.0)
    candidate = register(library, value=3.0, activate=False)
    assert candidate.status == "deprecated"
    assert library.get("redness").version == 1


def test_two_active_extractors_may_emit_the_same_key(library: Library) -> None:
    """Issue 11: columns are namespaced, so a shared key is no longer a clash."""
    register(library, "shared_key", name="first")
    register(library, "shared_key", name="second")
    register(library, "shared_key", name="third", activate=False)
    library.activate("third", 1)
    assert [e.label for e in library.active()] == ["first@v1", "second@v1", "third@v1"]
    assert sorted(library.features()) == ["first.shared_key", "second.shared_key", "third.shared_key"]


@pytest.mark.parametrize("bad", ["Redness", "red-ness", "1red", "red ness", ""])
def test_names_must_be_snake_case(library: Library, bad: str) -> None:
    with pytest.raises(LibraryError, match="snake_case"):
        register(library, name=bad)


def test_outputs_required_and_validated(library: Library) -> None:
    with pytest.raises(LibraryError, match="no output keys"):
        library.register(extractor_source("a"), name="a", criterion="vss/vascularity", origin="reference")
    with pytest.raises(LibraryError, match="unique snake_case"):
        library.register(extractor_source("a"), name="a", criterion="vss/vascularity", origin="reference",
                         outputs=["a", "a"])
    with pytest.raises(LibraryError, match="origin 'llm'"):
        library.register(extractor_source("a"), name="a", criterion="vss/vascularity", origin="llm", outputs=["a"])  # type: ignore[arg-type]


def test_unknown_criterion_is_refused(library: Library) -> None:
    from scafe.errors import CriteriaError

    with pytest.raises(CriteriaError, match="did you mean 'vascularity'"):
        register(library, criterion="vss/vascularty")
    assert library.entries() == []


def test_get_errors_name_the_fix(library: Library) -> None:
    register(library)
    with pytest.raises(LibraryError, match="did you mean 'redness'"):
        library.get("rednes")
    with pytest.raises(LibraryError, match="has no version v7; it has v1"):
        library.get("redness", 7)


def test_corrupt_manifest_is_a_clear_error(library: Library) -> None:
    register(library)
    library.manifest_path.write_text("{not json")
    with pytest.raises(LibraryError, match="not valid JSON.*git checkout"):
        Library.open(library.path)
    library.manifest_path.write_text(json.dumps({"format": "x", "entries": [{"name": "a"}]}))
    with pytest.raises(LibraryError, match="does not match the manifest format at entries.0"):
        Library.open(library.path)


def test_features_maps_keys_to_entries(library: Library) -> None:
    register(library, "k_one", name="one")
    register(library, "k_two", name="two")
    assert {k: e.name for k, e in library.features().items()} == {"one.k_one": "one", "two.k_two": "two"}


def test_lock_held_elsewhere_gives_a_clear_error(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import FileLock

    from scafe.library import store

    monkeypatch.setattr(store, "LOCK_TIMEOUT_S", 0.2)
    library.path.mkdir(parents=True)
    with FileLock(str(library.path / store.LOCK_NAME)), pytest.raises(LibraryError, match="is locked by another process"):
        register(library)
    assert library.entries() == []
    register(library)  # released: works again


def test_manifest_text_is_sorted_and_stable(library: Library) -> None:
    register(library, "k_b", name="bbb")
    register(library, "k_a", name="aaa")
    data = json.loads(library.manifest_path.read_text())
    assert [e["name"] for e in data["entries"]] == ["aaa", "bbb"]
    assert library.manifest_path.read_text().endswith("}\n")


def test_version_id_reflects_hand_edits(library: Library) -> None:
    register(library)
    data = json.loads(library.manifest_path.read_text())
    data["entries"][0]["outputs"] = ["edited"]
    library.manifest_path.write_text(json.dumps(data))
    assert Library.open(library.path).version_id != data["version_id"]


def test_stored_version_id_matches_read_back_in_any_order(tmp_path: Path, criteria_dir: Path) -> None:
    # regression: the id was hashed before the entries were sorted for writing
    for order in (("aaa", "bbb"), ("bbb", "aaa")):
        lib = Library.open(tmp_path / "-".join(order), criteria_dir=criteria_dir)
        for name in order:
            register(lib, f"k_{name}", name=name)
        stored = json.loads(lib.manifest_path.read_text())["version_id"]
        assert stored == Library.open(lib.path).version_id  # what is written is what is read back
