"""``scafe studio``: a local web studio for clinicians (a face, like the CLI).

Pages: criteria (browse, edit as a form or as YAML with live validation, diff, atomic save that
keeps comments), prompt preview, stale extractors with background re-verification, extractors per
item (versions, provenance, validation, source, diff, scatter plot), a case gallery with feature
percentiles, predictions and TreeSHAP explanations, clinician grading with rank correlations, and
the segmentation judge.

Every figure, check and score comes from the core (``scafe.criteria``, ``scafe.prompting``,
``scafe.library``, ``scafe.criterion_tests``, ``scafe.extraction``, ``scafe.similar``,
``scafe.classifier``, ``scafe.judge``, ``scafe.report.figures``); this package only wires them to
pages. It never imports ``agents``. Generated extractor code is shown as text and runs only in the
sandbox (through ``scafe.extraction`` and ``scafe.library.verify``).

Access: the server binds 127.0.0.1 unless told otherwise, and every request needs the random
token printed at start (query ``?token=`` once, then an HttpOnly SameSite=Strict cookie).
"""

from __future__ import annotations

from scafe.studio.state import Studio, StudioConfig

__all__ = ["Studio", "StudioConfig", "create_app"]


def create_app(config: StudioConfig):  # noqa: ANN201 - starlette is imported lazily
    """The Starlette application for ``config`` (see :mod:`scafe.studio.app`)."""
    from scafe.studio.app import build_app

    return build_app(Studio(config))
