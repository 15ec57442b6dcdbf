"""Rendering the portal's pages: the shared Jinja2 environment (``oms.web.pages``), the
portal's static files with content versions, and the headers every page carries.

Scripts are files served from ``/app/static`` (htmx, vendored, and ``portal.js``), never
inline, so the policy allows scripts from 'self' only:

    Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';
        img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none';
        frame-ancestors 'none'
    Cache-Control: no-store     Referrer-Policy: same-origin     X-Frame-Options: DENY
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from starlette.responses import HTMLResponse, Response

from oms.api.errors import status_of
from oms.domain.errors import OmsError
from oms.domain.money import round_money
from oms.web.pages import HERE, PageClock, template_environment

__all__ = ["STATIC_FILES", "PortalPages", "parse_uuid", "refusal"]


def parse_uuid(text: str | None) -> UUID | None:
    """The id a URL or a form names, or None when it names none (a 404 page, not a 500)."""
    try:
        return None if not text else UUID(text)
    except ValueError:
        return None


def refusal(error: OmsError) -> tuple[int, str]:
    """How a page shows a use case's refusal: the status the API would answer with
    (``oms.api.errors.status_of``) and the sentence, each field's problem after it."""
    details = "; ".join(f"{e.pointer}: {e.detail}" for e in getattr(error, "errors", []))
    return status_of(error), error.detail + (f" ({details})" if details else "")


# name -> media type: everything /app/static serves (nothing else is read from disk).
STATIC_FILES = {
    "portal.css": "text/css",
    "portal.js": "text/javascript",
    "htmx.min.js": "text/javascript",
    "warehouse.css": "text/css",
    "warehouse.js": "text/javascript",
}

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def _money(amount: Decimal, currency: str) -> str:
    """An amount in its currency's minor unit, with the currency: ``50.00 EUR``."""
    return f"{round_money(Decimal(amount), currency)} {currency}"


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media_type: str
    version: str


class PortalPages:
    """Templates, static files and the clock of the portal."""

    def __init__(self, *, clock: PageClock) -> None:
        self.clock = clock
        self._templates = template_environment()
        self.static: dict[str, StaticFile] = {}
        for name, media_type in STATIC_FILES.items():
            body = (HERE / "static" / name).read_bytes()
            self.static[name] = StaticFile(body, media_type, hashlib.sha256(body).hexdigest()[:16])
        self._templates.globals.update(asset=self.asset)
        self._templates.filters.update(money=_money)

    def asset(self, name: str) -> str:
        """The URL of a static file, with its version (so it may be cached for a year)."""
        return f"/app/static/{name}?v={self.static[name].version}"

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """The page, with its security and cache headers."""
        body = self._templates.get_template(f"portal/{template}").render(**context)
        return HTMLResponse(body, status_code=status, headers={**HEADERS, **(headers or {})})

    def serve_static(self, name: str, version: str | None) -> Response:
        """A static file: cached for a year under its version, revalidated otherwise."""
        found = self.static[name]
        cache = "public, max-age=31536000, immutable" if version == found.version else "no-cache"
        return Response(
            found.body,
            media_type=found.media_type,
            headers={
                "Cache-Control": cache,
                "ETag": f'"{found.version}"',
                "X-Content-Type-Options": "nosniff",
            },
        )
