"""What changed between two versions of an extractor: a unified source diff plus metadata.

This is what a reviewer reads before accepting a regenerated extractor (``scafe library diff``).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scafe.library.store import Library

# Fields that differ between any two versions by construction: not worth listing.
_ALWAYS_DIFFERENT = {"version", "path", "sha256", "created"}


@dataclass
class VersionDiff:
    """``source`` is a unified diff (empty if identical); ``metadata`` lists ``(field, old, new)``."""

    name: str
    old: int
    new: int
    source: str
    metadata: list[tuple[str, Any, Any]] = field(default_factory=list)

    def text(self) -> str:
        """Human-readable report: metadata changes first, then the source diff."""
        lines = [f"{self.name}: v{self.old} -> v{self.new}"]
        if self.metadata:
            lines.append("metadata:")
            for key, old, new in self.metadata:
                lines.append(f"  {key}: {_short(old)} -> {_short(new)}")
        else:
            lines.append("metadata: unchanged")
        lines.append(self.source.rstrip("\n") if self.source else "source: identical")
        return "\n".join(lines) + "\n"


def _short(value: Any, limit: int = 100) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def diff_versions(library: Library, name: str, old: int, new: int) -> VersionDiff:
    """Compare ``name@v<old>`` with ``name@v<new>`` (either order is allowed)."""
    entry_old, entry_new = library.get(name, old), library.get(name, new)
    src_old, src_new = library.source(entry_old), library.source(entry_new)
    source = "".join(
        difflib.unified_diff(
            src_old.splitlines(keepends=True),
            src_new.splitlines(keepends=True),
            fromfile=f"{entry_old.label} ({entry_old.path})",
            tofile=f"{entry_new.label} ({entry_new.path})",
        )
    )
    flat_old = _flatten(entry_old.model_dump(mode="json", exclude=_ALWAYS_DIFFERENT))
    flat_new = _flatten(entry_new.model_dump(mode="json", exclude=_ALWAYS_DIFFERENT))
    metadata = [
        (key, flat_old.get(key), flat_new.get(key))
        for key in sorted(set(flat_old) | set(flat_new))
        if flat_old.get(key) != flat_new.get(key)
    ]
    return VersionDiff(name=name, old=old, new=new, source=source, metadata=metadata)
