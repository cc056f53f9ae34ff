"""Criteria pages: browse every scale and item, edit (form or YAML), validate live, preview prompts, save."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scafe.errors import ScafeError
from scafe.studio import yaml_edit
from scafe.studio.web import json_body, json_error, page, refuse_if_read_only

PROMPT_STAGES = ("plan", "write", "repair")
# Item fields shown by the form or the header; every other field (a test specification, ...) is
# shown as YAML in its own section, so new fields appear without a studio change.
KNOWN_ITEM_FIELDS = {"id", "name", "definition", "anchors", "observable_in_photo", "unobservable_reason",
                     "ground_truth", "orientation_free", "measurement_hint"}


def _studio(request: Request) -> Any:
    return request.app.state.studio


def extra_fields(item: Any) -> list[tuple[str, str]]:
    """``(field, YAML text)`` of the item's fields beyond the classic ones (e.g. a test specification)."""
    import yaml

    out = []
    for key, value in item.model_dump(mode="json", exclude_none=True).items():
        if key in KNOWN_ITEM_FIELDS or value in ({}, [], ""):
            continue
        out.append((key, yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=90).strip()))
    return out


def entries_by_item(studio: Any) -> dict[str, list[Any]]:
    """``"scale/item" -> [StatusRow, ...]`` for every library entry."""
    rows: dict[str, list[Any]] = {}
    for row in studio.status():
        rows.setdefault(row.criterion, []).append(row)
    return rows


def criteria_index(request: Request) -> Response:
    """Every scale and item, with the extractors that serve each item and their state."""
    from scafe.criteria import criteria_files, validate_criteria_file

    studio = _studio(request)
    files = []
    for path in criteria_files(directory=studio.criteria_dir):
        criteria, problems = validate_criteria_file(path)
        files.append({"path": path, "criteria": criteria, "problems": problems})
    by_item = entries_by_item(studio)
    return page(request, "criteria.html", studio, files=files, by_item=by_item)


def item_page(request: Request) -> Response:
    """One item: form and YAML editor, live problems, diff, prompt preview, its extractors."""
    from scafe.criteria import validate_criteria_file

    studio = _studio(request)
    scale, item_id = request.path_params["scale"], request.path_params["item"]
    path = yaml_edit.criteria_path(studio.criteria_dir, scale)
    text = path.read_text(encoding="utf-8")
    criteria, problems = validate_criteria_file(path)
    item = None
    if criteria is not None:
        item = next((i for i in criteria.items if i.id == item_id), None)
        if item is None:
            criteria.item(item_id)  # raises with a did-you-mean
    from scafe.criteria import GROUND_TRUTH_COLUMNS

    rows = entries_by_item(studio).get(f"{scale}/{item_id}", [])
    return page(request, "item.html", studio, scale=scale, item_id=item_id, path=path, text=text,
                sha256=yaml_edit.sha256_text(text), criteria=criteria, item=item, problems=problems,
                extras=extra_fields(item) if item is not None else [], columns=GROUND_TRUTH_COLUMNS,
                stages=PROMPT_STAGES, rows=rows, changed=request.query_params.get("changed") == "1")


def _prompt(result: yaml_edit.CheckResult, item_id: str, stage: str, root: Any) -> tuple[str, str]:
    """``(prompt text, error)`` for ``stage`` of the edited item (what ``scafe criteria render`` prints)."""
    from scafe.prompting import render, sample_context

    if result.criteria is None:
        return "", "the prompt is shown once the file validates"
    item = next((i for i in result.criteria.items if i.id == item_id), None)
    if item is None:
        return "", f"the edited file has no item {item_id!r}"
    if not item.observable_in_photo:
        return "", "no extractor is generated for an item that is not observable in a photo, so it has no prompt"
    try:
        return render(stage, item=item, criteria=result.criteria, root=root, **sample_context(stage)), ""
    except ScafeError as exc:
        return "", str(exc)


def _check_payload(studio: Any, scale: str, text: str, item_id: str, stage: str) -> dict[str, Any]:
    path = yaml_edit.criteria_path(studio.criteria_dir, scale)
    result = yaml_edit.check_text(text, path, studio.root)
    prompt, prompt_error = _prompt(result, item_id, stage if stage in PROMPT_STAGES else "plan", studio.root)
    extras = []
    if result.criteria is not None:
        item = next((i for i in result.criteria.items if i.id == item_id), None)
        extras = extra_fields(item) if item is not None else []
    return {"ok": result.ok, "problems": result.problems, "diff": result.diff, "changed": bool(result.diff),
            "prompt": prompt, "prompt_error": prompt_error, "extras": extras}


async def api_check(request: Request) -> JSONResponse:
    """Validate an edited text; answer problems, diff against the file and the prompt preview."""
    body = await json_body(request)
    studio = _studio(request)
    try:
        payload = await run_in_threadpool(_check_payload, studio, request.path_params["scale"],
                                          str(body.get("text", "")), str(body.get("item", "")),
                                          str(body.get("stage", "plan")))
    except ScafeError as exc:
        return json_error(str(exc), 400)
    return JSONResponse(payload)


async def api_form(request: Request) -> JSONResponse:
    """Apply form fields to the YAML text (comments kept); answer the new text."""
    body = await json_body(request)
    raw = body.get("fields")
    fields: dict[str, Any] = raw if isinstance(raw, dict) else {}
    try:
        text = yaml_edit.apply_form(str(body.get("text", "")), str(body.get("item", "")), fields)
    except ScafeError as exc:
        return json_error(str(exc), 422)
    return JSONResponse({"text": text})


def _save(studio: Any, scale: str, text: str, base: str) -> tuple[int, dict[str, Any]]:
    path = yaml_edit.criteria_path(studio.criteria_dir, scale)
    try:
        result = yaml_edit.save_text(path, text, base, studio.root)
    except ScafeError as exc:
        return 409, {"error": str(exc), "conflict": True}
    if not result.ok:
        return 422, {"error": "not saved: the edited file does not validate", "problems": result.problems}
    stale = [row.to_dict() for row in studio.status()
             if row.state == "stale" and row.criterion.startswith(f"{scale}/")]
    return 200, {"saved": str(path.name), "sha256": yaml_edit.sha256_text(text), "stale": stale}


async def api_save(request: Request) -> JSONResponse:
    """Save an edited text atomically; refused when read-only, invalid, or changed on disk."""
    studio = _studio(request)
    refused = refuse_if_read_only(studio)
    if refused is not None:
        return refused
    body = await json_body(request)
    try:
        status, payload = await run_in_threadpool(_save, studio, request.path_params["scale"],
                                                  str(body.get("text", "")), str(body.get("base_sha256", "")))
    except ScafeError as exc:
        return json_error(str(exc), 400)
    return JSONResponse(payload, status_code=status)


def api_sha(request: Request) -> JSONResponse:
    """The file's current SHA-256 (the page polls it to notice edits made outside the studio)."""
    studio = _studio(request)
    path = yaml_edit.criteria_path(studio.criteria_dir, request.path_params["scale"])
    return JSONResponse({"sha256": yaml_edit.sha256_text(path.read_text(encoding="utf-8"))})
