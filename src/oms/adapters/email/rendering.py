"""Emails written from Jinja2 templates: ``templates/<name>.txt`` (its first line is the
subject, ``Subject: ...``) and ``templates/<name>.html``, both from one ``EmailContext``.

HTML is autoescaped (a customer's name or a product name is text, never markup); the
plain-text part is not, as it is not HTML. Templates see the context's parts by name
(``order``, ``parcel``, ``pickup``, ``hold``, ``refund_amount``, ``endpoint``), the
merchant's branding as ``brand`` with ``on_brand`` (black or white, whichever reads better
on the brand colour), and the filters ``money``, ``day`` and ``moment``. A template that
names something the context lacks fails loudly (``StrictUndefined``), in the tests.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from oms.services.mailer import EmailContext, EmailRenderer, RenderedEmail

__all__ = ["JinjaEmailRenderer", "readable_on"]


@lru_cache(maxsize=4096)
def _money(amount: Decimal, currency: str) -> str:
    # Babel is slow to format an amount (docs/performance.md); prices repeat from email to email.
    return str(format_currency(amount, currency, locale="en"))


def _day(value: date | datetime) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


def _moment(value: datetime) -> str:
    return f"{_day(value)}, {value:%H:%M} {value.tzname() or 'UTC'}"


def readable_on(colour: str) -> str:
    """Black or white: whichever contrasts more with ``colour`` (#rrggbb), by WCAG's
    relative luminance."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Contrast with white (1.05 / (L + 0.05)) against with black ((L + 0.05) / 0.05).
    return "#ffffff" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 else "#111111"


class JinjaEmailRenderer(EmailRenderer):
    """Renders the packaged templates; one environment, built once, safe across threads."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("oms.adapters.email", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # packaged templates do not change under a running process
        )
        self._env.filters.update(money=_money, day=_day, moment=_moment)

    def render(self, context: EmailContext) -> RenderedEmail:
        values: dict[str, Any] = {
            "brand": context.branding,
            "on_brand": readable_on(context.branding.colour),
            "order": context.order,
            "parcel": context.parcel,
            "pickup": context.pickup,
            "hold": context.hold,
            "refund_amount": context.refund_amount,
            "refund_as_credit": context.refund_as_credit,
            "endpoint": context.endpoint,
            "return_note": context.return_note,
            "return_label": context.return_label,
        }
        name = context.template.value
        first, _, body = self._env.get_template(f"{name}.txt").render(values).partition("\n")
        if not first.startswith("Subject: "):
            raise ValueError(f"templates/{name}.txt must begin with 'Subject: '")
        subject = " ".join(first.removeprefix("Subject: ").split())
        html = self._env.get_template(f"{name}.html").render(values, subject=subject)
        return RenderedEmail(subject=subject, html=html, text=body.lstrip("\n"))
