"""The versioned feature library: store API, manifest model, verification and diffs.

``Library.open()`` is the entry point (see docs/CONTRACTS.md, "Library"). Importing this
package never loads the sandbox or any LLM code.
"""

from scafe.library.manifest import CriterionRef, Entry, HistoryEvent, Manifest
from scafe.library.store import Library, atomic_write, sha256_text
from scafe.library.verify import StatusRow, VerifyResult

__all__ = [
    "CriterionRef",
    "Entry",
    "HistoryEvent",
    "Library",
    "Manifest",
    "StatusRow",
    "VerifyResult",
    "atomic_write",
    "sha256_text",
]
