"""The feature-library manifest (``feature_library/library.json``): its pydantic models.

One ``Entry`` is one immutable extractor version. The manifest's ``version_id`` is derived from
its entries, so it changes with every accepted change (a new version, an activation, a
deprecation) and two libraries with the same entries have the same id::

    version_id = sha256(canonical JSON of the entries)[:16]
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MANIFEST_FORMAT = "scafe-feature-library/1"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

Origin = Literal["reference", "generated"]
Status = Literal["active", "deprecated"]


def utc_now() -> str:
    """Current UTC time as ISO 8601 with seconds (what ``created`` and history use)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class CriterionRef(BaseModel):
    """Which criteria item an extractor measures, and the criteria file's hash at registration."""

    model_config = ConfigDict(extra="forbid")

    scale: str
    item: str
    file: str  # relative to the project root when possible, POSIX separators
    file_sha256: str

    @property
    def ref(self) -> str:
        """``"scale/item"``."""
        return f"{self.scale}/{self.item}"

    # dict-style access so callers can use the CONTRACTS.md shape `{scale, item, file, file_sha256}`
    def __getitem__(self, key: str) -> str:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return str(getattr(self, key))

    def get(self, key: str, default: Any = None) -> Any:
        """``dict.get`` for the same shape."""
        return getattr(self, key) if key in type(self).model_fields else default


class Entry(BaseModel):
    """One immutable extractor version in the library."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: int = Field(ge=1)
    path: str  # relative to the library directory, e.g. "extractors/rim_erythema/v1.py"
    sha256: str
    outputs: list[str] = Field(min_length=1)
    criterion: CriterionRef
    origin: Origin
    generator: dict[str, Any] | None = None
    validation: dict[str, Any] = Field(default_factory=dict)
    status: Status = "active"
    parent: int | None = None
    created: str = Field(default_factory=utc_now)

    @field_validator("name")
    @classmethod
    def _snake_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(f"extractor name {value!r} must be snake_case ([a-z][a-z0-9_]*)")
        return value

    @model_validator(mode="after")
    def _confined_path(self) -> Entry:
        # The path is derived, never free: a hand-edited "../x.py" or "/etc/passwd" must not be
        # read, hashed or run (issue 12, item 3). Symlinks are refused where the file is read.
        expected = f"extractors/{self.name}/v{self.version}.py"
        if self.path != expected:
            raise ValueError(
                f"entry {self.label} has path {self.path!r}; an extractor file must be {expected!r} "
                "inside the library folder"
            )
        return self

    @property
    def label(self) -> str:
        """``"name@vK"``, how the CLI names a version."""
        return f"{self.name}@v{self.version}"


class HistoryEvent(BaseModel):
    """One accepted change, kept so a reviewer can see why a version is (in)active."""

    model_config = ConfigDict(extra="forbid")

    time: str = Field(default_factory=utc_now)
    action: Literal["register", "activate", "deprecate", "refresh"]
    name: str
    version: int
    detail: str = ""


class Manifest(BaseModel):
    """The whole ``library.json``."""

    model_config = ConfigDict(extra="forbid")

    format: str = MANIFEST_FORMAT
    version_id: str = ""
    updated: str = ""
    entries: list[Entry] = Field(default_factory=list)
    history: list[HistoryEvent] = Field(default_factory=list)

    def compute_version_id(self) -> str:
        """``sha256`` of the canonical JSON of the entries (sorted by name, version), 16 hex digits.

        Sorted, so the id depends on the library's content only, not on the order of writes.
        """
        ordered = sorted(self.entries, key=lambda e: (e.name, e.version))
        payload = json.dumps([e.model_dump(mode="json") for e in ordered], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_json(self) -> str:
        """Stable, reviewable text (sorted entries, 2-space indent, trailing newline)."""
        self.entries.sort(key=lambda e: (e.name, e.version))
        return json.dumps(self.model_dump(mode="json"), indent=2) + "\n"
