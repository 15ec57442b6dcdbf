"""The portal's order pages: the search with its filters and cursor pages, one order with
everything about it, and the actions on it (release a hold, cancel, reroute, edit the
shipping address, send a customer email again). Each calls the use case the API calls;
nothing here reads the database.

Actions answer with a redirect to the order page (``?done=`` says what happened) or the
order page again with the refusal and its status (409, 412, 422).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from oms.domain.addresses import Address
from oms.domain.errors import (
    NotFound,
    OmsError,
)
from oms.domain.holds import HoldReason
from oms.domain.status import FulfillmentStatus, OrderStatus, PaymentStatus
from oms.services import editing, holds, orders, rerouting
from oms.services.notification_resend import resend_email
from oms.services.order_overview import find_orders, order_overview, search_choices
from oms.services.ports import OrderSearch
from oms.web.portal.auth import (
    CheckedForm,
    Form,
    PortalDep,
    Viewer,
    ViewerDep,
    actor_may_act,
    app_state,
)
from oms.web.portal.rendering import PortalPages, parse_uuid, refusal
from oms.web.portal.words import routing_story, who

__all__ = ["router"]

router = APIRouter(prefix="/app", include_in_schema=False)

PAGE_SIZE = 50
ADDRESS_FIELDS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "country")
_Text = Annotated[str | None, Query(max_length=320)]


def _day(text: str | None) -> date | None:
    try:
        return None if not text else date.fromisoformat(text)
    except ValueError:
        return None


def _choice(
    text: str | None, allowed: type[OrderStatus | FulfillmentStatus | PaymentStatus | HoldReason]
) -> str | None:
    return text if text in {m.value for m in allowed} else None


@router.get("/orders")
async def order_list(
    request: Request,
    viewer: ViewerDep,
    portal: PortalDep,
    q: _Text = None,
    status: _Text = None,
    fulfillment: _Text = None,
    payment: _Text = None,
    channel: _Text = None,
    location: _Text = None,
    hold: _Text = None,
    created_from: _Text = None,
    created_to: _Text = None,
    before: _Text = None,
) -> Response:
    """Orders newest first, found by number, email, name, external id or tracking number,
    filtered by status axes, channel, location, hold reason and dates."""
    day_from, day_to = _day(created_from), _day(created_to)
    search = OrderSearch(
        text=(q or "").strip() or None,
        status=_choice(status, OrderStatus),
        fulfillment_status=_choice(fulfillment, FulfillmentStatus),
        payment_status=_choice(payment, PaymentStatus),
        channel=(channel or "").strip() or None,
        location_id=parse_uuid(location),
        hold_reason=_choice(hold, HoldReason),
        created_from=None if day_from is None else datetime.combine(day_from, time(), UTC),
        created_to=(
            None if day_to is None else datetime.combine(day_to + timedelta(days=1), time(), UTC)
        ),
    )
    uow = app_state(request).uow_factory
    found = await run_in_threadpool(
        find_orders,
        uow_factory=uow,
        tenant_id=viewer.tenant_id,
        search=search,
        before_id=parse_uuid(before),
        limit=PAGE_SIZE + 1,
    )
    choices = await run_in_threadpool(search_choices, uow_factory=uow, tenant_id=viewer.tenant_id)
    asked = {
        "q": q or "",
        "status": search.status or "",
        "fulfillment": search.fulfillment_status or "",
        "payment": search.payment_status or "",
        "channel": search.channel or "",
        "location": location or "",
        "hold": search.hold_reason or "",
        "created_from": created_from or "",
        "created_to": created_to or "",
    }
    shown = found[:PAGE_SIZE]
    more = None
    if len(found) > PAGE_SIZE:
        more = "/app/orders?" + urlencode(
            {**{k: v for k, v in asked.items() if v}, "before": shown[-1].id}
        )
    template = "_order_rows.html" if request.headers.get("hx-request") else "orders.html"
    return portal.pages.render(
        template,
        viewer=viewer,
        orders=shown,
        more=more,
        asked=asked,
        locations=choices.locations,
        statuses=list(OrderStatus),
        fulfillment_statuses=list(FulfillmentStatus),
        payment_statuses=list(PaymentStatus),
        hold_reasons=list(HoldReason),
        path=request.url.path,
    )


def _not_found(pages: PortalPages, viewer: Viewer) -> Response:
    return pages.render("not_found.html", status=404, viewer=viewer, path="/app/orders")


def _order_page(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    tenant_id: UUID,
    order_id: UUID,
    *,
    status: int = 200,
    problem: str | None = None,
    done: str | None = None,
) -> Response:
    if not viewer.may_see(tenant_id):
        return _not_found(pages, viewer)
    try:
        seen = order_overview(
            uow_factory=app_state(request).uow_factory, tenant_id=tenant_id, order_id=order_id
        )
    except NotFound:
        return _not_found(pages, viewer)
    order = seen.order
    return pages.render(
        "order.html",
        status=status,
        viewer=viewer,
        seen=seen,
        order=order,
        story=routing_story(order),
        who=lambda actor: who(actor, seen.people),
        open_holds=[h for h in order.holds if h.is_open],
        summary=order.payment_summary(pages.clock.now()),
        problem=problem,
        done=done,
        address_fields=ADDRESS_FIELDS,
        base=f"/app/orders/{tenant_id}/{order_id}",
        path=request.url.path,
    )


@router.get("/orders/{tenant_id}/{order_id}")
def order_page(
    request: Request,
    tenant_id: str,
    order_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    done: _Text = None,
) -> Response:
    """One order: lines, allocations, routing in words, payments, fulfilment, shipments,
    deliveries of its events and the timeline, with the actions the user may take."""
    tenant, order = parse_uuid(tenant_id), parse_uuid(order_id)
    if tenant is None or order is None:
        return _not_found(portal.pages, viewer)
    return _order_page(request, viewer, portal.pages, tenant, order, done=done)


def _act(
    request: Request,
    viewer: Viewer,
    pages: PortalPages,
    tenant_id: str,
    order_id: str,
    action: str,
    run: object,
) -> Response:
    """Run ``run(tenant, order)`` for the user; the order page after it (or its refusal)."""
    tenant, order = parse_uuid(tenant_id), parse_uuid(order_id)
    if tenant is None or order is None or not viewer.may_see(tenant):
        return _not_found(pages, viewer)
    actor_may_act(viewer)
    assert callable(run)
    try:
        run(tenant, order)
    except NotFound:
        return _not_found(pages, viewer)
    except OmsError as refused:
        status, problem = refusal(refused)
        return _order_page(request, viewer, pages, tenant, order, status=status, problem=problem)
    where = f"/app/orders/{tenant}/{order}?" + urlencode({"done": action})
    return RedirectResponse(where, 303)


def _note(form: Form) -> str | None:
    return form.get("note")[:2000] or None


@router.post("/orders/{tenant_id}/{order_id}/holds/{hold_id}/release")
def release_hold(
    request: Request,
    tenant_id: str,
    order_id: str,
    hold_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Release one hold with a note (the note is required)."""
    state = app_state(request)

    def run(tenant: UUID, order: UUID) -> None:
        hold = parse_uuid(hold_id)
        if hold is None:
            raise NotFound(f"No hold {hold_id}")
        holds.release_hold(
            uow_factory=state.uow_factory,
            tenant_id=tenant,
            order_id=order,
            hold_id=hold,
            note=_note(form),
            actor=viewer.actor,
            gateways=state.gateways,
        )

    return _act(request, viewer, portal.pages, tenant_id, order_id, "Hold released", run)


@router.post("/orders/{tenant_id}/{order_id}/cancel")
def cancel_order(
    request: Request,
    tenant_id: str,
    order_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Cancel what has not shipped; what was paid is refunded by the tenant's policy."""
    state = app_state(request)

    def run(tenant: UUID, order: UUID) -> None:
        orders.cancel_order(
            uow_factory=state.uow_factory,
            tenant_id=tenant,
            order_id=order,
            actor=viewer.actor,
            reason=_note(form),
            gateways=state.gateways,
        )

    return _act(request, viewer, portal.pages, tenant_id, order_id, "Order cancelled", run)


@router.post("/orders/{tenant_id}/{order_id}/reroute")
def reroute_order(
    request: Request,
    tenant_id: str,
    order_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Route what has not shipped again, never to the locations named."""
    state = app_state(request)
    exclude = [code.strip() for code in form.get("exclude").split(",") if code.strip()][:100]

    def run(tenant: UUID, order: UUID) -> None:
        rerouting.reroute_order(
            uow_factory=state.uow_factory,
            tenant_id=tenant,
            order_id=order,
            exclude=exclude,
            reason=_note(form),
            actor=viewer.actor,
            geocoder=state.geocoder,
            gateways=state.gateways,
        )

    return _act(request, viewer, portal.pages, tenant_id, order_id, "Order rerouted", run)


@router.post("/orders/{tenant_id}/{order_id}/address")
def edit_address(
    request: Request,
    tenant_id: str,
    order_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Change the shipping address, if the order is still at the version the form showed
    (If-Match, as the API's PATCH): a stale form is refused with 412."""
    state = app_state(request)

    def run(tenant: UUID, order: UUID) -> None:
        given = {name: form.get(name)[:200] or None for name in ADDRESS_FIELDS}
        address = Address(
            country=(given["country"] or "").upper(),
            name=given["name"],
            company=given["company"],
            line1=given["line1"],
            line2=given["line2"],
            city=given["city"],
            region=given["region"],
            postal_code=given["postal_code"],
        )
        try:
            version = int(form.get("version"))
        except ValueError:
            version = -1
        editing.edit_order(
            uow_factory=state.uow_factory,
            tenant_id=tenant,
            order_id=order,
            edit=editing.OrderEdit(shipping_address=address),
            expected_version=version,
            actor=viewer.actor,
            gateways=state.gateways,
            geocoder=state.geocoder,
        )

    return _act(request, viewer, portal.pages, tenant_id, order_id, "Address changed", run)


@router.post("/orders/{tenant_id}/{order_id}/emails/resend")
def resend_notification(
    request: Request,
    tenant_id: str,
    order_id: str,
    viewer: ViewerDep,
    portal: PortalDep,
    form: CheckedForm,
) -> Response:
    """Send one of the order's customer emails again (``oms worker`` sends it through the
    email sink); ``notification.resent`` lands in the timeline under the user."""
    state = app_state(request)

    def run(tenant: UUID, order: UUID) -> None:
        delivery = parse_uuid(form.get("delivery"))
        if delivery is None:
            raise NotFound("No such email of this order")
        resend_email(
            uow_factory=state.uow_factory,
            tenant_id=tenant,
            order_id=order,
            delivery_id=delivery,
            actor=viewer.actor,
            note=_note(form),
        )

    return _act(
        request, viewer, portal.pages, tenant_id, order_id, "Email queued to be sent again", run
    )
