"""Each step of a return tells the customer by email, in the customer's words, and an email
whose step the return has moved past is not sent."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import Engine, select

from oms.adapters.db.tables import outbox
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.email.rendering import JinjaEmailRenderer
from oms.adapters.payments.registry import gateway_named
from oms.domain.notifications import Template, template_for
from oms.domain.pickup_codes import PickupCodeKey
from oms.domain.returns import Disposition, WantedLine
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services import returns
from oms.services.customer_email import compose_email
from oms.services.event_catalogue import public_type
from oms.services.events import Event
from oms.services.return_labels import buy_return_label
from oms.services.tracking import CarrierEvent, record_carrier_events
from tests.builders import TESTER
from tests.integration.returns_support import (
    CARRIERS,
    SHIPPED_AT,
    open_shop,
    returns_engine,
    shipped_order,
)

__all__ = ["returns_engine"]

LATER = SHIPPED_AT + timedelta(days=3)


class _Links:
    def order_status_url(self, tenant_id: UUID, order_id: UUID, order_number: int) -> str:
        return f"https://shop.example/status/{order_number}"

    def tracking_url(self, tracking_number: str) -> str:
        return f"https://shop.example/track/{tracking_number}"


@pytest.fixture
def uow_factory(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


def _events(engine: Engine, tenant_id: UUID, topic: str) -> list[Event]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(outbox).where(outbox.c.tenant_id == tenant_id, outbox.c.topic == topic)
        ).all()
    return [
        Event(
            id=row.id,
            tenant_id=tenant_id,
            type=public_type(row.topic, row.payload) or "",
            created_at=row.created_at,
            data={},
            topic=row.topic,
            aggregate_id=row.aggregate_id,
            detail=row.payload,
        )
        for row in rows
    ]


def _subject(uow_factory: SqlUnitOfWorkFactory, event: Event) -> str | None:
    template = template_for(event.type)
    assert template is not None
    with uow_factory(readonly=True) as uow:
        draft = compose_email(
            uow, event, template, links=_Links(), pickup_key=PickupCodeKey("k"), now=LATER
        )
    if draft is None:
        return None
    assert draft.to == "erika@example.com"
    return JinjaEmailRenderer().render(draft.context).subject


def test_requested_then_rejected_tells_the_customer_why_and_no_stale_email(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, returns_engine: Engine
) -> None:
    shop = open_shop(uow_factory, tenant_id)
    order = shipped_order(uow_factory, shop, ("X", 1))
    request, _ = returns.request_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order.id,
        command=returns.NewReturn((WantedLine(1, 1, "changed_mind"),)),
        actor=TESTER,
        at=LATER,
    )
    (requested,) = _events(returns_engine, shop, "return.requested")
    assert template_for(requested.type) is Template.RETURN_REQUESTED
    assert _subject(uow_factory, requested) == (
        f"We have your return request for order #{order.number}"
    )
    returns.reject_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=request.id,
        actor=TESTER,
        note="worn and washed",
        at=LATER,
        gateways=gateway_named,
    )
    assert _subject(uow_factory, requested) is None  # it moved on: no stale email
    (rejected,) = _events(returns_engine, shop, "return.rejected")
    with uow_factory(readonly=True) as uow:
        draft = compose_email(
            uow,
            rejected,
            Template.RETURN_REJECTED,
            links=_Links(),
            pickup_key=PickupCodeKey("k"),
            now=LATER,
        )
    assert draft is not None
    assert "The reason: worn and washed" in JinjaEmailRenderer().render(draft.context).text


def test_approved_and_received_emails_follow_a_defect(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, returns_engine: Engine
) -> None:
    shop = open_shop(uow_factory, tenant_id)
    order = shipped_order(uow_factory, shop, ("X", 1))
    request, _ = returns.request_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order.id,
        command=returns.NewReturn((WantedLine(1, 1, "defective"),)),
        actor=TESTER,
        at=LATER,
    )
    buy_return_label(
        uow_factory=uow_factory,
        carriers=CARRIERS,
        tenant_id=shop,
        return_id=request.id,
        location="NEAR",
        actor=TESTER,
        at=LATER,
    )
    returns.receive_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=request.id,
        location="NEAR",
        units=[returns.ReceivedUnits(1, 1, Disposition.QUARANTINE)],
        actor=TESTER,
        at=LATER,
    )
    (approved,) = _events(returns_engine, shop, "return.approved")
    (received,) = _events(returns_engine, shop, "return.received")
    assert _subject(uow_factory, approved) == f"Your return for order #{order.number} is approved"
    with uow_factory(readonly=True) as uow:
        draft = compose_email(
            uow,
            approved,
            Template.RETURN_APPROVED,
            links=_Links(),
            pickup_key=PickupCodeKey("k"),
            now=LATER,
        )
    assert draft is not None
    label = returns.get_return(uow_factory=uow_factory, tenant_id=shop, return_id=request.id).label
    assert label is not None
    assert label.tracking_number in JinjaEmailRenderer().render(draft.context).text
    assert _subject(uow_factory, received) == (
        f"We have received your return for order #{order.number}"
    )


def test_the_approval_email_still_goes_once_the_parcel_is_scanned_on_its_way(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, returns_engine: Engine
) -> None:
    shop = open_shop(uow_factory, tenant_id)
    order = shipped_order(uow_factory, shop, ("X", 1))
    request, _ = returns.request_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order.id,
        command=returns.NewReturn((WantedLine(1, 1, "defective"),)),
        actor=TESTER,
        at=LATER,
    )
    labelled = buy_return_label(
        uow_factory=uow_factory,
        carriers=CARRIERS,
        tenant_id=shop,
        return_id=request.id,
        location="NEAR",
        actor=TESTER,
        at=LATER,
    )
    assert labelled.label is not None
    record_carrier_events(
        uow_factory=uow_factory,
        carrier=labelled.label.carrier,
        events=[
            CarrierEvent(
                labelled.label.tracking_number,
                TrackingEvent("scan-1", ShipmentStatus.IN_TRANSIT, LATER + timedelta(hours=3)),
            )
        ],
        at=LATER + timedelta(hours=3),
    )
    (approved,) = _events(returns_engine, shop, "return.approved")
    assert _subject(uow_factory, approved) == f"Your return for order #{order.number} is approved"
