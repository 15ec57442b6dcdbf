"""What an order reserves, as a property: for any orders whose lines name stock rows more than
once (a SKU on several lines, on its own and inside bundles), placed alone or in an intake
group, routed by cost (rate cards, a placed destination) or by priority (no place for it),
every stock row's ``reserved`` is the sum of what the orders' allocations hold of it, each
line's allocations are what its allocated units need, nothing is over-reserved, and the
books balance.

Rate cards are deployment-wide, so this module runs on a database of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.addresses import Address
from oms.domain.catalogue import ProductKind
from oms.domain.errors import InsufficientStock
from oms.domain.orders import Order
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue
from oms.services.carriers import import_rate_cards
from oms.services.checks import find_invariant_violations
from oms.services.intake_group import Submission, place_group
from oms.services.tenants import create_tenant
from tests.builders import TESTER, add_product, order_of, place, set_stock
from tests.databases import ENGINES, own_database
from tests.integration.test_routing import COLOGNE, RATES, SITES

AT = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""A fixed clock for what these tests write (no test reads the wall clock)."""

COMPONENTS = ("TEE", "CAP", "MUG")
NEEDS = {
    "TEE": {"TEE": 1},
    "CAP": {"CAP": 1},
    "MUG": {"MUG": 1},
    "KIT": {"TEE": 1, "CAP": 1},
    "DUO": {"TEE": 2},
    "SET": {"TEE": 1, "CAP": 2, "MUG": 1},
}
UNPLACED = replace(COLOGNE, latitude=None, longitude=None)  # no geocoder: the priority rule


@pytest.fixture(scope="module", params=ENGINES)
def plan_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_database(request, "plan_property")


@pytest.fixture(scope="module")
def uow_factory(plan_engine: Engine) -> SqlUnitOfWorkFactory:
    uow = SqlUnitOfWorkFactory(plan_engine)
    import_rate_cards(uow_factory=uow, principal=None, text=RATES, fmt="yaml")
    return uow


def _shop(uow_factory: SqlUnitOfWorkFactory, stock: dict[tuple[str, str], int]) -> UUID:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="plan tenant")
    owner = Principal(key_id=UUID(int=1), scope=ApiKeyScope.TENANT, tenant_id=tenant.id)
    for code, (lat, lon, priority) in SITES.items():
        catalogue.create_location(
            uow_factory=uow_factory,
            principal=owner,
            command=catalogue.NewLocation(
                code=code,
                name=code,
                latitude=lat,
                longitude=lon,
                priority=priority,
                address=Address(country="DE"),
            ),
        )
    for sku in COMPONENTS:
        add_product(uow_factory, tenant.id, sku)
    for sku, needs in NEEDS.items():
        if sku not in COMPONENTS:
            add_product(uow_factory, tenant.id, sku, kind=ProductKind.BUNDLE, components=needs)
    for (sku, code), units in stock.items():
        set_stock(uow_factory, tenant.id, sku, code, units)
    return tenant.id


def _rows(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> dict[tuple[str, UUID], Any]:
    with uow_factory(readonly=True) as uow:
        return {(lv.sku, lv.location_id): lv for lv in uow.inventory.levels(tenant_id, COMPONENTS)}


def _assert_reserved_is_what_the_orders_hold(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, orders: list[Order]
) -> None:
    held: dict[tuple[str, UUID], int] = defaultdict(int)
    for order in orders:
        needs: dict[tuple[int, str], int] = defaultdict(int)
        for allocation in order.allocations:
            held[(allocation.sku, allocation.location_id)] += allocation.open
            needs[(allocation.line_no, allocation.sku)] += allocation.open
        for line in order.lines:
            for sku, per in NEEDS[line.sku].items():
                assert needs.get((line.line_no, sku), 0) == per * line.allocated, (order, line)
    rows = _rows(uow_factory, tenant_id)
    assert {row: lv.reserved for row, lv in rows.items() if lv.reserved} == dict(held)
    for lv in rows.values():
        assert lv.reserved <= lv.on_hand - lv.safety_stock
    broken = [
        v for v in find_invariant_violations(uow_factory=uow_factory) if v.tenant_id == tenant_id
    ]
    assert broken == []


_line = st.tuples(st.sampled_from(sorted(NEEDS)), st.integers(1, 3))
_order = st.fixed_dictionaries(
    {
        "lines": st.lists(_line, min_size=1, max_size=4),
        "placed": st.booleans(),
        "backorder": st.booleans(),
    }
)


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking here takes minutes
)
@given(
    orders=st.lists(_order, min_size=1, max_size=4),
    stock=st.fixed_dictionaries(
        {(sku, code): st.integers(0, 6) for sku in COMPONENTS for code in SITES}
    ),
    together=st.booleans(),
)
def test_every_row_reserves_the_sum_of_what_the_orders_allocations_hold(
    uow_factory: SqlUnitOfWorkFactory,
    orders: list[dict[str, Any]],
    stock: dict[tuple[str, str], int],
    together: bool,
) -> None:
    tenant_id = _shop(uow_factory, stock)
    commands = [
        replace(
            order_of(*o["lines"], allow_backorder=o["backorder"], payment=None),
            shipping_address=COLOGNE if o["placed"] else UNPLACED,
        )
        for o in orders
    ]
    placed: list[Order] = []
    if together:
        outcomes = place_group(
            uow_factory=uow_factory,
            gateways=gateway_named,
            geocoder=None,
            submissions=[
                Submission(tenant_id=tenant_id, command=c, actor=TESTER, at=AT) for c in commands
            ],
        )
        for outcome in outcomes:
            if isinstance(outcome, InsufficientStock):
                continue
            assert not isinstance(outcome, Exception), outcome
            placed.append(outcome.order)
    else:
        for command in commands:
            try:
                placed.append(place(uow_factory, tenant_id, command).order)
            except InsufficientStock:
                continue

    _assert_reserved_is_what_the_orders_hold(uow_factory, tenant_id, placed)
