"""Editing an order before release: all or nothing, re-verified, re-reserved, versioned."""

from __future__ import annotations

from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.addresses import Address
from oms.domain.errors import (
    IllegalTransition,
    InsufficientStock,
    InvalidRequest,
    PreconditionFailed,
)
from oms.domain.holds import HoldReason
from oms.domain.orders import Order
from oms.services.editing import LineChange, OrderEdit, edit_order
from oms.services.inventory import get_stock
from oms.services.orders import get_order
from tests.builders import SHIP_TO, TESTER, add_location, add_product, order_of, place, set_stock

BAD_POSTCODE = Address(
    country="DE", name="E M", line1="Heidestrasse 17", city="Koeln", postal_code="511"
)


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X", price="10.00")
    add_product(uow_factory, tenant_id, "Y", price="4.00")
    set_stock(uow_factory, tenant_id, "X", "A", 5)
    set_stock(uow_factory, tenant_id, "Y", "A", 5)
    return tenant_id


def _unreleased(uow: SqlUnitOfWorkFactory, tenant_id: UUID, **kw: object) -> Order:
    """An order kept from release by a bad postal code."""
    return place(uow, tenant_id, order_of(("X", 2), ship_to=BAD_POSTCODE, **kw)).order  # type: ignore[arg-type]


def _edit(
    uow: SqlUnitOfWorkFactory, order: Order, edit: OrderEdit, version: int | None = None
) -> Order:
    return edit_order(
        uow_factory=uow,
        tenant_id=order.tenant_id,
        order_id=order.id,
        edit=edit,
        expected_version=order.version if version is None else version,
        actor=TESTER,
    )


def _reserved(uow: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> int | None:
    return get_stock(uow_factory=uow, tenant_id=tenant_id, sku=sku).reserved


def test_fixing_the_address_releases_the_hold_and_then_the_order(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = _unreleased(uow_factory, shop)
    assert [h.reason for h in order.open_holds] == [HoldReason.ADDRESS_INVALID]

    edited = _edit(uow_factory, order, OrderEdit(shipping_address=SHIP_TO))

    assert edited.open_holds == []
    assert edited.released_at is not None
    assert edited.version == order.version + 1
    kinds = [e.type for e in edited.events]
    assert kinds[-4:] == [
        "order.edited",
        "hold.released",
        "order.released",
        "fulfillment_order.created",
    ]


def test_changing_quantities_and_adding_a_line_reserves_again_and_reprices(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = _unreleased(uow_factory, shop)
    edited = _edit(
        uow_factory,
        order,
        OrderEdit(
            lines=(
                LineChange(line_no=1, quantity=1),
                LineChange(sku="Y", quantity=3),
            )
        ),
    )
    assert [(ln.line_no, ln.quantity, ln.cancelled, ln.allocated) for ln in edited.lines] == [
        (1, 2, 1, 1),
        (2, 3, 0, 3),
    ]
    assert edited.subtotal == 22
    assert (_reserved(uow_factory, shop, "X"), _reserved(uow_factory, shop, "Y")) == (1, 3)
    # 20.00 was paid at intake; the new total of 22.00 is no longer covered.
    assert edited.payment_status.value == "partially_paid"
    assert {h.reason for h in edited.open_holds} == {
        HoldReason.ADDRESS_INVALID,
        HoldReason.PAYMENT_PENDING,
    }
    stored = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
    assert [ln.quantity for ln in stored.lines] == [2, 3]


def test_an_edit_that_cannot_be_reserved_changes_nothing(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = _unreleased(uow_factory, shop, allow_backorder=False)
    with pytest.raises(InsufficientStock):
        _edit(uow_factory, order, OrderEdit(lines=(LineChange(line_no=1, quantity=9),)))
    with pytest.raises(InvalidRequest):
        _edit(uow_factory, order, OrderEdit(lines=(LineChange(sku="NOPE", quantity=1),)))
    stored = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
    assert stored.version == order.version
    assert _reserved(uow_factory, shop, "X") == 2


def test_a_stale_version_is_refused_with_412(uow_factory: SqlUnitOfWorkFactory, shop: UUID) -> None:
    order = _unreleased(uow_factory, shop)
    _edit(uow_factory, order, OrderEdit(lines=(LineChange(line_no=1, quantity=1),)))
    with pytest.raises(PreconditionFailed):
        _edit(uow_factory, order, OrderEdit(lines=(LineChange(line_no=1, quantity=2),)))


def test_a_released_order_cannot_be_edited(uow_factory: SqlUnitOfWorkFactory, shop: UUID) -> None:
    order = place(uow_factory, shop, order_of(("X", 1))).order
    assert order.released_at is not None
    with pytest.raises(IllegalTransition):
        _edit(uow_factory, order, OrderEdit(lines=(LineChange(line_no=1, quantity=2),)))
