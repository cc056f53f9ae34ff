"""Library pages: extractors per item (versions, provenance, validation, source, diff, scatter) and
stale entries (re-run the criterion tests as a background job, then accept = ``Library.refresh``).

Verification is ``scafe.library.verify.verify_entry`` (hash, sandbox battery, criterion tests)
with progress hooks around the same ``sandbox.validate`` and ``run_criterion_tests`` it would
call. Accepting passes those just-computed reports to ``Library.refresh`` only when the source
hash and the criteria file hash are still the ones they were computed for; otherwise refresh
re-runs them.
"""

from __future__ import annotations

import html
import threading
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scafe.errors import ScafeError, UsageError
from scafe.studio.web import json_body, json_error, page, refuse_if_read_only

_REPORTS: dict[tuple[str, str], tuple[Any, Any]] = {}  # (source sha, criteria sha) -> (contract, criterion)
_REPORTS_LOCK = threading.Lock()


def _studio(request: Request) -> Any:
    return request.app.state.studio


def highlight(source: str) -> str:
    """Extractor source as escaped, highlighted HTML (Pygments escapes every character it emits)."""
    from pygments import highlight as pyg_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return pyg_highlight(source, PythonLexer(), HtmlFormatter(nowrap=False, cssclass="src", linenos="table"))


def extractors_page(request: Request) -> Response:
    """Every extractor version serving one criterion item."""
    from scafe.library.diff import diff_versions

    studio = _studio(request)
    scale, item_id = request.path_params["scale"], request.path_params["item"]
    ref = f"{scale}/{item_id}"
    library = studio.library()
    states = {row.label: row for row in studio.status()}
    entries = [e for e in library.entries() if e.criterion.ref == ref]
    names = sorted({e.name for e in entries})
    chosen = request.query_params.get("show", "")
    selected = next((e for e in entries if e.label == chosen), None)
    if selected is None and entries:
        selected = next((e for e in entries if e.status == "active"), entries[-1])
    source_html = ""
    diff_or_error: Any = None  # a VersionDiff, or the error text
    if selected is not None:
        try:
            source_html = highlight(library.source(selected))
        except ScafeError as exc:
            source_html = f"<p class=problem>{html.escape(str(exc))}</p>"
    a, b = request.query_params.get("a"), request.query_params.get("b")
    if selected is not None and a and b:
        try:
            diff_or_error = diff_versions(library, selected.name, int(a), int(b))
        except (ValueError, ScafeError) as exc:
            diff_or_error = str(exc)
    return page(request, "extractors.html", studio, scale=scale, item_id=item_id, ref=ref, entries=entries,
                names=names, states=states, selected=selected, source_html=source_html, diff=diff_or_error,
                families=_families)


def _families(entry: Any) -> list[tuple[str, dict[str, Any]]]:
    """Per-phantom-family criterion results when the entry records them (``validation.criterion_families``
    or ``validation.criterion.families``), else the single validation set's as family ``a``."""
    validation = entry.validation or {}
    crit = validation.get("criterion") or {}
    fams = validation.get("criterion_families") or crit.get("families") or {}
    if isinstance(fams, dict) and fams:
        return [(str(k), v if isinstance(v, dict) else {"value": v}) for k, v in fams.items()]
    return [("validation set", crit)] if crit else []


def stale_page(request: Request) -> Response:
    """Stale entries grouped by criterion item, with re-run and accept controls."""
    studio = _studio(request)
    rows = [r for r in studio.status() if r.state == "stale"]
    groups: dict[str, list[Any]] = {}
    for row in rows:
        if row.status == "active":
            groups.setdefault(row.criterion, []).append(row)
    # deprecated versions do not run anywhere: listed apart, without a re-run button
    deprecated = [r for r in rows if r.status != "active"]
    return page(request, "stale.html", studio, groups=groups, deprecated=deprecated)


def _entry_criteria_sha(library: Any, entry: Any) -> str:
    from scafe.criteria import find_item

    criteria, _ = find_item(entry.criterion.ref, directory=library.criteria_dir)
    return str(criteria.sha256)


def _verify_work(studio: Any, labels: list[str]) -> Any:
    import sandbox
    from scafe.criterion_tests import run_criterion_tests
    from scafe.library.verify import verify_entry

    def work(job: Any) -> dict[str, Any]:
        library = studio.library()
        results: list[dict[str, Any]] = []
        for label in labels:
            name, _, version = label.partition("@v")
            entry = library.get(name, int(version))
            crit_sha = _entry_criteria_sha(library, entry)
            got: dict[str, Any] = {}

            def validate(source: str, _label: str = label, _got: dict[str, Any] = got) -> Any:
                job.step = f"{_label}: contract battery (sandbox)"
                report = sandbox.validate(source)
                _got["contract"] = report
                job.done += 1
                job.step = f"{_label}: criterion tests on the validation phantoms"
                return report

            def criterion(source: str, item: Any, *, output_key: str | None = None,
                          _got: dict[str, Any] = got) -> Any:
                report = run_criterion_tests(source, item, output_key=output_key)
                _got["criterion"] = report
                return report

            result = verify_entry(library, entry, validate=validate, criterion_test=criterion)
            job.done = min(job.total, 2 * (len(results) + 1))
            if result.ok and "contract" in got and "criterion" in got:
                with _REPORTS_LOCK:
                    _REPORTS[(entry.sha256, crit_sha)] = (got["contract"], got["criterion"])
            results.append({**result.to_dict(), "stale": crit_sha != entry.criterion.file_sha256})
        job.step = "finished"
        return {"kind": "verify", "results": results}

    return work


def _refresh_work(studio: Any, label: str) -> Any:
    def work(job: Any) -> dict[str, Any]:
        library = studio.library()
        name, _, version = label.partition("@v")
        entry = library.get(name, int(version))
        key = (entry.sha256, _entry_criteria_sha(library, entry))
        with _REPORTS_LOCK:
            cached = _REPORTS.get(key)
        kwargs: dict[str, Any] = {}
        if cached is not None:  # the reports of the re-run just shown, for these exact bytes
            contract, crit = cached
            kwargs = {"validate": lambda source: contract,
                      "criterion_test": lambda source, item, output_key=None: crit}
            job.step = f"{label}: recording the re-verified criteria hash"
        else:
            job.step = f"{label}: re-verifying (sandbox battery and criterion tests)"
        refreshed = library.refresh(name, int(version), **kwargs)
        return {"kind": "refresh", "label": refreshed.label, "file_sha256": refreshed.criterion.file_sha256,
                "reused_reports": cached is not None}

    return work


def _labels_for(studio: Any, body: dict[str, Any]) -> list[str]:
    library = studio.library()
    if body.get("item"):
        # the active versions: deprecated ones do not run, so their staleness does not matter
        labels = [e.label for e in library.active() if e.criterion.ref == body["item"]]
    else:
        labels = [str(x) for x in body.get("labels", [])]
    known = {e.label for e in library.entries()}
    unknown = [x for x in labels if x not in known]
    if unknown or not labels:
        raise UsageError(f"nothing to verify: unknown extractor(s) {unknown}" if unknown else
                         "nothing to verify: this item has no extractor")
    return labels


async def api_verify(request: Request) -> JSONResponse:
    """Start a job re-running the contract battery and criterion tests of an item's extractors."""
    studio = _studio(request)
    body = await json_body(request)
    try:
        labels = await run_in_threadpool(_labels_for, studio, body)
    except ScafeError as exc:
        return json_error(str(exc), 400)
    job = studio.jobs.submit(f"re-run tests of {', '.join(labels)}", 2 * len(labels), _verify_work(studio, labels))
    return JSONResponse(job.to_dict(), status_code=202)


async def api_refresh(request: Request) -> JSONResponse:
    """Accept the edited criteria for one stale entry (``Library.refresh``) as a job."""
    studio = _studio(request)
    refused = refuse_if_read_only(studio)
    if refused is not None:
        return refused
    body = await json_body(request)
    label = str(body.get("label", ""))
    known = {e.label for e in (await run_in_threadpool(studio.library)).entries()}
    if label not in known:
        return json_error(f"unknown extractor {label!r}", 400)
    job = studio.jobs.submit(f"accept {label}", 1, _refresh_work(studio, label))
    return JSONResponse(job.to_dict(), status_code=202)


def api_job(request: Request) -> JSONResponse:
    """A job's progress and result."""
    job = _studio(request).jobs.get(request.path_params["job"])
    if job is None:
        return json_error("no such job", 404)
    return JSONResponse(job.to_dict())


def scatter_png(request: Request) -> Response:
    """Feature vs ground truth on the criterion tests' validation phantoms, as a PNG."""
    from scafe.studio.figures import criterion_scatter

    studio = _studio(request)
    library = studio.library()
    try:
        entry = library.get(request.path_params["name"], int(request.path_params["version"]))
        png = criterion_scatter(library, entry)
    except ScafeError as exc:
        return Response(str(exc), status_code=404, media_type="text/plain")
    return Response(png, media_type="image/png")
