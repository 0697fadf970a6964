"""Jinja2 templates with Dutch number and date formatting, and the context every page gets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from stadslab.web.data.catalog_view import fmt_date, municipality
from stadslab.web.formatting import nl_number
from stadslab.web.security import csrf_token, current_user

TEMPLATE_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATE_DIR))

NAV = (("/", "Start"), ("/monitor", "Gebiedsmonitor"), ("/incidenten", "Incidentenkaart"),
       ("/risico", "Risicokaart"),
       ("/overleg", "Overleg"), ("/projecten", "Projecten"), ("/ontdekken", "Ontdekken"), ("/containers", "Containers"), ("/weesfietsen", "Weesfietsen"), ("/sociaal", "Sociaal"), ("/docs", "API"))


def nl_signed(value: Any, decimals: int = 1) -> str:
    if value is None:
        return "–"
    text = nl_number(value, decimals)
    if text.startswith("-") or text == "–" or float(value) == 0:
        return text
    return "+" + text


def p_value(value: Any) -> str:
    """'p < 0,001' or 'p = 0,123'; missing → 'p –'."""
    if value is None:
        return "p –"
    return "p < 0,001" if float(value) < 0.001 else f"p = {nl_number(value, 3)}"


def to_json(value: Any) -> Markup:
    """JSON safe to embed in a <script type="application/json"> block."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


templates.env.filters["nl"] = nl_number
templates.env.filters["nl_signed"] = nl_signed
templates.env.filters["datum"] = fmt_date
templates.env.filters["p"] = p_value
templates.env.filters["tojson_safe"] = to_json


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None):
    state = request.app.state.stadslab
    user = current_user(request)
    ctx = {
        "user": user, "logged_in": user.id != "anoniem", "csrf": csrf_token(request),
        "gemeente": municipality(state), "nav": NAV, "path": request.url.path,
        "werkdoel": request.state.session.get("d"),
        "doelen": {p: state.access.purposes.get(p, p) for p in user.purposes},
        "portal": getattr(request.app.state, "has_portal", False),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
