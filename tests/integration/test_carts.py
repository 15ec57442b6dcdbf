"""Cart reservations hold stock for a checkout and give it back by themselves.

The clock is injected (``at=``): nothing here sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.carts import CartStatus
from oms.domain.errors import IllegalTransition, InsufficientStock, InvalidRequest
from oms.services.carts import (
    create_cart_reservation,
    get_cart_reservation,
    release_cart_reservation,
)
from oms.services.checks import find_invariant_violations
from oms.services.intake import place_order
from oms.services.inventory import get_stock
from tests.builders import TESTER, add_location, add_product, order_of, set_stock

# A fixed moment: every step takes its time from it, never from the wall clock.
T0 = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=15)


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X")
    set_stock(uow_factory, tenant_id, "X", "A", 5)
    return tenant_id


def _hold(uow: SqlUnitOfWorkFactory, tenant_id: UUID, units: int, at: datetime = T0) -> UUID:
    cart = create_cart_reservation(
        uow_factory=uow, tenant_id=tenant_id, lines=[("X", units)], ttl=TTL, at=at
    )
    return cart.id


def _available(uow: SqlUnitOfWorkFactory, tenant_id: UUID, at: datetime) -> int:
    return get_stock(uow_factory=uow, tenant_id=tenant_id, sku="X", at=at).available


def _order(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, units: int, at: datetime, cart: UUID | None = None
) -> tuple[int, int]:
    command = order_of(("X", units))
    command = type(command)(**{**command.__dict__, "reservation_id": cart})
    placed = place_order(
        uow_factory=uow,
        gateways=gateway_named,
        tenant_id=tenant_id,
        command=command,
        actor=TESTER,
        at=at,
    )
    line = placed.order.lines[0]
    return line.allocated, line.backordered


def test_a_reservation_holds_stock_until_its_time_is_up_with_no_process_running(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    cart = _hold(uow_factory, shop, 4)
    assert _available(uow_factory, shop, T0 + TTL - timedelta(seconds=1)) == 1
    assert _order(uow_factory, shop, 3, T0 + timedelta(minutes=1)) == (1, 2)

    after = T0 + TTL
    assert _available(uow_factory, shop, after) == 4
    assert (
        get_cart_reservation(uow_factory=uow_factory, tenant_id=shop, cart_id=cart).status
        is CartStatus.EXPIRED
    )
    assert [
        v for v in find_invariant_violations(uow_factory=uow_factory) if v.tenant_id == shop
    ] == []


def test_an_order_takes_over_its_reservation_even_when_the_shelf_is_otherwise_empty(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    cart = _hold(uow_factory, shop, 5)
    assert _order(uow_factory, shop, 1, T0 + timedelta(minutes=1)) == (0, 1)
    assert _order(uow_factory, shop, 3, T0 + timedelta(minutes=2), cart=cart) == (3, 0)

    # The two units the order did not need went back to the shelf at once.
    assert _available(uow_factory, shop, T0 + timedelta(minutes=2)) == 2
    consumed = get_cart_reservation(uow_factory=uow_factory, tenant_id=shop, cart_id=cart)
    assert consumed.status is CartStatus.CONSUMED
    assert consumed.order_id is not None
    with pytest.raises(IllegalTransition):
        release_cart_reservation(uow_factory=uow_factory, tenant_id=shop, cart_id=cart)


def test_an_order_after_its_reservation_lapsed_takes_stock_like_any_other(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    cart = _hold(uow_factory, shop, 2)
    assert _order(uow_factory, shop, 2, T0 + TTL + timedelta(seconds=5), cart=cart) == (2, 0)
    assert _available(uow_factory, shop, T0 + TTL + timedelta(seconds=5)) == 3


def test_a_reservation_is_all_or_nothing_and_releasing_it_gives_stock_back(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    with pytest.raises(InsufficientStock):
        _hold(uow_factory, shop, 6)
    assert _available(uow_factory, shop, T0) == 5
    cart = _hold(uow_factory, shop, 5)
    released = release_cart_reservation(
        uow_factory=uow_factory, tenant_id=shop, cart_id=cart, at=T0 + timedelta(minutes=1)
    )
    assert released.status is CartStatus.RELEASED
    again = release_cart_reservation(uow_factory=uow_factory, tenant_id=shop, cart_id=cart)
    assert again.status is CartStatus.RELEASED
    assert _available(uow_factory, shop, T0 + timedelta(minutes=1)) == 5


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(hours=2)])
def test_a_reservation_time_outside_the_tenant_limit_is_refused(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, ttl: timedelta
) -> None:
    with pytest.raises(InvalidRequest):
        create_cart_reservation(
            uow_factory=uow_factory, tenant_id=shop, lines=[("X", 1)], ttl=ttl, at=T0
        )
