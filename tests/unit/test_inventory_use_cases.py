"""Inventory adjustments, reservations and availability on the in-memory unit of work.

The property at the end drives any sequence of adjustments (by a delta, to a count, of
safety stock) and cart reservations (made, released, expired) through the use cases and
checks the books after each step: on hand is the ledger's sum and never negative, and
reserved is exactly what the active reservations hold, never more than on hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.adapters.memory.uow import MemoryUnitOfWorkFactory
from oms.domain.carts import CartStatus
from oms.domain.catalogue import ProductKind
from oms.domain.errors import InsufficientStock, InvalidRequest, StockReserved
from oms.domain.inventory import MovementKind
from oms.services import carts, inventory
from oms.services.tenants import create_tenant
from tests.builders import TESTER, add_location, add_product

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
LOCATIONS = ("WH1", "WH2")


def _world() -> tuple[MemoryUnitOfWorkFactory, UUID]:
    """A tenant with SKUs A and B at two locations and a bundle KIT of 2 A + 1 B."""
    factory = MemoryUnitOfWorkFactory()
    tenant, _ = create_tenant(uow_factory=factory, name="Shop", at=NOW)
    for code in LOCATIONS:
        add_location(factory, tenant.id, code)
    add_product(factory, tenant.id, "A")
    add_product(factory, tenant.id, "B")
    add_product(factory, tenant.id, "KIT", kind=ProductKind.BUNDLE, components={"A": 2, "B": 1})
    return factory, tenant.id


def _adjust(
    factory: MemoryUnitOfWorkFactory, tenant_id: UUID, sku: str, location: str, **change: int
) -> None:
    inventory.adjust_inventory(
        uow_factory=factory,
        tenant_id=tenant_id,
        command=inventory.Adjustment(sku=sku, location_code=location, reason="test", **change),
        actor=TESTER,
        at=NOW,
    )


def test_an_adjustment_writes_its_movement_and_a_count_its_difference() -> None:
    factory, tenant_id = _world()
    _adjust(factory, tenant_id, "A", "WH1", delta=7)
    _adjust(factory, tenant_id, "A", "WH1", set_on_hand=4)
    _adjust(factory, tenant_id, "A", "WH1", set_on_hand=4)  # no change: no movement
    ledger = inventory.list_movements(
        uow_factory=factory,
        tenant_id=tenant_id,
        sku="A",
        location_code="WH1",
        after_id=None,
        limit=9,
    )
    assert [(m.kind, m.quantity, m.on_hand_after) for m in ledger] == [
        (MovementKind.ADJUSTMENT, 7, 7),
        (MovementKind.COUNT, -3, 4),
    ]


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"delta": -6}, InvalidRequest),  # below zero
        ({"delta": -3}, StockReserved),  # below the 3 reserved
        ({"set_on_hand": 2}, StockReserved),
        ({"safety_stock": -1}, InvalidRequest),
    ],
)
def test_an_adjustment_that_would_break_the_books_is_refused(
    change: dict[str, int], refusal: type[Exception]
) -> None:
    factory, tenant_id = _world()
    _adjust(factory, tenant_id, "A", "WH1", delta=5)
    carts.create_cart_reservation(
        uow_factory=factory, tenant_id=tenant_id, lines=[("A", 3)], ttl=timedelta(minutes=5), at=NOW
    )
    with pytest.raises(refusal):
        _adjust(factory, tenant_id, "A", "WH1", **change)
    stock = inventory.get_stock(uow_factory=factory, tenant_id=tenant_id, sku="A", at=NOW)
    assert (stock.on_hand, stock.reserved) == (5, 3)


def test_a_bundle_holds_no_stock_of_its_own() -> None:
    factory, tenant_id = _world()
    with pytest.raises(InvalidRequest):
        _adjust(factory, tenant_id, "KIT", "WH1", delta=1)


def test_availability_is_on_hand_less_reserved_and_safety_stock_per_location() -> None:
    factory, tenant_id = _world()
    _adjust(factory, tenant_id, "A", "WH1", delta=10, safety_stock=2)
    _adjust(factory, tenant_id, "A", "WH2", delta=3)
    carts.create_cart_reservation(
        uow_factory=factory, tenant_id=tenant_id, lines=[("A", 5)], ttl=timedelta(minutes=5), at=NOW
    )
    stock = inventory.get_stock(uow_factory=factory, tenant_id=tenant_id, sku="A", at=NOW)
    assert [(row.location.code, row.available) for row in stock.locations] == [
        ("WH1", 3),
        ("WH2", 3),
    ]
    assert (stock.on_hand, stock.reserved, stock.safety_stock, stock.available) == (13, 5, 2, 6)


def test_a_bundle_is_available_as_often_as_its_scarcest_component_allows() -> None:
    factory, tenant_id = _world()
    _adjust(factory, tenant_id, "A", "WH1", delta=9)  # 4 kits' worth of A
    _adjust(factory, tenant_id, "B", "WH1", delta=6)
    _adjust(factory, tenant_id, "A", "WH2", delta=2)  # but no B there
    kit = inventory.get_stock(uow_factory=factory, tenant_id=tenant_id, sku="KIT", at=NOW)
    assert kit.on_hand is None
    assert [(row.location.code, row.available) for row in kit.locations] == [
        ("WH1", 4),
        ("WH2", 0),
    ]


def test_an_expired_reservation_gives_its_stock_back_when_stock_is_next_read() -> None:
    factory, tenant_id = _world()
    _adjust(factory, tenant_id, "A", "WH1", delta=4)
    cart = carts.create_cart_reservation(
        uow_factory=factory, tenant_id=tenant_id, lines=[("A", 4)], ttl=timedelta(minutes=5), at=NOW
    )
    later = NOW + timedelta(minutes=6)
    stock = inventory.get_stock(uow_factory=factory, tenant_id=tenant_id, sku="A", at=later)
    assert (stock.reserved, stock.available) == (0, 4)
    found = carts.get_cart_reservation(uow_factory=factory, tenant_id=tenant_id, cart_id=cart.id)
    assert found.status is CartStatus.EXPIRED


# One step of the property: ("delta"|"count"|"safety", location, n), ("reserve", _, n),
# ("release", _, which cart), ("expire", _, minutes later).
_steps = st.one_of(
    st.tuples(st.sampled_from(["delta"]), st.sampled_from(LOCATIONS), st.integers(-8, 12)),
    st.tuples(st.sampled_from(["count", "safety"]), st.sampled_from(LOCATIONS), st.integers(0, 12)),
    st.tuples(st.just("reserve"), st.just(""), st.integers(1, 8)),
    st.tuples(st.just("release"), st.just(""), st.integers(0, 5)),
    st.tuples(st.just("expire"), st.just(""), st.integers(1, 3)),
)


@settings(max_examples=60)
@given(st.lists(_steps, max_size=25))
def test_on_hand_is_always_the_ledgers_sum_and_never_negative(
    steps: list[tuple[str, str, int]],
) -> None:
    factory, tenant_id = _world()
    for location in LOCATIONS:
        _adjust(factory, tenant_id, "A", location, delta=6)
    open_carts: list[UUID] = []
    now = NOW
    for action, location, n in steps:
        try:
            if action == "delta":
                _adjust(factory, tenant_id, "A", location, delta=n)
            elif action == "count":
                _adjust(factory, tenant_id, "A", location, set_on_hand=n)
            elif action == "safety":
                _adjust(factory, tenant_id, "A", location, safety_stock=n)
            elif action == "reserve":
                cart = carts.create_cart_reservation(
                    uow_factory=factory,
                    tenant_id=tenant_id,
                    lines=[("A", n)],
                    ttl=timedelta(minutes=2),
                    at=now,
                )
                open_carts.append(cart.id)
            elif action == "release" and open_carts:
                carts.release_cart_reservation(
                    uow_factory=factory,
                    tenant_id=tenant_id,
                    cart_id=open_carts.pop(n % len(open_carts)),
                    at=now,
                )
            elif action == "expire":
                now += timedelta(minutes=n)
                carts.expire_due(uow_factory=factory, tenant_id=tenant_id, now=now)
        except (InvalidRequest, StockReserved, InsufficientStock):
            pass  # a refused step changes nothing; the books must still balance
        _assert_books_balance(factory, tenant_id, now)


def _assert_books_balance(factory: MemoryUnitOfWorkFactory, tenant_id: UUID, now: datetime) -> None:
    with factory(readonly=True) as uow:
        assert uow.inventory.find_violations(tenant_id) == []
        levels = uow.inventory.levels(tenant_id, ["A"])
        ledger = uow.inventory.movements(tenant_id, "A", location_id=None, after_id=None, limit=999)
        held = 0
        for cart_id in {c for (t, c) in factory.database.tables.carts if t == tenant_id}:
            cart = uow.carts.get(tenant_id, cart_id)
            assert cart is not None
            if cart.status is CartStatus.ACTIVE:
                held += sum(line.quantity for line in cart.lines)
    for level in levels:
        moved = sum(m.quantity for m in ledger if m.location_id == level.location_id)
        assert level.on_hand == moved
        assert 0 <= level.reserved <= level.on_hand
        assert level.safety_stock >= 0
    assert sum(level.reserved for level in levels) == held
    for m in ledger:
        assert m.on_hand_after >= 0
