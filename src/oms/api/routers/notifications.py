"""Notification settings (/v1/notification-settings) and template previews."""

from __future__ import annotations

from fastapi import APIRouter

from oms.api.deps import EmailRendererDep, StatusLinksDep, TenantId, UowDep
from oms.api.one_hop import OneHopRoute
from oms.api.schemas.notifications import (
    NotificationSettingsRead,
    NotificationSettingsUpdate,
    TemplatePreview,
    TemplatePreviewRequest,
)
from oms.domain.errors import FieldError, InvalidRequest, NotFound
from oms.domain.holds import HoldReason
from oms.domain.notifications import CUSTOMER_FIXABLE_HOLDS, Template
from oms.services import notifications
from oms.services.common import utcnow
from oms.services.customer_email import preview_email

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1", tags=["notifications"])


@router.get("/notification-settings", response_model=NotificationSettingsRead)
def get_notification_settings(tenant_id: TenantId, uow: UowDep) -> NotificationSettingsRead:
    """Who emails come from, how they look, and which are switched on."""
    found = notifications.get_notification_settings(uow_factory=uow, tenant_id=tenant_id)
    return NotificationSettingsRead.of(found)


@router.put("/notification-settings", response_model=NotificationSettingsRead)
def update_notification_settings(
    body: NotificationSettingsUpdate, tenant_id: TenantId, uow: UowDep
) -> NotificationSettingsRead:
    """Change the fields sent (422 naming each bad one: addresses, #rrggbb colours, an
    https or data: logo, known template names)."""
    current = notifications.get_notification_settings(uow_factory=uow, tenant_id=tenant_id)
    updated = notifications.update_notification_settings(
        uow_factory=uow, tenant_id=tenant_id, raw=body.merged_with(current)
    )
    return NotificationSettingsRead.of(updated)


@router.post("/notification-templates/{name}/preview", response_model=TemplatePreview)
def preview_template(
    name: str,
    tenant_id: TenantId,
    uow: UowDep,
    renderer: EmailRendererDep,
    links: StatusLinksDep,
    body: TemplatePreviewRequest | None = None,
) -> TemplatePreview:
    """The email ``name`` as the tenant's customers would get it (subject, HTML, text),
    with one of its orders or a sample; a pickup code shown here is always made up."""
    try:
        template = Template(name)
    except ValueError:
        raise NotFound(f"No template {name!r}", templates=[t.value for t in Template]) from None
    request = body or TemplatePreviewRequest()
    reason = None
    if request.hold_reason is not None:
        fixable = sorted(r.value for r in CUSTOMER_FIXABLE_HOLDS)
        if request.hold_reason not in fixable:
            raise InvalidRequest(
                "Only holds the customer can fix are told by email",
                [FieldError("#/hold_reason", f"one of {', '.join(fixable)}")],
            )
        reason = HoldReason(request.hold_reason)
    rendered = preview_email(
        uow_factory=uow,
        renderer=renderer,
        links=links,
        tenant_id=tenant_id,
        template=template,
        order_id=request.order_id,
        hold_reason=reason,
        now=utcnow(),
    )
    return TemplatePreview(
        template=template.value, subject=rendered.subject, html=rendered.html, text=rendered.text
    )
