"""Projectregister: what the municipality does with data, per project what is open, and did it work.

``/projecten`` lists every project for the public (ladder rung, status, open or closed per phase with the
reason); ``/projecten/<id>`` shows a project with its datasets, live figures from stored results, hypotheses,
public-value account and evaluations — closed phases only for the roles the project names;
``/projecten/rapport`` is the programme-level interim evaluation (HTML; ``.pdf`` for print).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from stadslab.projects.model import RUNGS, STATUSES
from stadslab.projects.report import render_html, report_data
from stadslab.web.data import projects as view
from stadslab.web.data.catalog_view import municipality
from stadslab.web.security import current_user
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/projecten", response_class=HTMLResponse)
def register(request: Request, trede: str | None = Query(None, max_length=20),
             status: str | None = Query(None, max_length=20)):
    if trede is not None and trede not in RUNGS:
        raise HTTPException(400, f"onbekende trede '{trede}'; kies uit {', '.join(RUNGS)}")
    if status is not None and status not in STATUSES:
        raise HTTPException(400, f"onbekende status '{status}'; kies uit {', '.join(STATUSES)}")
    state = request.app.state.stadslab
    return render(request, "projecten.html", view.register_view(state, current_user(request), rung=trede, status=status))


def _report(request: Request) -> str:
    state = request.app.state.stadslab
    return render_html(report_data(view.projects(state), municipality=municipality(state)["naam"], previous=None))


@router.get("/projecten/rapport", response_class=HTMLResponse)
def report_html(request: Request):
    return HTMLResponse(_report(request))


@router.get("/projecten/rapport.pdf")
def report_pdf(request: Request):
    from stadslab.web.data.pdf import html_to_pdf

    pdf = html_to_pdf(_report(request), title="Tussenevaluatie datagedreven sturing")
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="tussenevaluatie.pdf"'})


@router.get("/projecten/{project_id}", response_class=HTMLResponse)
def project(request: Request, project_id: str):
    state = request.app.state.stadslab
    p = view.find(state, project_id) if len(project_id) <= 63 else None
    if p is None:
        raise HTTPException(404, "dit project staat niet in het register")
    return render(request, "project.html", {"p": view.project_view(state, p, current_user(request))})
