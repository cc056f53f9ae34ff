"""Progress of the CLI: :mod:`scafe.progress` (the core uses it too; ``SCAFE_PROGRESS``)."""

from __future__ import annotations

from scafe.progress import DEFAULT_INTERVAL, LineProgress, iterate, progress_bar, progress_mode

__all__ = ["DEFAULT_INTERVAL", "LineProgress", "iterate", "progress_bar", "progress_mode"]
