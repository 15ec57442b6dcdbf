"""The interactive API documentation, served whole by the API itself.

FastAPI's ``/docs`` page loads Swagger UI from a CDN (and its ReDoc page loads web fonts
too), so without network the page stays blank. Here both pages load the copies vendored
under ``static/`` (versions and licences in ``static/README.md``), served at ``/static``,
and Swagger UI's validator badge, which would call an outside service, is off. The API key
is the bearer scheme of the OpenAPI document (``oms.api.deps``), so Swagger UI offers an
Authorize button and sends the key on the routes that need one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "install_docs"]

STATIC = Path(__file__).with_name("static")
_PREFIX = "/static"


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from the vendored assets."""
    app.mount(_PREFIX, StaticFiles(directory=STATIC), name="static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{_PREFIX}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{_PREFIX}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}{_PREFIX}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{_PREFIX}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{_PREFIX}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
