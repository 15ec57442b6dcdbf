"""The exceptions queue: open holds grouped by reason, oldest first, each with its age and
SLA colour; several released at once with one note, or their orders cancelled at once with
one reason (what was paid refunded, as the API's cancel). Operators looking at all tenants
see every tenant's holds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from oms.domain.errors import OmsError
from oms.domain.holds import HoldReason
from oms.services import holds, orders
from oms.services.holds import HoldView
from oms.web.portal.auth import (
    CheckedForm,
    Form,
    PortalDep,
    Viewer,
    ViewerDep,
    actor_may_act,
    app_state,
)
from oms.web.portal.words import age_of, sla_colour

__all__ = ["router"]

router = APIRouter(prefix="/app", include_in_schema=False)

PER_TENANT = 200


@dataclass(frozen=True)
class QueuedItem:
    tenant_id: UUID
    tenant: str
    view: HoldView
    age: str
    colour: str

    @property
    def key(self) -> str:
        return f"{self.tenant_id}:{self.view.order_id}:{self.view.hold.id}"


@router.get("/exceptions")
def exceptions_queue(
    request: Request, viewer: ViewerDep, portal: PortalDep, done: str | None = None
) -> Response:
    """Open holds by reason, oldest first, with age and SLA colour."""
    state = app_state(request)
    now = portal.pages.clock.now()
    tenant_ids = [viewer.tenant_id] if viewer.tenant_id else [t.id for t in viewer.tenants]
    names = viewer.tenant_names
    groups: dict[HoldReason, list[QueuedItem]] = defaultdict(list)
    for tenant_id in tenant_ids:
        for view in holds.list_open_holds(
            uow_factory=state.uow_factory,
            tenant_id=tenant_id,
            reason=None,
            after_id=None,
            limit=PER_TENANT,
            now=now,
        ):
            groups[view.hold.reason].append(
                QueuedItem(
                    tenant_id=tenant_id,
                    tenant=names.get(tenant_id, str(tenant_id)),
                    view=view,
                    age=age_of(view.hold.created_at, now),
                    colour=sla_colour(view.hold, now),
                )
            )
    ordered = [
        (reason, sorted(groups[reason], key=lambda item: item.view.hold.created_at))
        for reason in HoldReason
        if groups.get(reason)
    ]
    return portal.pages.render(
        "exceptions.html",
        viewer=viewer,
        groups=ordered,
        total=sum(len(items) for _, items in ordered),
        done=done,
        path=request.url.path,
    )


def _ticked(viewer: Viewer, form: Form) -> list[tuple[UUID, UUID, UUID]]:
    """The (tenant, order, hold) of each ticked box the user may see, in the form's order."""
    found = []
    for key in form.all("hold")[:500]:
        try:
            tenant_id, order_id, hold_id = (UUID(part) for part in key.split(":"))
        except ValueError:
            continue
        if viewer.may_see(tenant_id):
            found.append((tenant_id, order_id, hold_id))
    return found


def _answer(done: str, refused: list[str]) -> Response:
    if refused:
        done += f"; {len(refused)} refused: {refused[0]}"
    return RedirectResponse("/app/exceptions?" + urlencode({"done": done}), 303)


@router.post("/exceptions/release")
def release_many(request: Request, viewer: ViewerDep, form: CheckedForm) -> Response:
    """Release every ticked hold with the one note; says how many were released and which
    were refused (each in its own transaction)."""
    actor_may_act(viewer)
    state = app_state(request)
    note = form.get("note")[:2000] or None
    released, refused = 0, []
    for tenant_id, order_id, hold_id in _ticked(viewer, form):
        try:
            holds.release_hold(
                uow_factory=state.uow_factory,
                tenant_id=tenant_id,
                order_id=order_id,
                hold_id=hold_id,
                note=note,
                actor=viewer.actor,
                gateways=state.gateways,
            )
            released += 1
        except OmsError as error:
            refused.append(error.detail)
    return _answer(f"{released} hold(s) released", refused)


@router.post("/exceptions/cancel")
def cancel_many(request: Request, viewer: ViewerDep, form: CheckedForm) -> Response:
    """Cancel the order of every ticked hold (once per order) with the one note as the
    reason; what was paid is refunded by the tenant's policy (``orders.cancel_order`` with
    the gateways, as the API). A note is required; each order in its own transaction."""
    actor_may_act(viewer)
    state = app_state(request)
    note = form.get("note")[:2000]
    if not note:
        return _answer("Nothing cancelled: a reason is required", [])
    cancelled, refused = 0, []
    seen: set[tuple[UUID, UUID]] = set()
    for tenant_id, order_id, _hold in _ticked(viewer, form):
        if (tenant_id, order_id) in seen:
            continue
        seen.add((tenant_id, order_id))
        try:
            orders.cancel_order(
                uow_factory=state.uow_factory,
                tenant_id=tenant_id,
                order_id=order_id,
                actor=viewer.actor,
                reason=note,
                gateways=state.gateways,
            )
            cancelled += 1
        except OmsError as error:
            refused.append(error.detail)
    return _answer(f"{cancelled} order(s) cancelled", refused)
