"""Paid orders in intake groups: a payment through a gateway that calls nothing outside the
database (``manual``: a channel's reported payment) is recorded in the group, and a clean
paid order is released there with its fulfilment orders; a gateway that calls out
(``test``, standing for a card processor) is never called by a group. Both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, event, func, select

from oms.adapters.db.tables import fulfillment_orders, outbox, payments
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments import ManualGateway, TestGateway, gateway_named
from oms.domain.payments import PaymentKind
from oms.services import intake, intake_group
from oms.services.checks import find_invariant_violations
from oms.services.intake import PlacedOrder
from oms.services.intake_group import Submission, groupable, place_group
from oms.services.payment_gateway import PaymentGateway
from oms.services.tenants import create_tenant
from tests.builders import PAID, TESTER, add_location, add_product, order_of, set_stock
from tests.refusing_database import refusing_uow_factory

AT = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""A fixed clock for what these tests write (no test reads the wall clock)."""

AUTHORIZED = intake.ChannelPayment(gateway="manual")
CARD = intake.ChannelPayment(gateway="test", token="tok_approve")


class Gateways:
    """One gateway of each kind, remembered, so a test can count their calls."""

    def __init__(self) -> None:
        self.manual = ManualGateway()
        self.test = TestGateway()

    def __call__(self, name: str) -> PaymentGateway:
        return {"manual": self.manual, "test": self.test}[name]


def _world(uow_factory: SqlUnitOfWorkFactory) -> UUID:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="paid group tenant")
    add_location(uow_factory, tenant.id, "A")
    for sku in ("RED", "BLUE"):
        add_product(uow_factory, tenant.id, sku)
        set_stock(uow_factory, tenant.id, sku, "A", 20)
    return tenant.id


def _submit(tenant_id: UUID, command: intake.PlaceOrder) -> Submission:
    return Submission(tenant_id=tenant_id, command=command, actor=TESTER, at=AT)


def _count(engine: Engine, table: Any, tenant_id: UUID) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
        ).scalar_one()
    return int(found)


@pytest.fixture
def alone(monkeypatch: pytest.MonkeyPatch) -> list[Submission]:
    calls: list[Submission] = []
    real = intake_group.place_alone

    def spy(uow_factory: Any, gateways: Any, geocoder: Any, submission: Submission) -> Any:
        calls.append(submission)
        return real(uow_factory, gateways, geocoder, submission)

    monkeypatch.setattr(intake_group, "place_alone", spy)
    return calls


def test_only_a_payment_through_a_gateway_that_calls_out_keeps_an_order_from_groups() -> None:
    gateways = Gateways()
    assert groupable(order_of(("RED", 1), payment=None), None, gateways)
    assert groupable(order_of(("RED", 1), payment=PAID), None, gateways)
    assert groupable(order_of(("RED", 1), payment=AUTHORIZED), None, gateways)
    assert not groupable(order_of(("RED", 1), payment=CARD), None, gateways)
    unknown = intake.ChannelPayment(gateway="nowhere")
    assert not groupable(order_of(("RED", 1), payment=unknown), None, gateway_named)
    assert not groupable(order_of(("RED", 1), payment=PAID), "key", gateways)


def test_paid_channel_orders_are_placed_and_released_in_the_group(
    engine: Engine, alone: list[Submission]
) -> None:
    uow_factory = SqlUnitOfWorkFactory(engine)
    tenant_id = _world(uow_factory)
    gateways = Gateways()
    commands = [
        order_of(("RED", 2), payment=PAID, external_id="p1"),
        order_of(("RED", 1), ("BLUE", 1), payment=PAID, external_id="p2"),
        order_of(("BLUE", 3), payment=AUTHORIZED, external_id="a1"),
        order_of(("BLUE", 1), payment=None, external_id="u1"),
    ]

    outcomes = place_group(
        uow_factory=uow_factory,
        gateways=gateways,
        geocoder=None,
        submissions=[_submit(tenant_id, c) for c in commands],
    )

    assert alone == []
    placed = [o for o in outcomes if isinstance(o, PlacedOrder)]
    assert len(placed) == 4
    assert [o.order.payment_status.value for o in placed] == [
        "paid",
        "paid",
        "authorized",
        "pending",
    ]
    # The clean paid and authorized orders are released with their fulfilment orders.
    assert [o.order.released_at is not None for o in placed] == [True, True, True, False]
    with uow_factory() as uow:
        for o in placed:
            stored = uow.orders.get(tenant_id, o.order.id)
            assert stored is not None
            assert stored.payment_status == o.order.payment_status
            assert stored.version == o.order.version
            fos = uow.fulfilment.for_order(tenant_id, o.order.id)
            assert len(fos) == (1 if o.order.released_at is not None else 0)
            assert [e.type for e in stored.events] == [e.type for e in o.order.events]
    # An authorization and a capture per paid order, an authorization for the authorized.
    kinds = [p.kind for o in placed for p in o.order.payments]
    assert kinds.count(PaymentKind.AUTHORIZATION) == 3
    assert kinds.count(PaymentKind.CAPTURE) == 2
    assert _count(engine, payments, tenant_id) == 5
    assert _count(engine, fulfillment_orders, tenant_id) == 3
    with engine.connect() as conn:  # one outbox message per event, each once
        messages = conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.aggregate_id.in_([o.order.id for o in placed]))
        ).scalar_one()
    assert messages == sum(len(o.order.events) for o in placed)
    assert gateways.test.calls == []
    assert find_invariant_violations(uow_factory=uow_factory) == []


def test_a_paid_group_that_rolls_back_leaves_no_payment_and_calls_no_card_gateway(
    engine: Engine, alone: list[Submission], caplog: pytest.LogCaptureFixture
) -> None:
    """The group's write fails (an order the database refuses): it rolls back, each order
    goes alone; only what the alone placements did is stored, and the card gateway was
    called once, by its order placed alone."""
    uow_factory = SqlUnitOfWorkFactory(engine)
    tenant_id = _world(uow_factory)
    gateways = Gateways()
    refusing = refusing_uow_factory(engine)

    paid = order_of(("RED", 1), payment=PAID)
    commands = [paid, replace(paid, note="refused"), paid, order_of(("BLUE", 1), payment=CARD)]

    outcomes = place_group(
        uow_factory=refusing,
        gateways=gateways,
        geocoder=None,
        submissions=[_submit(tenant_id, c) for c in commands],
    )

    assert [type(o).__name__ for o in outcomes] == [
        "PlacedOrder",
        "DataError",
        "PlacedOrder",
        "PlacedOrder",
    ]
    assert len(alone) == 4  # the three of the group after its rollback, and the card's
    # Two paid orders (authorization + capture each) and the card's authorization: nothing
    # of the rolled-back group, nothing of the refused order.
    assert _count(engine, payments, tenant_id) == 5
    assert [c.kind for c in gateways.test.calls] == [PaymentKind.AUTHORIZATION]
    assert find_invariant_violations(uow_factory=uow_factory) == []
    caplog.clear()  # the group's write fault is logged, as expected here


def test_a_paid_order_placed_alone_is_written_once_with_its_release(engine: Engine) -> None:
    """Released at once, the order's release rides in its one insert and its fulfilment
    orders follow it: nothing of the new order is read back, its row never updated."""
    uow_factory = SqlUnitOfWorkFactory(engine)
    tenant_id = _world(uow_factory)
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", count)
    try:
        placed = intake.place_order(
            uow_factory=uow_factory,
            gateways=Gateways(),
            tenant_id=tenant_id,
            command=order_of(("RED", 2), ("BLUE", 1), payment=PAID, external_id="alone-1"),
            actor=TESTER,
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert placed.created
    assert placed.order.released_at is not None
    read_back = [
        s
        for s in seen
        if s.startswith("select")
        and any(f"from {t} " in s for t in ("order_lines", "allocations", "fulfillment_orders"))
    ]
    assert read_back == []
    assert not [s for s in seen if s.startswith("update orders")]
    with uow_factory() as uow:
        stored = uow.orders.get(tenant_id, placed.order.id)
        fos = uow.fulfilment.for_order(tenant_id, placed.order.id)
    assert stored is not None
    assert stored.version == placed.order.version == 2  # placed, then released: as before
    assert [e.type for e in stored.events] == [
        "order.placed",
        "payment.authorized",
        "payment.captured",
        "order.released",
        "fulfillment_order.created",
    ]
    assert [(ln.sku, ln.quantity) for fo in fos for ln in fo.lines] == [("RED", 2), ("BLUE", 1)]
    with engine.connect() as conn:  # one outbox message per event, each once
        topics = conn.execute(
            select(outbox.c.topic)
            .where(outbox.c.aggregate_id == placed.order.id)
            .order_by(outbox.c.created_at, outbox.c.id)
        ).scalars()
        assert sorted(topics) == sorted(e.type for e in stored.events)
    assert find_invariant_violations(uow_factory=uow_factory) == []
