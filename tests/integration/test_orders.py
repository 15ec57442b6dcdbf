"""Order intake, reading, listing and cancelling through the use cases, on both databases."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.catalogue import ProductKind
from oms.domain.errors import IdempotencyMismatch, InsufficientStock, InvalidRequest
from oms.domain.holds import HoldReason
from oms.domain.status import OrderStatus
from oms.services.intake import LineRequest, PlaceOrder, place_order
from oms.services.inventory import get_stock
from oms.services.orders import cancel_order, get_order, list_orders
from oms.services.ports import OrderFilter
from tests.builders import TESTER, add_location, add_product, order_of, place, set_stock


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    """Two warehouses: A (priority 10) and B (priority 20); SKUs X, Y, and a gift card."""
    add_location(uow_factory, tenant_id, "A", priority=10)
    add_location(uow_factory, tenant_id, "B", priority=20)
    add_product(uow_factory, tenant_id, "X", price="12.50")
    add_product(uow_factory, tenant_id, "Y", price="3.00")
    add_product(uow_factory, tenant_id, "GIFT", price="25.00", kind=ProductKind.DIGITAL)
    return tenant_id


def _reserved(uow: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> int | None:
    return get_stock(uow_factory=uow, tenant_id=tenant_id, sku=sku).reserved


def test_a_placed_order_reserves_stock_numbers_itself_and_starts_its_timeline(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "A", 5)
    first = place(uow_factory, shop, order_of(("X", 2), ("GIFT", 1))).order
    second = place(uow_factory, shop, order_of(("X", 1))).order

    assert second.number == first.number + 1
    assert first.subtotal == Decimal("50.00")
    # Paid at intake, so released: the digital line is delivered at once.
    assert [(line.allocated, line.backordered, line.shipped) for line in first.lines] == [
        (2, 0, 0),
        (0, 0, 1),
    ]
    assert [(a.sku, a.quantity) for a in first.allocations] == [("X", 2)]
    assert [e.type for e in first.events] == [
        "order.placed",
        "payment.authorized",
        "payment.captured",
        "order.released",
        "digital.delivered",
        "fulfillment_order.created",
    ]
    stored = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=first.id)
    assert stored.events[0].data["allocations"][0]["location"] == "A"
    assert stored.status is OrderStatus.OPEN
    assert _reserved(uow_factory, shop, "X") == 3


def test_one_location_that_has_everything_beats_a_split(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "A", 5)
    set_stock(uow_factory, shop, "X", "B", 5)
    set_stock(uow_factory, shop, "Y", "B", 5)
    order = place(uow_factory, shop, order_of(("X", 2), ("Y", 1))).order
    stored = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
    assert [(a["sku"], a["location"]) for a in stored.events[0].data["allocations"]] == [
        ("X", "B"),
        ("Y", "B"),
    ]
    assert [(a.sku, a.location_code) for a in stored.allocations] == [("X", "B"), ("Y", "B")]


def test_without_one_location_lines_split_by_priority_and_the_rest_is_backordered(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "A", 2)
    set_stock(uow_factory, shop, "X", "B", 3)
    order = place(uow_factory, shop, order_of(("X", 7))).order
    assert sorted(a.quantity for a in order.allocations) == [2, 3]
    assert (order.lines[0].allocated, order.lines[0].backordered) == (5, 2)
    assert order.events[0].data["backordered"] == {"1": 2}


def test_short_stock_without_backorders_is_refused_and_writes_nothing(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "A", 2)
    set_stock(uow_factory, shop, "Y", "A", 9)
    with pytest.raises(InsufficientStock) as refused:
        place(uow_factory, shop, order_of(("Y", 1), ("X", 3), allow_backorder=False))
    assert refused.value.extra["short_skus"] == ["X"]
    assert _reserved(uow_factory, shop, "X") == 0
    assert _reserved(uow_factory, shop, "Y") == 0
    assert (
        list_orders(
            uow_factory=uow_factory, tenant_id=shop, filters=OrderFilter(), before_id=None, limit=5
        )
        == []
    )


def test_unknown_skus_and_foreign_currency_prices_are_named_by_line(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    command = PlaceOrder(
        currency="USD",
        lines=(LineRequest("NOPE", 1), LineRequest("X", 1), LineRequest("Y", 1, Decimal(2))),
    )
    with pytest.raises(InvalidRequest) as refused:
        place_order(
            uow_factory=uow_factory,
            gateways=gateway_named,
            tenant_id=shop,
            command=command,
            actor=TESTER,
        )
    assert [e.pointer for e in refused.value.errors] == ["#/lines/0/sku", "#/lines/1/unit_price"]


def test_the_same_external_id_returns_the_first_order(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "A", 5)
    first = place(uow_factory, shop, order_of(("X", 1), external_id="S-1", channel="shopify"))
    again = place(uow_factory, shop, order_of(("X", 1), external_id="S-1", channel="shopify"))
    other_channel = place(uow_factory, shop, order_of(("X", 1), external_id="S-1"))
    assert (first.created, again.created, other_channel.created) == (True, False, True)
    assert again.order.id == first.order.id
    assert _reserved(uow_factory, shop, "X") == 2


def test_an_idempotency_key_replays_and_refuses_a_different_request(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "A", 5)

    def send(fingerprint: str) -> UUID:
        return place_order(
            uow_factory=uow_factory,
            gateways=gateway_named,
            tenant_id=shop,
            command=order_of(("X", 1)),
            actor=TESTER,
            idempotency_key="K",
            fingerprint=fingerprint,
        ).order.id

    assert send("body-1") == send("body-1")
    with pytest.raises(IdempotencyMismatch):
        send("body-2")
    assert _reserved(uow_factory, shop, "X") == 1


def test_cancelling_releases_the_stock_once_however_often_it_is_asked(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    set_stock(uow_factory, shop, "X", "A", 5)
    order = place(uow_factory, shop, order_of(("X", 3), ("Y", 2))).order
    for _ in range(3):
        cancelled = cancel_order(
            uow_factory=uow_factory, tenant_id=shop, order_id=order.id, actor=TESTER, reason="r"
        )
    assert cancelled.status is OrderStatus.CANCELLED
    kinds = [e.type for e in cancelled.events]
    # It was paid: the money is owed back, flagged once (docs/payments.md).
    assert kinds[-2:] == ["order.cancelled", "hold.placed"]
    assert kinds.count("order.cancelled") == 1
    assert [h.reason for h in cancelled.open_holds] == [HoldReason.REFUND_DUE]
    assert [(line.cancelled, line.allocated, line.backordered) for line in cancelled.lines] == [
        (3, 0, 0),
        (2, 0, 0),
    ]
    assert _reserved(uow_factory, shop, "X") == 0


def test_orders_list_newest_first_with_filters(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    ids = [place(uow_factory, shop, order_of(("X", 1), channel=c)).order.id for c in "aab"]

    def page(filters: OrderFilter, before: UUID | None = None) -> list[UUID]:
        found = list_orders(
            uow_factory=uow_factory, tenant_id=shop, filters=filters, before_id=before, limit=2
        )
        return [o.id for o in found]

    assert page(OrderFilter()) == [ids[2], ids[1]]
    assert page(OrderFilter(), before=ids[1]) == [ids[0]]
    assert page(OrderFilter(channel="a")) == [ids[1], ids[0]]
    assert page(OrderFilter(status="cancelled")) == []
