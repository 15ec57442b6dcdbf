"""Notification settings and template previews."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from oms.api.schemas.common import Strict
from oms.domain import lengths
from oms.domain.notifications import MAX_LOGO_URL, NotificationSettings

__all__ = [
    "NotificationSettingsRead",
    "NotificationSettingsUpdate",
    "TemplatePreview",
    "TemplatePreviewRequest",
]

Name = Annotated[str, StringConstraints(max_length=lengths.NAME)]
EmailText = Annotated[str, StringConstraints(max_length=lengths.EMAIL)]
Colour = Annotated[str, StringConstraints(max_length=7)]
Logo = Annotated[str, StringConstraints(max_length=MAX_LOGO_URL)]
TemplateName = Annotated[str, StringConstraints(max_length=60)]

_EMAIL_FIELDS = ("sender_name", "sender_email", "reply_to", "notify_email", "logo_url")


class NotificationSettingsUpdate(Strict):
    """Only the fields sent change; ``null`` clears one (back to its default)."""

    sender_name: Name | None = Field(
        default=None, description="The name emails come from; default: the tenant's name"
    )
    sender_email: EmailText | None = Field(
        default=None, description="The address emails come from; default: OMS_EMAIL_FROM"
    )
    reply_to: EmailText | None = Field(default=None, description="Where customers' replies go")
    notify_email: EmailText | None = Field(
        default=None,
        description="Where the merchant itself is told things (a webhook endpoint switched "
        "off); default: the sender address",
    )
    logo_url: Logo | None = Field(
        default=None, description="https:// URL or data:image/...;base64, URI of the logo"
    )
    colour: Colour | None = Field(default=None, description="Brand colour, #rrggbb")
    accent_colour: Colour | None = Field(default=None, description="Background colour, #rrggbb")
    templates: dict[TemplateName, bool] | None = Field(
        default=None, description="Templates switched on (true) or off (false), by name"
    )

    def merged_with(self, current: NotificationSettings) -> dict[str, Any]:
        raw = current.to_dict()
        for name in self.model_fields_set:
            value = getattr(self, name)
            if name == "templates":
                raw["templates"] = {**raw["templates"], **(value or {})}
            elif name in _EMAIL_FIELDS or value is not None:
                raw[name] = value
            else:
                raw.pop(name)  # a colour set to null: its default again
        return raw


class NotificationSettingsRead(BaseModel):
    sender_name: str | None
    sender_email: str | None
    reply_to: str | None
    notify_email: str | None
    logo_url: str | None
    colour: str
    accent_colour: str
    templates: dict[str, bool]

    @classmethod
    def of(cls, settings: NotificationSettings) -> NotificationSettingsRead:
        return cls(**settings.to_dict())


class TemplatePreviewRequest(Strict):
    order_id: UUID | None = Field(
        default=None, description="An order of the tenant to render with; default: a sample"
    )
    hold_reason: TemplateName | None = Field(
        default=None,
        description="action_needed: address_invalid or payment_pending (default: the "
        "order's open hold, else address_invalid)",
    )


class TemplatePreview(BaseModel):
    template: str
    subject: str
    html: str
    text: str
