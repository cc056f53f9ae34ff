"""The versioned feature-library store: ``library.json`` + ``extractors/<name>/v<k>.py``.

Guarantees (DESIGN.md, "The feature library"):

- *Immutable versions*: a registered version's file is never rewritten; a new source for the same
  name becomes version k+1 (its ``parent`` is the version it replaces). Registering a source that
  is byte-identical to an existing version of that name is a no-op returning that entry.
- *Atomic*: every file is written to a temporary file in the same directory, fsync'ed, then
  ``os.replace``'d; the manifest is replaced last, so a process killed at any point leaves the
  previous manifest (and hence the previous library) intact. An extractor file written before a
  kill is an unreferenced orphan, overwritten by the next registration of that version.
- *Locked*: a ``filelock`` around read-modify-write, so concurrent registrations serialise and
  both land in the manifest. Readers need no lock (they only ever see a whole manifest).
- *One active version per name*, output keys unique across the active library.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import ValidationError

from scafe import paths
from scafe.errors import LibraryError
from scafe.library.manifest import (
    NAME_PATTERN,
    CriterionRef,
    Entry,
    HistoryEvent,
    Manifest,
    Origin,
    utc_now,
)

MANIFEST_NAME = "library.json"
LOCK_NAME = ".lock"
LOCK_TIMEOUT_S = 120.0
# Test hook: "<point>:<seconds>" sleeps at a named point of a write, so a test can SIGKILL a
# process mid-registration. Points: "after_source" (extractor file written, manifest not yet),
# "before_replace" (new manifest in its temp file, not yet renamed), "in_lock" (lock held).
TEST_PAUSE_ENV = "SCAFE_LIBRARY_TEST_PAUSE"
#: Larger extractor files or manifests are refused unread (a module of a few kB is normal).
MAX_EXTRACTOR_BYTES = 1 << 20
MAX_MANIFEST_BYTES = 32 << 20


def _test_pause(point: str) -> None:
    spec = os.environ.get(TEST_PAUSE_ENV, "")
    name, _, seconds = spec.partition(":")
    if name == point:
        time.sleep(float(seconds or 1))


def sha256_text(source: str) -> str:
    """SHA-256 (hex) of ``source`` encoded as UTF-8: exactly the bytes written to disk."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def atomic_write(path: Path, data: bytes, *, pause_point: str | None = None) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # a unique name per call: two threads (or processes) writing the same path never share a temp file
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if pause_point:
        _test_pause(pause_point)
    os.replace(tmp, path)
    # fsync the directory so the rename itself survives a power loss (POSIX only)
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Library:
    """A feature library directory. Use ``Library.open()``."""

    def __init__(self, path: Path, manifest: Manifest, *, criteria_dir: Path | None = None) -> None:
        self.path = path
        self._manifest = manifest
        self._criteria_dir = criteria_dir

    # ------------------------------------------------------------------ opening and reading

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, criteria_dir: Path | None = None) -> Library:
        """Open the library at ``path`` (default ``scafe.paths.library_dir()``).

        A directory without ``library.json`` is an empty library (created on first write).
        ``criteria_dir`` is where ``scale/item`` references are resolved (default
        ``<project root>/prompts/criteria``).
        """
        root = Path(path).expanduser().resolve() if path is not None else paths.library_dir()
        if root.exists() and not root.is_dir():
            raise LibraryError(f"library path {str(root)!r} is a file; pass the feature_library directory")
        return cls(root, _read_manifest(root / MANIFEST_NAME), criteria_dir=criteria_dir)

    @property
    def manifest_path(self) -> Path:
        """``<library>/library.json``."""
        return self.path / MANIFEST_NAME

    @property
    def criteria_dir(self) -> Path:
        """Where criteria files are looked up."""
        return self._criteria_dir or paths.criteria_dir()

    @property
    def version_id(self) -> str:
        """Identifier of the library state; changes with every accepted change.

        Always recomputed from the entries (not read from the file), so a hand-edited manifest
        cannot keep an old id; ``test_committed_library`` checks the stored one matches.
        """
        return self._manifest.compute_version_id()

    @property
    def history(self) -> list[HistoryEvent]:
        """Accepted changes, oldest first."""
        return list(self._manifest.history)

    def reload(self) -> Library:
        """Re-read the manifest from disk (another process may have changed it)."""
        self._manifest = _read_manifest(self.manifest_path)
        return self

    def entries(self) -> list[Entry]:
        """Every version, sorted by name then version."""
        return sorted(self._manifest.entries, key=lambda e: (e.name, e.version))

    def active(self) -> list[Entry]:
        """The active versions (at most one per name), sorted by name."""
        return [e for e in self.entries() if e.status == "active"]

    def get(self, name: str, version: int | None = None) -> Entry:
        """Version ``version`` of ``name``; without it the active one, else the newest."""
        versions = [e for e in self._manifest.entries if e.name == name]
        if not versions:
            import difflib

            names = sorted({e.name for e in self._manifest.entries})
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "run `scafe library list` to see the names"
            raise LibraryError(f"no extractor named {name!r} in {str(self.path)!r}; {hint}")
        if version is None:
            active = [e for e in versions if e.status == "active"]
            return active[0] if active else max(versions, key=lambda e: e.version)
        for entry in versions:
            if entry.version == version:
                return entry
        have = ", ".join(f"v{e.version}" for e in sorted(versions, key=lambda e: e.version))
        raise LibraryError(f"{name!r} has no version v{version}; it has {have}")

    def file_path(self, entry: Entry) -> Path:
        """Absolute path of an entry's source file."""
        return self.path / entry.path

    def source(self, entry: Entry) -> str:
        """The entry's source text, refused unless its bytes match the registered ``sha256``.

        This is the one place every use of an extractor gets its code from (extract, the
        transformer, demo, evaluate, similar, generate's usefulness, show): the file is opened
        without following symlinks, hashed, and the text of exactly those bytes is returned.
        """
        return self.read_checked(entry).decode("utf-8", errors="strict")

    def read_checked(self, entry: Entry) -> bytes:
        """Bytes of the entry's file after the layout, symlink and hash checks; ``LibraryError`` otherwise."""
        data, problem = self._read(entry)
        if problem is not None or data is None:
            raise LibraryError(f"extractor {entry.label} refused: {problem}")
        return data

    def file_problem(self, entry: Entry) -> tuple[str | None, str]:
        """``(state, detail)``: ``("missing file" | "modified" | "unsafe path", why)`` or ``(None, "")``."""
        data, problem = self._read(entry)
        if problem is None:
            return None, ""
        if data is None and "does not exist" in problem:
            return "missing file", problem
        return ("modified" if data is not None else "unsafe path"), problem

    def _read(self, entry: Entry) -> tuple[bytes | None, str | None]:
        """Read the entry's file safely: ``(bytes, None)``, or ``(bytes or None, problem)``."""
        verify_hint = "run `scafe library verify` to see every affected entry"
        if entry.path != f"extractors/{entry.name}/v{entry.version}.py":  # also checked by the model
            return None, f"path {entry.path!r} is not extractors/{entry.name}/v{entry.version}.py; {verify_hint}"
        # no component below the library folder may be a symlink (a link could point anywhere)
        current = self.path
        for part in Path(entry.path).parts:
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                return None, (f"{entry.path} does not exist in {str(self.path)!r}; restore it from git "
                              f"or deprecate {entry.label}")
            if stat.S_ISLNK(info.st_mode):
                return None, (f"{current.relative_to(self.path).as_posix()} is a symlink; extractor files must "
                              f"be regular files inside the library folder; {verify_hint}")
        if not stat.S_ISREG(info.st_mode):
            return None, f"{entry.path} is not a regular file; {verify_hint}"
        try:
            fd = os.open(current, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            return None, f"{entry.path} cannot be opened ({exc.strerror}); {verify_hint}"
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_EXTRACTOR_BYTES + 1)
        if len(data) > MAX_EXTRACTOR_BYTES:
            return None, f"{entry.path} is larger than {MAX_EXTRACTOR_BYTES} bytes; {verify_hint}"
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry.sha256:
            return data, (
                f"{entry.path} sha256 {digest[:12]}… differs from the registered {entry.sha256[:12]}… (the file was "
                "edited after registration; registered versions are immutable: restore the file, or register the "
                f"edit as a new version); {verify_hint}"
            )
        return data, None

    def leftovers(self) -> list[Path]:
        """Temporary files a killed write left behind (``.library.json.<pid>.tmp`` and the like).

        Cleaned by the next write under the lock; ``scafe library status`` lists them meanwhile.
        """
        found = list(self.path.glob(f".{MANIFEST_NAME}.*.tmp"))
        found += list((self.path / "extractors").glob("*/.v*.py.*.tmp"))
        return sorted(p for p in found if p.is_file() or p.is_symlink())

    def orphans(self) -> list[Path]:
        """Extractor files on disk that no entry references (a killed write, or not yet registered)."""
        registered = {e.path for e in self._manifest.entries}
        found = sorted((self.path / "extractors").glob("*/v*.py"))
        return [p for p in found if p.relative_to(self.path).as_posix() not in registered] + self.leftovers()

    def features(self) -> dict[str, Entry]:
        """Map every active feature column (``<extractor>.<key>``, namespaced) to its entry.

        Keys never clash: two extractors emitting the same key are two columns (issue 11).
        """
        from scafe.extraction.table import column_name

        return {column_name(entry.name, key): entry for entry in self.active() for key in entry.outputs}

    # ------------------------------------------------------------------ writing

    @contextmanager
    def _transaction(self) -> Iterator[Manifest]:
        """Lock, re-read the manifest, let the caller change it, write it atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path / LOCK_NAME), timeout=LOCK_TIMEOUT_S)
        try:
            with lock:
                _test_pause("in_lock")
                for leftover in self.leftovers():  # under the lock, every temp file is a dead write's
                    leftover.unlink(missing_ok=True)
                manifest = _read_manifest(self.manifest_path)
                before = manifest.compute_version_id()
                yield manifest
                stored_ok = manifest.version_id == manifest.compute_version_id()
                if manifest.compute_version_id() != before or not stored_ok or not self.manifest_path.exists():
                    manifest.version_id = manifest.compute_version_id()
                    manifest.updated = utc_now()
                    atomic_write(self.manifest_path, manifest.to_json().encode(), pause_point="before_replace")
                self._manifest = manifest
        except Timeout:
            raise LibraryError(
                f"library {str(self.path)!r} is locked by another process for more than {LOCK_TIMEOUT_S:.0f} s; "
                "wait for it and retry (the OS releases the lock when that process exits, even if killed)"
            ) from None

    def register(
        self,
        source: str,
        *,
        name: str,
        criterion: str,
        origin: Origin,
        generator: dict[str, Any] | None = None,
        validation: dict[str, Any] | None = None,
        activate: bool = True,
        outputs: list[str] | None = None,
    ) -> Entry:
        """Add ``source`` as the next version of ``name`` and return its entry.

        Does not validate the code: callers run the cascade first (``scafe.library.add`` for
        reference extractors, the engineer graph for generated ones); ``verify`` re-checks later.

        Parameters
        ----------
        source : str
            Extractor module text; stored byte-for-byte (UTF-8) and hashed with SHA-256.
        name : str
            snake_case extractor name; versions of one name form a lineage (``parent``).
        criterion : str
            ``"scale/item"``; the criteria file's SHA-256 is recorded for staleness.
        origin : {"reference", "generated"}
            Written by the project's authors, or by an LLM through ``scafe generate``.
        generator, validation : dict, optional
            Provenance (provider, model, prompt hash, ...) and the validation reports.
        activate : bool
            Make the new version active, deprecating the previously active one.
        outputs : list of str, optional
            Output keys; default ``validation["contract"]["keys"]``.

        Returns
        -------
        Entry
            The new entry, or the existing one when ``source`` is byte-identical to a version of
            ``name`` (no-op, nothing written).

        Raises
        ------
        LibraryError
            Bad name/origin/outputs, or the lock held elsewhere for more than ``LOCK_TIMEOUT_S``.
        CriteriaError
            ``criterion`` does not resolve.
        """
        from scafe.criteria import find_item

        if not NAME_PATTERN.match(name):
            raise LibraryError(f"extractor name {name!r} must be snake_case ([a-z][a-z0-9_]*), e.g. 'rim_erythema'")
        if origin not in ("reference", "generated"):
            raise LibraryError(f"origin {origin!r} must be 'reference' or 'generated'")
        validation = dict(validation or {})
        keys = outputs or validation.get("contract", {}).get("keys") or validation.get("keys")
        if not keys:
            raise LibraryError(f"no output keys for {name!r}: pass outputs=[...] or validation['contract']['keys']")
        keys = [str(k) for k in keys]
        bad = [k for k in keys if not NAME_PATTERN.match(k)]
        if bad or len(set(keys)) != len(keys):
            raise LibraryError(f"output keys of {name!r} must be unique snake_case strings; got {keys}")
        criteria, item = find_item(criterion, directory=self.criteria_dir)
        ref = CriterionRef(
            scale=criteria.scale, item=item.id, file=_relative_to_root(criteria.path), file_sha256=criteria.sha256
        )
        digest = sha256_text(source)
        with self._transaction() as manifest:
            same_name = [e for e in manifest.entries if e.name == name]
            for existing in same_name:
                if existing.sha256 == digest:
                    return existing  # identical source: registering twice is a no-op
            previous = next((e for e in same_name if e.status == "active"), None)
            version = 1 + max((e.version for e in same_name), default=0)
            entry = Entry(
                name=name, version=version, path=f"extractors/{name}/v{version}.py", sha256=digest,
                outputs=keys, criterion=ref, origin=origin, generator=generator, validation=validation,
                status="active" if activate else "deprecated",
                parent=previous.version if previous else (version - 1 if same_name else None),
            )  # fmt: skip
            # the extractor file first, the manifest last: a kill in between leaves an orphan file
            atomic_write(self.path / entry.path, source.encode("utf-8"))
            _test_pause("after_source")
            manifest.entries.append(entry)
            manifest.history.append(HistoryEvent(action="register", name=name, version=version, detail=origin))
            if activate and previous is not None:
                previous.status = "deprecated"
                manifest.history.append(
                    HistoryEvent(action="deprecate", name=name, version=previous.version, detail=f"replaced by v{version}")
                )
        return entry

    def activate(self, name: str, version: int) -> Entry:
        """Make ``name@v<version>`` the active version (deprecating the currently active one)."""
        self.get(name, version)  # clear error before taking the lock
        with self._transaction() as manifest:
            target = next(e for e in manifest.entries if e.name == name and e.version == version)
            if target.status == "active":
                return target
            self.read_checked(target)  # a tampered old version must never become active again
            for other in manifest.entries:
                if other.name == name and other.status == "active":
                    other.status = "deprecated"
                    manifest.history.append(
                        HistoryEvent(action="deprecate", name=name, version=other.version, detail=f"v{version} activated")
                    )
            target.status = "active"
            manifest.history.append(HistoryEvent(action="activate", name=name, version=version))
        return target

    def deprecate(self, name: str, version: int | None = None) -> Entry:
        """Deprecate ``name@v<version>`` (default: the active version of ``name``)."""
        entry = self.get(name, version)
        with self._transaction() as manifest:
            target = next(e for e in manifest.entries if e.name == name and e.version == entry.version)
            if target.status != "deprecated":
                target.status = "deprecated"
                manifest.history.append(HistoryEvent(action="deprecate", name=name, version=target.version))
        return target

    def refresh(self, name: str, version: int | None = None, **verify_kwargs: Any) -> Entry:
        """Accept an edited criteria file for ``name``: re-verify, then record the file's new hash.

        The entry is *stale* after its criteria file changed; if the unchanged source still passes
        the hash check, the contract battery and the criterion tests against the *current* item,
        the new ``file_sha256`` is recorded (history action ``refresh``). Otherwise
        ``LibraryError`` lists the failures: regenerate the extractor instead.
        """
        from scafe.criteria import find_item
        from scafe.library.verify import verify_entry

        entry = self.get(name, version)
        criteria, _ = find_item(entry.criterion.ref, directory=self.criteria_dir)
        if criteria.sha256 == entry.criterion.file_sha256:
            return entry  # not stale: nothing to accept
        result = verify_entry(self, entry, **verify_kwargs)
        if not result.ok:
            raise LibraryError(
                f"{entry.label} does not pass against the edited {criteria.path.name}: "
                + "; ".join(result.failures) + "; regenerate it (`scafe generate`) or add a new version"
            )
        with self._transaction() as manifest:
            target = next(e for e in manifest.entries if e.name == name and e.version == entry.version)
            old = target.criterion.file_sha256
            target.criterion = target.criterion.model_copy(update={"file_sha256": criteria.sha256})
            manifest.history.append(HistoryEvent(
                action="refresh", name=name, version=entry.version,
                detail=f"{criteria.path.name} {old[:12]} -> {criteria.sha256[:12]}, re-verified",
            ))  # fmt: skip
        return target

    def rewrite(self) -> None:
        """Rewrite the manifest under the lock (canonical order, stored ``version_id`` recomputed)."""
        with self._transaction():
            pass

    # ------------------------------------------------------------------ checks (see verify.py)

    def verify(self, names: list[str] | None = None, **kwargs: Any) -> list[Any]:
        """Re-check every active entry; see ``scafe.library.verify.verify_library``."""
        from scafe.library.verify import verify_library

        return verify_library(self, names=names, **kwargs)

    def status(self) -> list[Any]:
        """One row per entry: active / deprecated / stale / missing; see ``scafe.library.verify``."""
        from scafe.library.verify import library_status

        return library_status(self)


def _relative_to_root(path: Path) -> str:
    try:
        return path.resolve().relative_to(paths.project_root()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _read_manifest(path: Path) -> Manifest:
    if not path.exists():
        return Manifest()
    fix = f"restore it with `git checkout -- {path.name}`"
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise LibraryError(f"{str(path)!r} is {size} bytes, more than the {MAX_MANIFEST_BYTES} a manifest may be; {fix}")
        data = json.loads(path.read_bytes().decode("utf-8"))
        manifest = Manifest.model_validate(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LibraryError(f"{str(path)!r} is not valid JSON ({exc}); {fix}") from None
    except RecursionError:
        raise LibraryError(f"{str(path)!r} is nested too deeply to be a library manifest; {fix}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ").splitlines()[0][:300]
        raise LibraryError(f"{str(path)!r} does not match the manifest format at {where}: {message}") from None
    except OSError as exc:
        raise LibraryError(f"{str(path)!r} cannot be read ({exc.strerror})") from None
    return manifest
