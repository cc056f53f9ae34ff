"""Editing a criteria file from the studio: check, form edits, diff, atomic save.

The edited text is always the whole file. ``check_text`` validates it exactly as
``scafe criteria check`` does (``scafe.criteria.validate_criteria_file`` on a copy named like the
original, so messages read ``vss.yaml:23``; then ``scafe.prompting.check_templates``).
``apply_form`` changes one item's fields with ruamel.yaml's round-trip loader, which keeps the
file's comments, key order and block-scalar styles. ``save_text`` refuses a file changed on disk
since the page loaded it and a text that does not validate, then writes atomically
(``scafe.library.store.atomic_write``: temp file, fsync, rename).
"""

from __future__ import annotations

import difflib
import hashlib
import io
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scafe.errors import CriteriaError, UsageError

# Item fields the form edits; anything else (e.g. a test specification) is edited as YAML.
FORM_FIELDS = ("name", "definition", "measurement_hint", "unobservable_reason")
_SAVE_LOCK = threading.Lock()  # saves from concurrent requests one at a time (check, then write)


@dataclass
class CheckResult:
    """Problems (same messages as ``scafe criteria check``), the parsed file when valid, the diff."""

    problems: list[str]
    criteria: Any = None  # scafe.criteria.CriteriaFile of the edited text, when valid
    diff: list[tuple[str, str]] = field(default_factory=list)  # (kind, line) with kind in + - @ ' '

    @property
    def ok(self) -> bool:
        """True when the text validates and every template renders."""
        return not self.problems


def sha256_text(text: str) -> str:
    """SHA-256 of the UTF-8 bytes (what ``scafe.criteria`` records for the file)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def criteria_path(criteria_dir: Path, scale: str) -> Path:
    """``<criteria_dir>/<scale>.yaml`` for an existing scale; ``UsageError`` otherwise."""
    from scafe.criteria import criteria_files

    files = {p.stem: p for p in criteria_files(directory=criteria_dir)}
    if scale not in files:
        raise UsageError(f"No criteria file for scale {scale!r}; scales are: {', '.join(sorted(files))}.")
    return files[scale]


def diff_lines(old: str, new: str, name: str) -> list[tuple[str, str]]:
    """Unified diff of two texts as ``(kind, line)`` pairs for the page (escaped there)."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), f"{name} (on disk)",
                                     f"{name} (edited)", lineterm=""):
        kind = "@" if line.startswith("@@") else (line[:1] if line[:1] in "+-" else " ")
        if line.startswith(("+++", "---")):
            kind = "h"
        out.append((kind, line))
    return out


def check_text(text: str, path: Path, root: Path) -> CheckResult:
    """Validate ``text`` as the content of ``path`` (messages name ``path.name`` and lines)."""
    from scafe.criteria import validate_criteria_file

    with tempfile.TemporaryDirectory(prefix="scafe-studio-") as tmp:
        copy = Path(tmp) / path.name
        copy.write_text(text, encoding="utf-8")
        criteria, problems = validate_criteria_file(copy)
    if criteria is not None:
        from scafe.prompting import check_templates

        problems = list(check_templates([criteria], root))
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    return CheckResult(problems=list(problems), criteria=criteria, diff=diff_lines(current, text, path.name))


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap lines the edit did not touch
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _styled(old: Any, new: str) -> Any:
    """``new`` in the scalar style of ``old`` (folded ``>-`` and literal ``|`` blocks stay blocks)."""
    from ruamel.yaml.scalarstring import (
        DoubleQuotedScalarString,
        FoldedScalarString,
        LiteralScalarString,
    )

    for style in (FoldedScalarString, LiteralScalarString, DoubleQuotedScalarString):
        if isinstance(old, style):
            return style(new)
    if "\n" in new or len(new) > 90:
        return FoldedScalarString(new)
    return new


def apply_form(text: str, item_id: str, fields: dict[str, Any]) -> str:
    """Set one item's fields in ``text`` and return the new text (comments kept).

    ``fields`` may hold the :data:`FORM_FIELDS` (strings; empty removes an optional one),
    ``observable_in_photo`` (bool), ``anchors`` (``{score: text}``) and ``ground_truth``
    (``{column, direction, min_rho, max_nuisance_rho}``; empty values are left out).
    """
    yaml = _yaml()
    try:
        document = yaml.load(text)
    except Exception as exc:  # ruamel raises many error types for broken YAML
        raise CriteriaError(f"the YAML does not parse, so the form cannot change it: {exc}; fix it in the YAML tab") from None
    items = document.get("items") if hasattr(document, "get") else None
    target = next((it for it in items or [] if hasattr(it, "get") and it.get("id") == item_id), None)
    if target is None:
        raise CriteriaError(f"no item with id {item_id!r} in this file; the form edits existing items only")
    for key in FORM_FIELDS:
        if key not in fields:
            continue
        value = str(fields[key] or "").strip()
        if value:
            target[key] = _styled(target.get(key), value)
        elif key in target and key != "name":
            del target[key]
    if "observable_in_photo" in fields:
        target["observable_in_photo"] = bool(fields["observable_in_photo"])
    if isinstance(fields.get("anchors"), dict):
        _set_anchors(target, fields["anchors"])
    if isinstance(fields.get("ground_truth"), dict):
        _set_ground_truth(target, fields["ground_truth"])
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _set_anchors(target: Any, anchors: dict[str, Any]) -> None:
    current = target.get("anchors")
    if current is None:
        return
    by_text = {str(k): k for k in current}
    for key, value in anchors.items():
        original = by_text.get(str(key))
        if original is not None and str(value).strip():
            current[original] = _styled(current[original], str(value).strip())


def _set_ground_truth(target: Any, values: dict[str, Any]) -> None:
    from scafe.criteria import GroundTruth

    gt = target.get("ground_truth")
    if gt is None:
        return
    for key in ("column", "direction", "min_rho"):  # nuisance bounds live per nuisance now (h11v)
        raw = values.get(key)
        if raw in (None, ""):
            continue
        if key in ("min_rho", "max_nuisance_rho"):
            try:
                value: Any = float(raw)
            except (TypeError, ValueError):
                value = raw  # validation names the bad value
            if key not in gt and value == GroundTruth.model_fields[key].default:
                continue  # the form shows the default; writing it out would be a change nobody made
            if gt.get(key) != value:
                gt[key] = value
        else:
            gt[key] = str(raw)


def save_text(path: Path, text: str, base_sha256: str, root: Path) -> CheckResult:
    """Write ``text`` to ``path`` if it validates and the file is unchanged since ``base_sha256``.

    Raises ``CriteriaError`` (the file changed on disk) or returns a failed ``CheckResult``.
    """
    with _SAVE_LOCK:
        return _save_locked(path, text, base_sha256, root)


def _save_locked(path: Path, text: str, base_sha256: str, root: Path) -> CheckResult:
    from scafe.library.store import atomic_write

    on_disk = sha256_text(path.read_text(encoding="utf-8"))
    if on_disk != base_sha256:
        raise CriteriaError(
            f"{path.name} was changed outside the studio since this page loaded it (sha256 "
            f"{base_sha256[:12]}… → {on_disk[:12]}…); reload the page to see the new text, then edit again"
        )
    result = check_text(text, path, root)
    if not result.ok:
        return result
    atomic_write(path, text.encode("utf-8"))
    return result
