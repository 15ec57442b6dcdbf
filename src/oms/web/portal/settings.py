"""The portal's settings pages (``/app/settings/...``), one tenant's at a time (an operator
looking at all tenants is asked to pick one first):

- webhook endpoints: the list, create (the secret is shown once, on the answer, never in a
  URL), delete, rotate the secret (the new one shown once), the delivery log (status,
  attempts, last response code and latency), retry a delivery, replay since a moment;
- notification settings: sender, logo, colours, templates on or off; a template preview;
- the routing profile and its versions, carrier rate cards and API keys, read only.

Every page calls the use case the API calls (``oms.services``). Changing settings is for
admins (``operator-admin``, ``merchant-admin``): other roles get the 403 page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from oms.domain.delivery_schedule import DeliveryStatus
from oms.domain.errors import FieldError, InvalidRequest, NotFound
from oms.domain.notifications import Template
from oms.domain.users import Role
from oms.services import carriers, notifications, routing_profiles, tenants
from oms.services import webhook_endpoints as endpoints
from oms.services.customer_email import preview_email
from oms.services.event_catalogue import PUBLIC_TYPES
from oms.web.portal.auth import (
    CheckedForm,
    Forbidden,
    PortalDep,
    Viewer,
    ViewerDep,
    app_state,
    checked_form,
)
from oms.web.portal.rendering import PortalPages, parse_uuid, refusal

__all__ = ["router"]

router = APIRouter(prefix="/app/settings", include_in_schema=False)

PAGE_SIZE = 50
ADMINS = frozenset({Role.OPERATOR_ADMIN, Role.MERCHANT_ADMIN})
TEXT_FIELDS = ("sender_name", "sender_email", "reply_to", "notify_email", "logo_url")
# The email preview is the email's own HTML (inline styles, its logo): shown alone,
# sandboxed, nothing it could load or run.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; sandbox; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
_Text = Annotated[str | None, Query(max_length=64)]


def may_configure(viewer: Viewer) -> bool:
    return viewer.user.role in ADMINS


def require_admin(viewer: Viewer) -> None:
    """Refused (403) unless the user is an admin."""
    if not may_configure(viewer):
        raise Forbidden


_admin = require_admin


def _page(
    pages: PortalPages, request: Request, viewer: Viewer, template: str, **context: Any
) -> Response:
    """A settings page, or the page asking an operator to pick a tenant first."""
    if viewer.tenant_id is None:
        return pages.render(
            "settings_pick.html", viewer=viewer, path=request.url.path, section=template
        )
    return pages.render(
        template,
        viewer=viewer,
        path=request.url.path,
        may_configure=may_configure(viewer),
        **context,
    )


def _not_found(pages: PortalPages, request: Request, viewer: Viewer, what: str) -> Response:
    return pages.render(
        "not_found.html",
        status=404,
        viewer=viewer,
        path=request.url.path,
        what=what,
        back=("/app/settings/webhooks", "Back to the webhook endpoints"),
    )


def _tenant(viewer: Viewer) -> UUID:
    """The tenant a change is made for; an operator must have picked one."""
    if viewer.tenant_id is None:
        raise NotFound("Pick a tenant first")
    return viewer.tenant_id


@router.get("")
def settings_home() -> Response:
    return RedirectResponse("/app/settings/webhooks", 303)


# -- webhook endpoints ---------------------------------------------------------------------


def _endpoint_list(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    *,
    status: int = 200,
    problem: str | None = None,
    done: str | None = None,
    asked: dict[str, Any] | None = None,
) -> Response:
    found: list[Any] = []
    if viewer.tenant_id is not None:
        found = endpoints.list_endpoints(
            uow_factory=app_state(request).uow_factory,
            tenant_id=viewer.tenant_id,
            after_id=None,
            limit=PAGE_SIZE,
        )[:PAGE_SIZE]
    response = _page(
        pages,
        request,
        viewer,
        "webhooks.html",
        endpoints=found,
        event_types=sorted(PUBLIC_TYPES),
        problem=problem,
        done=done,
        asked=asked or {"url": "", "description": "", "types": []},
    )
    response.status_code = status if viewer.tenant_id is not None else 200
    return response


@router.get("/webhooks")
def webhook_list(
    request: Request, viewer: ViewerDep, portal: PortalDep, done: _Text = None
) -> Response:
    """The tenant's webhook endpoints and the form to add one."""
    return _endpoint_list(request, viewer, portal.pages, done=done)


@router.post("/webhooks")
def webhook_create(
    request: Request, viewer: ViewerDep, portal: PortalDep, form: CheckedForm
) -> Response:
    """Add an endpoint; the answer shows its secret, once."""
    _admin(viewer)
    if viewer.tenant_id is None:
        return _page(portal.pages, request, viewer, "settings_pick.html")
    tenant_id = viewer.tenant_id
    state = app_state(request)
    types = [t for t in form.all("event_types") if t][:100] or ["*"]
    asked = {"url": form.get("url"), "description": form.get("description"), "types": types}
    try:
        created = endpoints.create_endpoint(
            uow_factory=state.uow_factory,
            tenant_id=tenant_id,
            url=form.get("url")[:2048],
            event_types=types,
            description=form.get("description")[:1000] or None,
            check=state.webhook_addresses,
            at=portal.pages.clock.now(),
        )
    except InvalidRequest as refused:
        return _endpoint_list(
            request, viewer, portal.pages, status=422, problem=refusal(refused)[1], asked=asked
        )
    return portal.pages.render(
        "webhook_secret.html",
        status=201,
        viewer=viewer,
        path=request.url.path,
        endpoint=created,
        secret=created.secret,
        heading="Webhook endpoint created",
    )


def _statuses(text: str | None) -> DeliveryStatus | None:
    return DeliveryStatus(text) if text in {s.value for s in DeliveryStatus} else None


def _endpoint_page(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    endpoint_id: str,
    *,
    status: str | None = None,
    before: str | None = None,
    done: str | None = None,
    problem: str | None = None,
    code: int = 200,
) -> Response:
    if viewer.tenant_id is None:
        return _page(pages, request, viewer, "webhook.html")
    wanted = parse_uuid(endpoint_id)
    uow = app_state(request).uow_factory
    try:
        if wanted is None:
            raise NotFound("No such endpoint")
        endpoint = endpoints.get_endpoint(
            uow_factory=uow, tenant_id=viewer.tenant_id, endpoint_id=wanted
        )
        deliveries = endpoints.endpoint_deliveries(
            uow_factory=uow,
            tenant_id=viewer.tenant_id,
            endpoint_id=wanted,
            status=_statuses(status),
            before_id=parse_uuid(before),
            limit=PAGE_SIZE,
        )
    except NotFound:
        return _not_found(pages, request, viewer, "webhook endpoint")
    more = None
    if len(deliveries) > PAGE_SIZE:
        deliveries = deliveries[:PAGE_SIZE]
        query = {"status": status or "", "before": str(deliveries[-1].id)}
        more = f"/app/settings/webhooks/{endpoint.id}?" + urlencode(
            {k: v for k, v in query.items() if v}
        )
    response = _page(
        pages,
        request,
        viewer,
        "webhook.html",
        endpoint=endpoint,
        deliveries=deliveries,
        more=more,
        statuses=list(DeliveryStatus),
        asked_status=status or "",
        done=done,
        problem=problem,
        now=pages.clock.now(),
    )
    response.status_code = code
    return response


@router.get("/webhooks/{endpoint_id}")
def webhook_page(
    request: Request,
    endpoint_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    status: _Text = None,
    before: _Text = None,
    done: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    """One endpoint: its settings, its deliveries newest first (filtered by status), and
    the rotate, replay, retry and delete forms."""
    return _endpoint_page(
        request, viewer, portal.pages, endpoint_id, status=status, before=before, done=done
    )


@router.get("/webhooks/{endpoint_id}/deliveries/{delivery_id}")
def delivery_page(
    request: Request, endpoint_id: str, delivery_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """One delivery and every attempt of it (when, response code, latency, error)."""
    wanted, delivery = parse_uuid(endpoint_id), parse_uuid(delivery_id)
    if viewer.tenant_id is None:
        return _page(portal.pages, request, viewer, "delivery.html")
    try:
        if wanted is None or delivery is None:
            raise NotFound("No such delivery")
        found = endpoints.get_delivery(
            uow_factory=app_state(request).uow_factory,
            tenant_id=viewer.tenant_id,
            endpoint_id=wanted,
            delivery_id=delivery,
        )
    except NotFound:
        return _not_found(portal.pages, request, viewer, "delivery")
    return _page(
        portal.pages,
        request,
        viewer,
        "delivery.html",
        endpoint_id=wanted,
        delivery=found.delivery,
        attempts=found.attempts,
    )


def _back(endpoint_id: UUID, **query: str) -> Response:
    return RedirectResponse(f"/app/settings/webhooks/{endpoint_id}?" + urlencode(query), 303)


@router.post("/webhooks/{endpoint_id}/delete", dependencies=[Depends(checked_form)])
def webhook_delete(
    request: Request, endpoint_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """Delete an endpoint (its pending deliveries end undelivered)."""
    _admin(viewer)
    wanted = parse_uuid(endpoint_id)
    try:
        if wanted is None:
            raise NotFound("No such endpoint")
        endpoints.delete_endpoint(
            uow_factory=app_state(request).uow_factory,
            tenant_id=_tenant(viewer),
            endpoint_id=wanted,
            at=portal.pages.clock.now(),
        )
    except NotFound:
        return _not_found(portal.pages, request, viewer, "webhook endpoint")
    return RedirectResponse(
        "/app/settings/webhooks?" + urlencode({"done": "Webhook endpoint deleted"}), 303
    )


@router.post("/webhooks/{endpoint_id}/rotate", dependencies=[Depends(checked_form)])
def webhook_rotate(
    request: Request, endpoint_id: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """A new secret, shown once; the old one keeps signing for 24 hours."""
    _admin(viewer)
    wanted = parse_uuid(endpoint_id)
    try:
        if wanted is None:
            raise NotFound("No such endpoint")
        rotated = endpoints.rotate_secret(
            uow_factory=app_state(request).uow_factory,
            tenant_id=_tenant(viewer),
            endpoint_id=wanted,
            at=portal.pages.clock.now(),
        )
    except NotFound:
        return _not_found(portal.pages, request, viewer, "webhook endpoint")
    return portal.pages.render(
        "webhook_secret.html",
        viewer=viewer,
        path=request.url.path,
        endpoint=rotated,
        secret=rotated.secret,
        heading="Secret rotated",
    )


@router.post(
    "/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry", dependencies=[Depends(checked_form)]
)
def webhook_retry(
    request: Request,
    endpoint_id: str,
    delivery_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
) -> Response:
    """Send one delivery again now, with a fresh retry schedule."""
    _admin(viewer)
    wanted, delivery = parse_uuid(endpoint_id), parse_uuid(delivery_id)
    try:
        if wanted is None or delivery is None:
            raise NotFound("No such delivery")
        endpoints.retry_delivery(
            uow_factory=app_state(request).uow_factory,
            tenant_id=_tenant(viewer),
            endpoint_id=wanted,
            delivery_id=delivery,
            at=portal.pages.clock.now(),
        )
    except NotFound:
        return _not_found(portal.pages, request, viewer, "delivery")
    return _back(wanted, done="Delivery scheduled again")


def _moment(text: str) -> datetime:
    """A ``datetime-local`` field's value, read as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            "Not a moment", [FieldError("#/since", "a date and time, e.g. 2031-03-04T09:00")]
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.post("/webhooks/{endpoint_id}/replay")
def webhook_replay(
    request: Request, endpoint_id: str, viewer: ViewerDep, portal: PortalDep, form: CheckedForm
) -> Response:
    """Send again every event since a moment (UTC) that went to this endpoint."""
    _admin(viewer)
    wanted = parse_uuid(endpoint_id)
    try:
        if wanted is None:
            raise NotFound("No such endpoint")
        count = endpoints.replay_endpoint(
            uow_factory=app_state(request).uow_factory,
            tenant_id=_tenant(viewer),
            endpoint_id=wanted,
            since=_moment(form.get("since")),
            at=portal.pages.clock.now(),
        )
    except NotFound:
        return _not_found(portal.pages, request, viewer, "webhook endpoint")
    except InvalidRequest as refused:
        return _endpoint_page(
            request, viewer, portal.pages, endpoint_id, problem=refusal(refused)[1], code=422
        )
    return _back(wanted, done=f"{count} delivery(ies) scheduled again")


# -- notifications -------------------------------------------------------------------------


@router.get("/notifications")
def notification_settings(
    request: Request, viewer: ViewerDep, portal: PortalDep, done: _Text = None
) -> Response:
    """Who the customer emails come from, how they look and which are sent."""
    found = None
    if viewer.tenant_id is not None:
        found = notifications.get_notification_settings(
            uow_factory=app_state(request).uow_factory, tenant_id=viewer.tenant_id
        )
    return _page(
        portal.pages,
        request,
        viewer,
        "notifications.html",
        settings=found,
        values=None if found is None else found.to_dict(),
        templates=list(Template),
        done=done,
        problem=None,
    )


@router.post("/notifications")
def notification_save(
    request: Request, viewer: ViewerDep, portal: PortalDep, form: CheckedForm
) -> Response:
    """Replace the settings with the form's (422 on the page naming each bad field)."""
    _admin(viewer)
    if viewer.tenant_id is None:
        return _page(portal.pages, request, viewer, "settings_pick.html")
    tenant_id = viewer.tenant_id
    switched_on = set(form.all("template_on"))
    raw: dict[str, Any] = {name: form.get(name)[:200_000] or None for name in TEXT_FIELDS}
    raw["colour"] = form.get("colour")
    raw["accent_colour"] = form.get("accent_colour")
    raw["templates"] = {t.value: t.value in switched_on for t in Template}
    try:
        notifications.update_notification_settings(
            uow_factory=app_state(request).uow_factory,
            tenant_id=tenant_id,
            raw=raw,
            at=portal.pages.clock.now(),
        )
    except InvalidRequest as refused:
        response = _page(
            portal.pages,
            request,
            viewer,
            "notifications.html",
            settings=None,
            values=raw,
            templates=list(Template),
            done=None,
            problem=refusal(refused)[1],
        )
        response.status_code = 422
        return response
    return RedirectResponse(
        "/app/settings/notifications?" + urlencode({"done": "Notification settings saved"}), 303
    )


def _template(name: str) -> Template | None:
    try:
        return Template(name)
    except ValueError:
        return None


@router.get("/notifications/preview/{name}")
def notification_preview(
    request: Request, name: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """One email as the tenant's customers would get it (a sample order): its subject and
    text, and a link to its HTML."""
    template = _template(name)
    if template is None:
        return _not_found(portal.pages, request, viewer, "email template")
    rendered = None
    if viewer.tenant_id is not None:
        state = app_state(request)
        rendered = preview_email(
            uow_factory=state.uow_factory,
            renderer=state.email_renderer,
            links=state.status_links,
            tenant_id=viewer.tenant_id,
            template=template,
            now=portal.pages.clock.now(),
        )
    return _page(
        portal.pages,
        request,
        viewer,
        "notification_preview.html",
        email_template=template,
        email=rendered,
    )


@router.get("/notifications/preview/{name}/html")
def notification_preview_html(
    request: Request, name: str, viewer: ViewerDep, portal: PortalDep
) -> Response:
    """The previewed email's HTML alone, sandboxed (no script, nothing loaded but images)."""
    template = _template(name)
    if template is None or viewer.tenant_id is None:
        return _not_found(portal.pages, request, viewer, "email template")
    state = app_state(request)
    rendered = preview_email(
        uow_factory=state.uow_factory,
        renderer=state.email_renderer,
        links=state.status_links,
        tenant_id=viewer.tenant_id,
        template=template,
        now=portal.pages.clock.now(),
    )
    return Response(
        rendered.html,
        media_type="text/html",
        headers={
            "Content-Security-Policy": PREVIEW_POLICY,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


# -- read-only: routing profile, carrier rate cards, API keys -------------------------------


@router.get("/routing")
def routing_profile(request: Request, viewer: ViewerDep, portal: PortalDep) -> Response:
    """The routing profile in force and every saved version, newest first."""
    current, versions = None, []
    if viewer.tenant_id is not None:
        uow = app_state(request).uow_factory
        current = routing_profiles.get_routing_profile(uow_factory=uow, tenant_id=viewer.tenant_id)
        versions = routing_profiles.list_profile_versions(
            uow_factory=uow, tenant_id=viewer.tenant_id
        )
    return _page(
        portal.pages,
        request,
        viewer,
        "routing_profile.html",
        current=current,
        settings=None if current is None else current.to_dict(),
        versions=versions,
    )


@router.get("/carriers")
async def carrier_rate_cards(request: Request, viewer: ViewerDep, portal: PortalDep) -> Response:
    """The deployment's carrier services and their rate cards (the operator's; the same
    for every tenant)."""
    services = await run_in_threadpool(
        carriers.list_carrier_services, uow_factory=app_state(request).uow_factory
    )
    return portal.pages.render(
        "carriers.html", viewer=viewer, path=request.url.path, services=services
    )


@router.get("/api-keys")
def api_keys(
    request: Request,
    viewer: ViewerDep,
    portal: PortalDep,
    done: Annotated[str | None, Query(max_length=600)] = None,
) -> Response:
    """The API keys of the tenant looked at (an operator looking at all: every key),
    revoked ones too; never a secret, only its first characters. Admins make and revoke
    keys here (``oms.web.portal.api_keys``)."""
    keys = tenants.list_api_keys(
        uow_factory=app_state(request).uow_factory, tenant_id=viewer.tenant_id
    )
    return portal.pages.render(
        "api_keys.html",
        viewer=viewer,
        path=request.url.path,
        keys=keys,
        names=viewer.tenant_names,
        may_configure=may_configure(viewer),
        done=done,
    )
