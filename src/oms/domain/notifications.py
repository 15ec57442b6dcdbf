"""What a tenant's customers are told by email, and how the merchant's emails look.

Each public event a customer cares about has one email template; the templates and the
events they answer are named here, once. A tenant's ``NotificationSettings`` say who the
emails come from (sender name and address, reply-to), how they look (``Branding``: logo and
two colours) and which templates are switched on. Every field has a default, so a tenant
that never set anything still sends every customer email, signed with its own name.

Only holds a customer can do something about produce an email (``CUSTOMER_FIXABLE_HOLDS``):
a delivery address the carrier cannot use, a payment that has not arrived. A fraud review
or a backorder is the merchant's business.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from email_validator import EmailNotValidError, validate_email

from oms.domain import lengths
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.holds import HoldReason

__all__ = [
    "CUSTOMER_FIXABLE_HOLDS",
    "CUSTOMER_TEMPLATES",
    "DEFAULT_ACCENT_COLOUR",
    "DEFAULT_COLOUR",
    "MAX_LOGO_URL",
    "NotificationSettings",
    "Template",
    "template_for",
]


class Template(StrEnum):
    """An email, named for what it tells; the customer's unless said otherwise."""

    ORDER_CONFIRMED = "order_confirmed"
    ACTION_NEEDED = "action_needed"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    READY_FOR_PICKUP = "ready_for_pickup"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    RETURN_REQUESTED = "return_requested"
    RETURN_APPROVED = "return_approved"
    RETURN_REJECTED = "return_rejected"
    RETURN_IN_TRANSIT = "return_in_transit"
    RETURN_DELIVERED = "return_delivered"
    RETURN_RECEIVED = "return_received"
    # To the merchant: a webhook endpoint failed for days and was switched off.
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"


CUSTOMER_TEMPLATES = frozenset(Template) - {Template.WEBHOOK_ENDPOINT_DISABLED}

# The public event type each template answers (services/events.Event.type).
_TEMPLATE_OF_EVENT: dict[str, Template] = {
    "order.created": Template.ORDER_CONFIRMED,
    "order.on_hold": Template.ACTION_NEEDED,
    "shipment.created": Template.SHIPPED,
    "shipment.out_for_delivery": Template.OUT_FOR_DELIVERY,
    "shipment.delivered": Template.DELIVERED,
    "pickup.ready": Template.READY_FOR_PICKUP,
    "order.cancelled": Template.CANCELLED,
    "payment.refunded": Template.REFUNDED,
    # A return's refund is told by payment.refunded's email; return.refunded sends none.
    "return.requested": Template.RETURN_REQUESTED,
    "return.approved": Template.RETURN_APPROVED,
    "return.rejected": Template.RETURN_REJECTED,
    "return.in_transit": Template.RETURN_IN_TRANSIT,
    "return.delivered": Template.RETURN_DELIVERED,
    "return.received": Template.RETURN_RECEIVED,
    "webhook_endpoint.disabled": Template.WEBHOOK_ENDPOINT_DISABLED,
}

# Holds the customer can lift: a delivery address we cannot use, a payment not yet made.
CUSTOMER_FIXABLE_HOLDS = frozenset({HoldReason.ADDRESS_INVALID, HoldReason.PAYMENT_PENDING})


def template_for(event_type: str, *, hold_reason: str | None = None) -> Template | None:
    """The template an event of ``event_type`` is told with, or None when no email is due
    (an ``order.on_hold`` whose ``hold_reason`` the customer cannot fix)."""
    template = _TEMPLATE_OF_EVENT.get(event_type)
    if template is Template.ACTION_NEEDED and hold_reason not in CUSTOMER_FIXABLE_HOLDS:
        return None
    return template


DEFAULT_COLOUR = "#1f4e79"
DEFAULT_ACCENT_COLOUR = "#f2f5f9"
MAX_LOGO_URL = 100_000  # a small data: image fits; a photo does not belong in every email
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_DATA_IMAGE = re.compile(r"data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/]+=*")
_HTTPS_URL = re.compile(r"https://[^\s\"'<>]+")


@dataclass(frozen=True)
class NotificationSettings:
    """A tenant's email settings. ``sender_name`` None: the tenant's name; ``sender_email``
    None: the deployment's address (``OMS_EMAIL_FROM``); ``notify_email``: where the
    merchant itself is told things (None: the sender address); ``templates``: the ones
    switched off or on (a template not named is on)."""

    sender_name: str | None = None
    sender_email: str | None = None
    reply_to: str | None = None
    notify_email: str | None = None
    logo_url: str | None = None
    colour: str = DEFAULT_COLOUR
    accent_colour: str = DEFAULT_ACCENT_COLOUR
    templates: Mapping[Template, bool] = field(default_factory=dict)

    def enabled(self, template: Template) -> bool:
        """Whether emails of ``template`` are sent."""
        return self.templates.get(template, True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the API, every template named."""
        return {
            "sender_name": self.sender_name,
            "sender_email": self.sender_email,
            "reply_to": self.reply_to,
            "notify_email": self.notify_email,
            "logo_url": self.logo_url,
            "colour": self.colour,
            "accent_colour": self.accent_colour,
            "templates": {t.value: self.enabled(t) for t in Template},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> NotificationSettings:
        """Read submitted settings, refusing bad values with field pointers (422)."""
        errors: list[FieldError] = []
        limits = {"sender_name": lengths.NAME, "logo_url": MAX_LOGO_URL}
        text = {
            name: _text(raw.get(name), f"#/{name}", errors, limits.get(name, lengths.EMAIL))
            for name in ("sender_name", "sender_email", "reply_to", "notify_email", "logo_url")
        }
        for name in ("sender_email", "reply_to", "notify_email"):
            text[name] = _email(text[name], f"#/{name}", errors)
        if text["sender_name"] is not None and any(c in text["sender_name"] for c in '\r\n<>"'):
            errors.append(FieldError("#/sender_name", "may not hold line breaks, <, > or quotes"))
        logo = text["logo_url"]
        if logo is not None and not (_HTTPS_URL.fullmatch(logo) or _DATA_IMAGE.fullmatch(logo)):
            errors.append(
                FieldError("#/logo_url", "must be an https:// URL or a data:image/...;base64, URI")
            )
        colours = {}
        for name, default in (("colour", DEFAULT_COLOUR), ("accent_colour", DEFAULT_ACCENT_COLOUR)):
            value = raw.get(name, default)
            if not isinstance(value, str) or not _COLOUR.fullmatch(value):
                errors.append(FieldError(f"#/{name}", "must be a colour as #rrggbb"))
            else:
                colours[name] = value.lower()
        templates: dict[Template, bool] = {}
        for key, on in dict(raw.get("templates") or {}).items():
            try:
                template = Template(key)
            except ValueError:
                known = ", ".join(t.value for t in Template)
                errors.append(FieldError(f"#/templates/{key}", f"not a template ({known})"))
                continue
            if not isinstance(on, bool):
                errors.append(FieldError(f"#/templates/{key}", "must be true or false"))
                continue
            templates[template] = on
        if errors:
            raise InvalidRequest("The notification settings are not valid", errors)
        return cls(
            sender_name=text["sender_name"],
            sender_email=text["sender_email"],
            reply_to=text["reply_to"],
            notify_email=text["notify_email"],
            logo_url=logo,
            colour=colours["colour"],
            accent_colour=colours["accent_colour"],
            templates=templates,
        )


def _text(value: object, pointer: str, errors: list[FieldError], limit: int) -> str | None:
    """A stripped text value or None; anything else is an error."""
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(FieldError(pointer, "must be text"))
        return None
    value = value.strip()
    if len(value) > limit:
        errors.append(FieldError(pointer, f"at most {limit} characters"))
        return None
    return value or None


def _email(value: str | None, pointer: str, errors: list[FieldError]) -> str | None:
    """A syntactically valid email address, normalised; no DNS lookup."""
    if value is None:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        errors.append(FieldError(pointer, f"not a valid email address: {error}"))
        return None
