"""Rendering the public pages: Jinja2 templates, the merchant's branding made safe, and the
headers every page carries.

Nothing is loaded from elsewhere: the stylesheet is served by the app (``/web/static``,
cached for a year under a version of its content), the merchant's colours go in a small
``<style>`` block allowed by a per-response nonce, and a logo is shown only as a ``data:``
image (an https logo would tell its host who opens the page; emails show it). The policy:

    Content-Security-Policy: default-src 'none'; style-src 'self' 'nonce-…';
        img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'
    Referrer-Policy: no-referrer     (a status link's token never leaves in a Referer)
    Cache-Control: no-store          (personal data: no shared or browser cache keeps it)
    Vary: Accept                     (the same URL answers HTML or JSON)
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from oms.domain.customer_status import PARCEL_WORDS, WORDS
from oms.domain.money import round_money
from oms.services.events import Branding
from oms.web.rate_limit import RateLimiter

__all__ = [
    "JSON_HEADERS",
    "STYLESHEET",
    "Look",
    "PageClock",
    "PublicPages",
    "look_of",
    "template_environment",
]

HERE = Path(__file__).parent
STYLESHEET = "status.css"
NEUTRAL = Branding(display_name="Order tracking")

JSON_HEADERS = {
    "Cache-Control": "no-store",
    "Vary": "Accept",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+")


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _text_on(colour: str) -> str:
    """Black or white, whichever contrasts more with ``colour`` (WCAG contrast ratio)."""
    light = _luminance(colour)
    on_black = (light + 0.05) / 0.05
    on_white = 1.05 / (light + 0.05)
    return "#000000" if on_black >= on_white else "#ffffff"


@dataclass(frozen=True)
class Look:
    """A merchant's branding as the page uses it: colours checked (they go into CSS) and
    paired with a readable text colour, the logo only when it is a data: image."""

    name: str
    colour: str
    on_colour: str
    accent: str
    on_accent: str
    logo: str | None


def look_of(branding: Branding) -> Look:
    """The page's look of ``branding``; a malformed colour falls back to the default."""
    colour = branding.colour if _COLOUR.fullmatch(branding.colour) else NEUTRAL.colour
    accent = (
        branding.accent_colour
        if _COLOUR.fullmatch(branding.accent_colour)
        else NEUTRAL.accent_colour
    )
    logo = (
        branding.logo_url
        if branding.logo_url and _DATA_IMAGE.fullmatch(branding.logo_url)
        else None
    )
    return Look(
        name=branding.display_name,
        colour=colour.lower(),
        on_colour=_text_on(colour),
        accent=accent.lower(),
        on_accent=_text_on(accent),
        logo=logo,
    )


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%b %Y, %H:%M} UTC"


def _day(day: date | None) -> str:
    return "" if day is None else f"{day:%A}, {day.day} {day:%B %Y}"


def _iso(moment: date | datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def _money(amount: Decimal, currency: str) -> str:
    """An amount in its currency's minor unit, with the currency: ``25.00 EUR``."""
    return f"{round_money(amount, currency)} {currency}"


def template_environment() -> Environment:
    """The Jinja2 environment of every page in ``oms.web`` (the portal's under
    ``templates/portal/``): autoescaped, with the date filters and the customer words."""
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters.update(when=_when, day=_day, iso=_iso, money=_money)
    templates.globals.update(words=WORDS, parcel_words=PARCEL_WORDS)
    return templates


@dataclass(frozen=True)
class PageClock:
    """The clocks of the public pages: ``now`` for links' expiry, ``monotonic`` for the
    rate limit; tests give their own."""

    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    monotonic: Callable[[], float] = time.monotonic


class PublicPages:
    """Templates, the stylesheet and the rate limiter of the public pages."""

    def __init__(self, *, limiter: RateLimiter, clock: PageClock) -> None:
        self.limiter = limiter
        self.clock = clock
        self.stylesheet = (HERE / "static" / STYLESHEET).read_bytes()
        self.stylesheet_version = hashlib.sha256(self.stylesheet).hexdigest()[:16]
        self._templates = template_environment()

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        branding: Branding | None = None,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """The page, with its security and cache headers."""
        nonce = secrets.token_urlsafe(16)
        body = self._templates.get_template(template).render(
            look=look_of(branding or NEUTRAL),
            nonce=nonce,
            stylesheet=f"/web/static/{STYLESHEET}?v={self.stylesheet_version}",
            **context,
        )
        policy = (
            f"default-src 'none'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
        return HTMLResponse(
            body,
            status_code=status,
            headers={
                **JSON_HEADERS,
                "Content-Security-Policy": policy,
                "X-Frame-Options": "DENY",
                **(headers or {}),
            },
        )
