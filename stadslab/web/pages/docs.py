"""/docs: Swagger UI over /openapi.json, from the vendored swagger-ui-dist files (works offline)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui():
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="Stadslab API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/img/favicon.svg",
        swagger_ui_parameters={"defaultModelsExpandDepth": -1, "docExpansion": "list", "validatorUrl": None})
