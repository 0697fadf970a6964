"""/docs: Swagger UI over /openapi.json, from the vendored swagger-ui-dist files (works offline), in a page that
says it is Dutch (``lang="nl"``), has a way back to the app, and darker text than Swagger's grey (WCAG AA)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

# Swagger UI's greys (#3b4151 on #fafafa is fine; its light labels and links are not) and its tiny type.
CONTRAST_CSS = """<style>
  body { margin: 0; font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; }
  .sl-terug { background: #8f0b21; color: #fff; padding: 0.6rem 1rem; display: flex; gap: 1rem; flex-wrap: wrap; align-items: center; }
  .sl-terug a { color: #fff; font-weight: 600; min-height: 44px; display: inline-flex; align-items: center; }
  .sl-terug a:focus-visible { outline: 3px solid #fff; outline-offset: 2px; box-shadow: 0 0 0 6px #ffbf47; }
  .swagger-ui, .swagger-ui .info .title, .swagger-ui .opblock-tag, .swagger-ui .opblock .opblock-summary-description,
  .swagger-ui .parameter__name, .swagger-ui .parameter__type, .swagger-ui table thead tr th, .swagger-ui .response-col_status,
  .swagger-ui .tab li, .swagger-ui .info p, .swagger-ui .markdown p, .swagger-ui label, .swagger-ui .opblock-description-wrapper p
  { color: #1a1a1a !important; }
  .swagger-ui .parameter__in, .swagger-ui .prop-format, .swagger-ui .renderedMarkdown p { color: #3d3d3d !important; }
  .swagger-ui a, .swagger-ui .info a { color: #01689b !important; }
  .swagger-ui .opblock-summary-path, .swagger-ui .opblock-summary-path__deprecated { color: #1a1a1a !important; }
</style>"""
BACK = ('<nav class="sl-terug" aria-label="Terug"><a href="/">← Terug naar Stadslab</a>'
        '<a href="/openapi.json">OpenAPI (JSON)</a><span>API-documentatie: probeer elk verzoek hier uit.</span></nav>')


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui():
    page = get_swagger_ui_html(
        openapi_url="/openapi.json", title="Stadslab API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/img/favicon.svg",
        swagger_ui_parameters={"defaultModelsExpandDepth": -1, "docExpansion": "list", "validatorUrl": None})
    html = page.body.decode("utf-8")
    html = html.replace("<html>", '<html lang="nl">', 1).replace("</head>", CONTRAST_CSS + "\n</head>", 1)
    html = html.replace("<body>", "<body>\n" + BACK, 1)
    return HTMLResponse(html, headers={k: v for k, v in page.headers.items() if k.lower() not in ("content-length", "content-type")})
