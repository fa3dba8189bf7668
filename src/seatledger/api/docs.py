"""The API's documentation (SPEC §11), linked from the front door (``seatledger.web.home``):
``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) work offline, their scripts and styles served by
this server from the ``fastapi-offline`` package under ``/docs-assets`` (no CDN is ever asked
for anything).

None of these pages is in ``/openapi.json``; they need no credential (Swagger UI asks for the
API key when a call is tried).
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from seatledger import __version__
from seatledger.api.json_body import JsonRoute

ASSETS = "/docs-assets"
# Swagger UI's and ReDoc's bundles, as the fastapi-offline package ships them.
_STATIC = Path(str(files("fastapi_offline") / "static"))

router = APIRouter(include_in_schema=False, route_class=JsonRoute)

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{root}{assets}/favicon.png">
{extra}</head>
"""

# Page templates are ``str.format`` strings: braces of CSS and JavaScript are doubled.
_SWAGGER = """<body>
<div id="swagger-ui"></div>
<script src="{root}{assets}/swagger-ui-bundle.js"></script>
<script>
SwaggerUIBundle({{
  url: "{root}/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
}});
</script>
</body>
</html>
"""

_REDOC = """<body>
<noscript>ReDoc needs JavaScript; <a href="{root}/openapi.json">the OpenAPI document</a>
reads without it.</noscript>
<redoc spec-url="{root}/openapi.json"></redoc>
<script src="{root}{assets}/redoc.standalone.js"></script>
</body>
</html>
"""


def _page(request: Request, title: str, body: str, extra: str = "") -> HTMLResponse:
    root = escape(request.scope.get("root_path", "").rstrip("/"))
    fields = {"root": root, "assets": ASSETS, "version": escape(__version__)}
    head = _HEAD.format(title=escape(title), extra=extra.format(**fields), **fields)
    return HTMLResponse(head + body.format(**fields))


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    css = '<link rel="stylesheet" href="{root}{assets}/swagger-ui.css">\n'
    return _page(request, "seatledger API — Swagger UI", _SWAGGER, css)


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return _page(request, "seatledger API — ReDoc", _REDOC, "<style>body {{ margin: 0 }}</style>\n")


def install(app: FastAPI) -> None:
    """Serve the pages and their assets (``FastAPI(docs_url=None, redoc_url=None)``)."""
    app.mount(ASSETS, StaticFiles(directory=_STATIC), name="docs-assets")
    app.include_router(router)


__all__ = ["ASSETS", "install"]
