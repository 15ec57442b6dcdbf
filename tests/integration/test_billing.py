"""The 3PL's billing statement on SQLite and PostgreSQL: a month of seeded activity (receipts
as the inbound work writes them, adjustments, orders picked, packed and shipped under labels
from the table-rate carrier) billed by ``oms.services.billing``, and the same figures
computed here independently, plainly, from the raw ledger and shipment rows: a day-by-day
replay of every movement for storage, a filter of the receipts, a count of the shipments.

Labels are bought from deployment-wide rate cards, so this module has databases of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine, select

from oms.adapters.db.tables import (
    fulfillment_orders,
    inventory_movements,
    locations,
    product_bins,
    shipments,
)
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.config import Settings
from oms.domain.addresses import Address
from oms.domain.billing import Period, PriceList, StorageBasis, StorageRate
from oms.domain.catalogue import ProductBin
from oms.domain.errors import Conflict
from oms.domain.ids import new_id
from oms.domain.inventory import MovementKind
from oms.domain.money import round_money
from oms.domain.orders import Order
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue, inventory
from oms.services.billing import set_price_list, statement_for, statements_for
from oms.services.checks import find_invariant_violations
from oms.services.orders import get_order
from oms.services.packing import PackRequest, pack
from oms.services.picking import confirm_picks, create_wave
from oms.services.shipping import ShipRequest, create_shipment
from oms.services.tenants import create_tenant
from tests.builders import TESTER, order_of, place, tenant_principal
from tests.databases import ENGINES, migrated_database_url
from tests.integration.test_fulfilment import CARRIERS, PICKUP_KEY, _prepared
from tests.integration.test_routing import COLOGNE

MARCH = Period(2031, 3)
AS_OF = datetime(2031, 4, 20, tzinfo=UTC)
OPERATOR = Principal(key_id=new_id(), scope=ApiKeyScope.OPERATOR, tenant_id=None)

PRICES = PriceList(
    currency="EUR",
    storage=(
        StorageRate("*", StorageBasis.UNIT_DAY, Decimal("0.0125")),
        StorageRate("*", StorageBasis.BIN_DAY, Decimal("0.35")),
    ),
    receiving_per_receipt=Decimal("15.00"),
    receiving_per_line=Decimal("1.10"),
    receiving_per_unit=Decimal("0.07"),
    pick_per_order=Decimal("1.25"),
    pick_per_line=Decimal("0.30"),
    pick_per_unit=Decimal("0.15"),
    per_package=Decimal("0.45"),
    label_markup_percent=Decimal("12.5"),
    special_handling={"fragile": Decimal("0.80")},
)


@pytest.fixture(scope="module", params=ENGINES)
def billing_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    for url in migrated_database_url(request, request.param, "billing"):
        engine = _prepared(Settings(database_url=url, db_max_overflow=20))
        yield engine
        engine.dispose()


@pytest.fixture
def uow_factory(billing_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(billing_engine)


def _at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2031, month, day, hour, tzinfo=UTC)


def _receive(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    sku: str,
    location_id: UUID,
    units: int,
    reference: str,
    at: datetime,
) -> None:
    """A receipt as inbound receiving writes one: on hand up, a ``receipt`` movement naming
    the ASN or PO in its reference (through the inventory repository, as the service does)."""
    with uow_factory() as uow:
        uow.inventory.ensure_level(tenant_id, sku, location_id, at)
        (level,) = uow.inventory.levels(tenant_id, [sku], [location_id])
        on_hand = level.on_hand + units
        assert uow.inventory.compare_and_set(
            tenant_id, level, on_hand=on_hand, safety_stock=level.safety_stock, at=at
        )
        uow.inventory.add_movement(
            tenant_id,
            sku=sku,
            location_id=location_id,
            kind=MovementKind.RECEIPT,
            quantity=units,
            on_hand_after=on_hand,
            reason="received",
            reference=reference,
            actor=str(TESTER),
            at=at,
        )
        uow.commit()


def _adjust(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    sku: str,
    code: str,
    delta: int,
    at: datetime,
) -> None:
    inventory.adjust_inventory(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        command=inventory.Adjustment(sku=sku, location_code=code, delta=delta, reason="damaged"),
        actor=TESTER,
        at=at,
    )


def ship_order(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    code: str,
    lines: tuple[tuple[str, int], ...],
    parcels: list[list[str]],
    at: datetime,
    *,
    duties_terms: str | None = None,
) -> Order:
    """Place an order (to Cologne) and take it through wave, pick, pack (one package per
    scan list) and one shipment at ``at``; answers the order as it is then."""
    command = replace(order_of(*lines), shipping_address=COLOGNE, duties_terms=duties_terms)
    placed = place(uow_factory, tenant_id, command)
    wave = create_wave(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        location_code=code,
        max_orders=10,
        max_units=None,
        actor=TESTER,
        at=at,
    )
    confirm_picks(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        wave_id=wave.wave.id,
        confirmations=None,
        actor=TESTER,
        pickup_key=PICKUP_KEY,
        at=at,
    )
    with uow_factory(readonly=True) as uow:
        (fo,) = uow.fulfilment.for_order(tenant_id, placed.order.id)
    for scans in parcels:
        pack(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            fo_id=fo.id,
            request=PackRequest(scans=scans),
            actor=TESTER,
            at=at,
        )
    create_shipment(
        uow_factory=uow_factory,
        gateways=gateway_named,
        carriers=CARRIERS,
        tenant_id=tenant_id,
        fo_id=fo.id,
        request=ShipRequest(),
        actor=TESTER,
        at=at,
    )
    return get_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=placed.order.id)


def _seed_month(uow_factory: SqlUnitOfWorkFactory) -> tuple[UUID, str]:
    """A merchant at the 3PL's warehouse with a month of activity around March 2031; answers
    the tenant and the warehouse's code."""
    tenant, _ = create_tenant(uow_factory=uow_factory, name="Billed merchant")
    code = f"3PL-{tenant.id.hex[:8]}"
    warehouse = catalogue.create_location(
        uow_factory=uow_factory,
        principal=OPERATOR,
        command=catalogue.NewLocation(
            code=code,
            name="The 3PL's warehouse",
            latitude=50.88,
            longitude=7.06,
            address=Address(country="DE", line1="Lagerweg 1", city="Koeln"),
        ),
    )
    catalogue.grant_location(
        uow_factory=uow_factory, principal=OPERATOR, ref=warehouse.id.hex, tenant_id=tenant.id
    )
    own = catalogue.create_location(
        uow_factory=uow_factory,
        principal=tenant_principal(tenant.id),
        command=catalogue.NewLocation(code="OWN-STORE", name="The merchant's own back room"),
    )
    for sku, category in (("VASE", "fragile"), ("MUG", None), ("TEA", None)):
        catalogue.create_product(
            uow_factory=uow_factory,
            tenant_id=tenant.id,
            command=catalogue.NewProduct(
                sku=sku,
                name=sku.title(),
                price=Decimal("12.00"),
                currency="EUR",
                weight_grams=400,
                category=category,
            ),
        )
    # MUG and TEA share a bin; VASE has one of its own.
    catalogue.set_bins(
        uow_factory=uow_factory,
        principal=Principal(key_id=new_id(), scope=ApiKeyScope.OPERATOR, tenant_id=tenant.id),
        ref=code,
        bins=[ProductBin("MUG", "A-1-1"), ProductBin("TEA", "A-1-1"), ProductBin("VASE", "B-2-7")],
    )
    t, wh = tenant.id, warehouse.id
    # Before March: the opening stock.
    _receive(uow_factory, t, "VASE", wh, 40, "ASN-0001", _at(20, month=2))
    _receive(uow_factory, t, "MUG", wh, 25, "ASN-0001", _at(20, month=2))
    # March: two more receipts (one scanned in two goes), a write-off, three shipments.
    _receive(uow_factory, t, "TEA", wh, 60, "ASN-0002", _at(3, 9))
    _receive(uow_factory, t, "MUG", wh, 10, "ASN-0002", _at(3, 9))
    _receive(uow_factory, t, "MUG", wh, 5, "ASN-0002", _at(3, 15))
    _receive(uow_factory, t, "VASE", wh, 12, "PO-77", _at(17, 8))
    _adjust(uow_factory, t, "VASE", code, -3, _at(9, 11))
    ship_order(
        uow_factory, t, code, (("VASE", 2), ("MUG", 3)), [["VASE", "VASE"], ["MUG"] * 3], _at(5)
    )
    ship_order(uow_factory, t, code, (("TEA", 60),), [["TEA"] * 60], _at(12, 23))
    ship_order(uow_factory, t, code, (("MUG", 30),), [["MUG"] * 30], _at(31, 22))
    # The merchant's own room is not the 3PL's work; April is not March.
    _receive(uow_factory, t, "TEA", own.id, 500, "OWN-1", _at(10))
    _receive(uow_factory, t, "VASE", wh, 7, "ASN-0003", _at(1, 0, month=4))
    return t, code


# --- the independent computation, from raw rows -------------------------------------------


def _raw_movements(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> list[Any]:
    m, loc = inventory_movements.c, locations.c
    with uow_factory(readonly=True) as uow:
        conn = uow.billing._conn
        return list(
            conn.execute(
                select(m.sku, m.location_id, m.kind, m.quantity, m.reference, m.created_at)
                .join(locations, loc.id == m.location_id)
                .where(m.tenant_id == tenant_id, loc.owner_tenant_id.is_(None))
            )
        )


def _expected_figures(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> dict[str, Any]:
    moves = _raw_movements(uow_factory, tenant_id)
    with uow_factory(readonly=True) as uow:
        conn = uow.billing._conn
        bins = {
            (r.sku, r.location_id): r.bin
            for r in conn.execute(select(product_bins).where(product_bins.c.tenant_id == tenant_id))
        }
        s, fo = shipments.c, fulfillment_orders.c
        shipped = list(
            conn.execute(
                select(s.fulfillment_order_id, s.contents, s.package_ids, s.cost)
                .join(
                    fulfillment_orders,
                    (fo.tenant_id == s.tenant_id) & (fo.id == s.fulfillment_order_id),
                )
                .join(locations, locations.c.id == fo.location_id)
                .where(
                    s.tenant_id == tenant_id,
                    locations.c.owner_tenant_id.is_(None),
                    s.created_at >= MARCH.start,
                    s.created_at < MARCH.end,
                )
            )
        )
        categories = {
            p.sku: p.category
            for p in uow.products.by_skus(tenant_id, ["VASE", "MUG", "TEA"]).values()
        }
    # Storage: replay every movement, one day at a time, and look at each row at day's end.
    unit_days, bin_days = 0, 0
    day = date(2031, 3, 1)
    while day < date(2031, 4, 1):
        end_of_day = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        on_hand: dict[tuple[str, UUID], int] = defaultdict(int)
        for move in moves:
            if move.created_at < end_of_day:
                on_hand[(move.sku, move.location_id)] += move.quantity
        stocked = [key for key, units in on_hand.items() if units > 0]
        unit_days += sum(on_hand[key] for key in stocked)
        bin_days += len({bins.get(key, key[0]) for key in stocked})
        day += timedelta(days=1)
    in_march = [m for m in moves if MARCH.start <= m.created_at < MARCH.end]
    receipts = [m for m in in_march if m.kind == "receipt" and m.quantity > 0]
    units_by_category: dict[str, int] = defaultdict(int)
    for row in shipped:
        for item in row.contents:
            if categories[item["sku"]]:
                units_by_category[categories[item["sku"]]] += item["quantity"]
    return {
        "unit_days": unit_days,
        "bin_days": bin_days,
        "receipts": len({m.reference for m in receipts}),
        "receipt_lines": len({(m.reference, m.sku, m.location_id) for m in receipts}),
        "receipt_units": sum(m.quantity for m in receipts),
        "pick_orders": len({row.fulfillment_order_id for row in shipped}),
        "pick_lines": sum(len(row.contents) for row in shipped),
        "pick_units": sum(item["quantity"] for row in shipped for item in row.contents),
        "packages": sum(len(row.package_ids) for row in shipped),
        "labels": len(shipped),
        "label_cost": sum((row.cost for row in shipped), Decimal(0)),
        "fragile_units": units_by_category["fragile"],
    }


def _money(amount: Decimal) -> Decimal:
    return round_money(amount, "EUR")


def test_a_months_statement_equals_an_independent_replay_of_the_raw_ledger_and_shipments(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    tenant_id, code = _seed_month(uow_factory)
    set_price_list(
        uow_factory=uow_factory,
        principal=replace(OPERATOR, tenant_id=tenant_id),
        prices=PRICES,
    )
    expected = _expected_figures(uow_factory, tenant_id)
    # The seed did what it says (so the comparison below compares something).
    assert (expected["receipts"], expected["receipt_lines"]) == (2, 3)
    assert (expected["labels"], expected["packages"]) == (3, 4)
    assert min(expected["unit_days"], expected["bin_days"]) > 0

    statement = statement_for(uow_factory=uow_factory, tenant_id=tenant_id, period=MARCH, at=AS_OF)

    (usage,) = statement.activity.storage
    assert usage.location_code == code
    activity = statement.activity
    assert (usage.unit_days, usage.bin_days) == (expected["unit_days"], expected["bin_days"])
    assert (activity.receipts, activity.receipt_lines, activity.receipt_units) == (
        expected["receipts"],
        expected["receipt_lines"],
        expected["receipt_units"],
    )
    assert (activity.pick_orders, activity.pick_lines, activity.pick_units) == (
        expected["pick_orders"],
        expected["pick_lines"],
        expected["pick_units"],
    )
    assert (activity.packages, activity.labels) == (expected["packages"], expected["labels"])
    assert activity.label_cost == {"EUR": expected["label_cost"]}
    amounts = {line.code: line.amount for line in statement.lines}
    assert amounts == {
        f"storage.unit_day.{code}": _money(expected["unit_days"] * Decimal("0.0125")),
        f"storage.bin_day.{code}": _money(expected["bin_days"] * Decimal("0.35")),
        "receiving.receipt": _money(expected["receipts"] * Decimal("15.00")),
        "receiving.line": _money(expected["receipt_lines"] * Decimal("1.10")),
        "receiving.unit": _money(expected["receipt_units"] * Decimal("0.07")),
        "pick.order": _money(expected["pick_orders"] * Decimal("1.25")),
        "pick.line": _money(expected["pick_lines"] * Decimal("0.30")),
        "pick.unit": _money(expected["pick_units"] * Decimal("0.15")),
        "package": _money(expected["packages"] * Decimal("0.45")),
        "labels": _money(expected["label_cost"] * Decimal("1.125")),
        "special.fragile": _money(expected["fragile_units"] * Decimal("0.80")),
    }
    assert statement.total == sum(amounts.values())
    # Billing reads; it never changed the books.
    assert [
        v for v in find_invariant_violations(uow_factory=uow_factory) if v.tenant_id == tenant_id
    ] == []


def test_the_operator_sees_every_merchants_statement_and_a_merchant_without_prices_is_named(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    priced, _ = create_tenant(uow_factory=uow_factory, name="Priced")
    unpriced, _ = create_tenant(uow_factory=uow_factory, name="Unpriced")
    set_price_list(
        uow_factory=uow_factory, principal=replace(OPERATOR, tenant_id=priced.id), prices=PRICES
    )

    found = statements_for(uow_factory=uow_factory, principal=OPERATOR, period=MARCH, at=AS_OF)
    assert priced.id in {s.tenant_id for s in found.statements}
    assert unpriced.id in found.unpriced_tenants
    own = statements_for(
        uow_factory=uow_factory, principal=tenant_principal(priced.id), period=MARCH, at=AS_OF
    )
    assert [s.tenant_id for s in own.statements] == [priced.id]
    assert own.statements[0].total == Decimal("0.00")
    with pytest.raises(Conflict):
        statement_for(uow_factory=uow_factory, tenant_id=unpriced.id, period=MARCH, at=AS_OF)
