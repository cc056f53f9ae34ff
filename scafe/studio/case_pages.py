"""Case pages: gallery (sort by any feature), one case (values, percentiles, prediction, TreeSHAP,
nearest cases by one item), grading against an item's anchors, and the segmentation judge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scafe.errors import ScafeError, UsageError
from scafe.studio.grades import GradeStore, agreement, check_grade
from scafe.studio.state import find_case
from scafe.studio.web import json_body, json_error, page, refuse_if_read_only

PAGE_SIZE = 60
THUMB_SIZES = (160, 384)


def _studio(request: Request) -> Any:
    return request.app.state.studio


def _feature_label(meta: dict[str, Any], column: str) -> str:
    info = meta.get("features", {}).get(column, {})
    item = info.get("item_name") or info.get("item") or ""
    scale = str(info.get("scale", "")).upper()
    return f"{item} ({scale})" if item and scale else item


def _items_with_features(meta: dict[str, Any]) -> list[str]:
    """``scale/item`` of every item some feature column serves."""
    return sorted({f"{m.get('scale')}/{m.get('item')}" for m in meta.get("features", {}).values() if m.get("item")})


def _loading_context(studio: Any) -> dict[str, Any]:
    done, total = studio.cases_progress
    return {"data_path": str(studio.config.data) if studio.config.data else "", "error": studio.cases_error,
            "done": done, "total": total}


def gallery(request: Request) -> Response:
    """The dataset's cases as thumbnails with mask outlines, sorted by a feature, paged."""
    studio = _studio(request)
    data = studio.cases
    if data is None:
        return page(request, "loading.html", studio, **_loading_context(studio))
    params = request.query_params
    sort = params.get("sort", "")
    order = "asc" if params.get("order") == "asc" else "desc"
    ids = list(data.frame.index)
    if sort == "p_keloid" and data.proba is not None:
        key = data.proba.reindex(ids)
    elif sort in data.frame.columns:
        key = data.frame[sort]
    else:
        sort, key = "", None
    if key is not None:
        ids = list(key.sort_values(ascending=order == "asc", na_position="last", kind="stable").index)
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    try:
        number = min(max(1, int(params.get("page", "1"))), pages)
    except ValueError:
        number = 1
    shown = ids[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
    cards = []
    for cid in shown:
        card = {"id": cid, "label": data.labels.get(cid, "")}
        if sort == "p_keloid":
            card["value"], card["pct"] = float(data.proba[cid]), None
        elif sort:
            card["value"], card["pct"] = float(data.frame.at[cid, sort]), float(data.percentiles.at[cid, sort])
        if data.proba is not None:
            card["p"] = float(data.proba[cid])
        cards.append(card)
    columns = [(c, _feature_label(data.meta, c)) for c in data.frame.columns]
    return page(request, "gallery.html", studio, cards=cards, columns=columns, sort=sort, order=order,
                number=number, pages=pages, n=len(ids), bad=data.dataset.bad, manifest=str(data.dataset.manifest),
                errors=len(data.errors), has_model=data.proba is not None, model_note=data.model_note,
                model_error=studio.model_error)


def case_page(request: Request) -> Response:
    """One case: picture, every feature with its percentile, prediction and TreeSHAP, nearest cases."""
    from scafe.similar import nearest_cases

    studio = _studio(request)
    data = studio.cases
    if data is None:
        return page(request, "loading.html", studio, **_loading_context(studio))
    case_id = request.path_params["case"]
    case = find_case(data, case_id)
    features = [{"column": c, "label": _feature_label(data.meta, c), "value": float(data.frame.at[case_id, c]),
                 "pct": float(data.percentiles.at[case_id, c])} for c in data.frame.columns]
    explanation, prediction = [], None
    if data.proba is not None and data.aligned is not None:
        prediction = float(data.proba[case_id])
        phi = studio.model.contributions(data.aligned.loc[[case_id]]).iloc[0]
        bias = float(phi.pop("bias"))
        order = np.argsort(-np.abs(phi.to_numpy()))
        scale = max(float(np.abs(phi.to_numpy()).max()), 1e-9)
        # features the trees never split on (or not for this case) contribute exactly 0: counted, not listed
        explanation = [{"feature": studio.model.describe_feature(phi.index[j]), "value": float(phi.iloc[j]),
                        "width": 100.0 * abs(float(phi.iloc[j])) / scale} for j in order if phi.iloc[j] != 0]
        silent = len(phi) - len(explanation)
        prediction_bias = bias
    else:
        prediction_bias, silent = None, 0
    items = _items_with_features(data.meta)
    near_item = request.query_params.get("near", "")
    near, near_error = [], ""
    if near_item:
        try:
            table = nearest_cases(data.frame, case_id, k=6, item=near_item, feature_meta=data.meta.get("features", {}),
                                  labels=data.labels)
            near = [{"id": str(i), "label": r.get("label", ""), "distance": float(r["distance"])}
                    for i, r in table.iterrows()]
        except ScafeError as exc:
            near_error = str(exc)
    errors = data.errors[data.errors["id"].astype(str) == case_id].to_dict("records") if len(data.errors) else []
    root = Path(data.dataset.manifest).parent
    files = [_relative(case.image_path, root), _relative(case.mask_path, root)]
    return page(request, "case.html", studio, case=case, features=features, prediction=prediction, silent=silent,
                files=files,
                bias=prediction_bias, explanation=explanation, items=items, near_item=near_item, near=near,
                near_error=near_error, errors=errors, model_note=data.model_note)


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def thumbnail(request: Request) -> Response:
    """PNG of a case with its mask outline (``?s=160`` or ``384`` px)."""
    studio = _studio(request)
    try:
        size = int(request.query_params.get("s", "160"))
    except ValueError:
        size = 160
    size = size if size in THUMB_SIZES else THUMB_SIZES[0]
    try:
        png = studio.thumbnail(request.path_params["case"], size)
    except ScafeError as exc:
        return Response(str(exc), status_code=404, media_type="text/plain")
    return Response(png, media_type="image/png", headers={"cache-control": "private, max-age=3600"})


def judge_page(request: Request) -> Response:
    """The segmentation judge's four stages and descriptors beside the picture (rule reasoner)."""
    from scafe.judge.rules import judge_with_rules

    studio = _studio(request)
    data = studio.cases
    if data is None:
        return page(request, "loading.html", studio, **_loading_context(studio))
    case = find_case(data, request.path_params["case"])
    image, mask = case.load()
    result = judge_with_rules(image, mask, target="scar", root=studio.root)
    return page(request, "judge.html", studio, case=case, result=result)


# ----------------------------------------------------------------------------- grading


def grade_store(studio: Any) -> GradeStore:
    """``grades.csv`` next to the dataset's manifest."""
    data = studio.cases
    if data is None:
        raise UsageError("No dataset is loaded; start the studio with --data DIR_OR_MANIFEST.")
    return GradeStore(Path(data.dataset.manifest).parent / "grades.csv")


def _item(studio: Any, ref: str) -> Any:
    from scafe.criteria import find_item

    return find_item(ref, directory=studio.criteria_dir)[1]


def _agreement(studio: Any, ref: str) -> dict[str, Any]:
    from scafe.similar import item_columns

    data = studio.cases
    item = _item(studio, ref)
    grades = grade_store(studio).for_item(ref)
    try:
        columns = item_columns(data.meta.get("features", {}), ref)
    except UsageError:
        columns = []
    rows = agreement(grades, item.anchors, data.frame, columns)
    for row in rows:
        row["label"] = _feature_label(data.meta, row["column"])
    return {"item": ref, "graded": len(grades), "rows": rows}


def grading_index(request: Request) -> Response:
    """Items a clinician can grade (observable ones first), with how many cases are graded."""
    from scafe.criteria import all_criteria

    studio = _studio(request)
    data = studio.cases
    if data is None:
        return page(request, "loading.html", studio, **_loading_context(studio))
    store = grade_store(studio)
    items = [{"ref": f"{c.scale}/{i.id}", "name": i.name, "scale": c.title, "observable": i.observable_in_photo,
              "graded": len(store.for_item(f"{c.scale}/{i.id}"))}
             for c in all_criteria(directory=studio.criteria_dir) for i in c.items]
    items.sort(key=lambda r: (not r["observable"], r["ref"]))
    return page(request, "grading_index.html", studio, items=items, grades_path=str(store.path))


def grading_page(request: Request) -> Response:
    """Grade one item on the cases (anchors as choices); agreement with each extractor column."""
    studio = _studio(request)
    data = studio.cases
    if data is None:
        return page(request, "loading.html", studio, **_loading_context(studio))
    ref = f"{request.path_params['scale']}/{request.path_params['item']}"
    item = _item(studio, ref)
    grades = grade_store(studio).for_item(ref)
    ids = list(data.frame.index)
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    try:
        number = min(max(1, int(request.query_params.get("page", "1"))), pages)
    except ValueError:
        number = 1
    cases = [{"id": cid, "grade": grades.get(cid, "")} for cid in ids[(number - 1) * PAGE_SIZE: number * PAGE_SIZE]]
    return page(request, "grading.html", studio, ref=ref, item=item, cases=cases, number=number, pages=pages,
                agreement=_agreement(studio, ref), grades_path=str(grade_store(studio).path))


async def api_grade(request: Request) -> JSONResponse:
    """Store one grade; answer the item's updated agreement table."""
    studio = _studio(request)
    refused = refuse_if_read_only(studio)
    if refused is not None:
        return refused
    body = await json_body(request)
    ref, case_id, grade = str(body.get("item", "")), str(body.get("case", "")), str(body.get("grade", ""))

    def store() -> dict[str, Any]:
        item = _item(studio, ref)
        check_grade(item.anchors, grade)
        find_case(studio.cases, case_id)
        grade_store(studio).set(case_id, ref, grade)
        return _agreement(studio, ref)

    try:
        return JSONResponse(await run_in_threadpool(store))
    except ScafeError as exc:
        return json_error(str(exc), 400)
