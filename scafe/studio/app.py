"""Routes of the studio (wiring only; every page lives in a ``*_pages`` module)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from scafe.errors import ScafeError
from scafe.studio import case_pages, criteria_pages, library_pages
from scafe.studio.web import STATIC, TokenGate, page


def home(request: Request) -> Response:
    """Overview: criteria files, library state, dataset state, links to every page."""
    from scafe.criteria import criteria_files, validate_criteria_file

    studio = request.app.state.studio
    files = [(p.name, validate_criteria_file(p)) for p in criteria_files(directory=studio.criteria_dir)]
    library = studio.library()
    rows = studio.status()
    done, total = studio.cases_progress
    return page(request, "home.html", studio, files=files, library=library,
                n_active=sum(r.status == "active" for r in rows),
                n_stale=sum(r.state == "stale" and r.status == "active" for r in rows),
                data=studio.cases, data_path=str(studio.config.data or ""), error=studio.cases_error,
                done=done, total=total, model=studio.config.model, model_error=studio.model_error)


async def scafe_error(request: Request, exc: Exception) -> Response:
    """An expected error (bad case id, unknown scale, ...) as a page or JSON with its message."""
    studio = request.app.state.studio
    status = 404 if "No " in str(exc) or "no " in str(exc) else 400
    if request.url.path.startswith("/api/"):
        from scafe.studio.web import json_error

        return json_error(str(exc), status)
    return page(request, "error.html", studio, status_code=status, message=str(exc))


def build_app(studio: Any) -> Any:
    """The ASGI app: routes behind :class:`scafe.studio.web.TokenGate`."""
    routes = [
        Route("/", home),
        Route("/criteria", criteria_pages.criteria_index),
        Route("/criteria/{scale}/{item}", criteria_pages.item_page),
        Route("/api/criteria/{scale}/check", criteria_pages.api_check, methods=["POST"]),
        Route("/api/criteria/{scale}/form", criteria_pages.api_form, methods=["POST"]),
        Route("/api/criteria/{scale}/save", criteria_pages.api_save, methods=["POST"]),
        Route("/api/criteria/{scale}/sha", criteria_pages.api_sha),
        Route("/extractors/{scale}/{item}", library_pages.extractors_page),
        Route("/stale", library_pages.stale_page),
        Route("/api/verify", library_pages.api_verify, methods=["POST"]),
        Route("/api/refresh", library_pages.api_refresh, methods=["POST"]),
        Route("/api/jobs/{job}", library_pages.api_job),
        Route("/img/scatter/{name}/{version:int}.png", library_pages.scatter_png),
        Route("/cases", case_pages.gallery),
        Route("/cases/{case}", case_pages.case_page),
        Route("/img/case/{case}.png", case_pages.thumbnail),
        Route("/judge/{case}", case_pages.judge_page),
        Route("/grading", case_pages.grading_index),
        Route("/grading/{scale}/{item}", case_pages.grading_page),
        Route("/api/grades", case_pages.api_grade, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={ScafeError: scafe_error})
    app.state.studio = studio
    studio.start_loading()
    return TokenGate(app, token=studio.config.token, allow_remote=studio.config.allow_remote)
