"""CSV import: products (ours and Shopify's export), inventory levels and orders; each row
whole or not at all, problems as (row, column, message), a second run changes nothing.

Every test runs with one row per transaction and with batches, on both databases: the
batched path must pass the tests the row-by-row path passes.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.catalogue import ProductKind
from oms.domain.errors import InvalidRequest
from oms.domain.inventory import MovementKind
from oms.services import inventory
from oms.services.csv_source import CsvSource
from oms.services.import_rows import ImportKind, RowError
from oms.services.imports import ImportRequest, ImportSummary, import_rows
from oms.services.intake import PlaceOrder
from oms.services.ports import OrderFilter
from oms.services.tenants import create_tenant
from tests.builders import TESTER, add_location, add_product, order_of, place, set_stock

FIXTURES = Path(__file__).parent.parent / "fixtures"
AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture(params=[1, 500], ids=["row-by-row", "batched"])
def batch_size(request: pytest.FixtureRequest) -> int:
    size: int = request.param
    return size


def run(
    uow_factory: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    kind: ImportKind,
    data: bytes,
    *,
    batch_size: int,
    dry_run: bool = False,
    currency: str | None = None,
) -> tuple[ImportSummary, list[RowError]]:
    source = CsvSource(io.BytesIO(data))
    reported: list[RowError] = []
    summary = import_rows(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=tenant_id,
        request=ImportRequest(
            kind=kind,
            header=source.header,
            rows=source.rows(),
            dry_run=dry_run,
            currency=currency,
            batch_size=batch_size,
        ),
        actor=TESTER,
        at=AT,
        on_error=reported.append,
    )
    return summary, reported


def counts(summary: ImportSummary) -> tuple[int, int, int, int, int]:
    return (summary.created, summary.updated, summary.unchanged, summary.skipped, summary.failed)


# --- products ---------------------------------------------------------------------------------


def test_a_shopify_products_export_imports_as_it_is_and_again_changes_nothing(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    data = (FIXTURES / "shopify_products_export.csv").read_bytes()
    first, errors = run(
        uow_factory, tenant_id, ImportKind.PRODUCTS, data, batch_size=batch_size, currency="EUR"
    )
    assert errors == []
    assert counts(first) == (6, 0, 0, 1, 0)  # six variants; the extra image row skipped
    with uow_factory(readonly=True) as uow:
        products = uow.products.by_skus(
            tenant_id, ["TEE-BLK-M", "TEE-BLK-L", "TEE-WHT-M", "MUG-ENAMEL", "GIFT-25", "GIFT-50"]
        )
    tee, mug, gift = products["TEE-BLK-M"], products["MUG-ENAMEL"], products["GIFT-50"]
    assert (tee.name, tee.price, tee.currency, tee.weight_grams) == (
        "Organic Tee / Black / M",
        Decimal("24.00"),
        "EUR",
        180,
    )
    assert (tee.kind, tee.barcode, tee.category) == (
        ProductKind.PHYSICAL,
        "4006381333931",
        "T-Shirts",
    )
    assert products["TEE-WHT-M"].price == Decimal("22.50")
    assert (mug.name, mug.weight_grams) == ("Enamel Camp Mug, 350 ml", 210)
    assert (gift.name, gift.kind) == ("Gift Card / €50", ProductKind.DIGITAL)

    again, errors = run(
        uow_factory, tenant_id, ImportKind.PRODUCTS, data, batch_size=batch_size, currency="EUR"
    )
    assert errors == []
    assert counts(again) == (0, 0, 6, 1, 0)


def test_a_shopify_export_without_a_currency_refuses_each_variant_row(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    data = (FIXTURES / "shopify_products_export.csv").read_bytes()
    summary, errors = run(uow_factory, tenant_id, ImportKind.PRODUCTS, data, batch_size=batch_size)
    assert summary.failed == 6
    assert {(e.column, "--currency" in e.message) for e in errors} == {("Variant Price", True)}


PRODUCTS = b"""sku,name,price,currency,kind,weight_grams,category
TEE,Tee,20.00,EUR,physical,180,shirts
CAP,Cap,abc,EUR,physical,90,
KIT,Kit,10.00,EUR,bundle,,
,Nameless,5.00,EUR,,,
EBOOK,Ebook,9.99,EUR,digital,0,books
YEN,Yen thing,10.5,JPY,,,
"""


def test_product_rows_are_each_applied_or_refused_with_row_and_column(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    summary, errors = run(
        uow_factory, tenant_id, ImportKind.PRODUCTS, PRODUCTS, batch_size=batch_size
    )
    assert counts(summary) == (2, 0, 0, 0, 4)
    assert [(e.row, e.column) for e in errors] == [
        (3, "price"),
        (4, "kind"),
        (5, "sku"),
        (7, "price"),
    ]
    with uow_factory(readonly=True) as uow:
        assert sorted(uow.products.by_skus(tenant_id, ["TEE", "CAP", "KIT", "EBOOK"])) == [
            "EBOOK",
            "TEE",
        ]


def test_a_changed_product_row_updates_it_and_an_equal_one_leaves_it(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    run(uow_factory, tenant_id, ImportKind.PRODUCTS, PRODUCTS, batch_size=batch_size)
    changed = b"sku,name,price,currency\nTEE,Tee,22.00,EUR\nEBOOK,Ebook,9.99,EUR\n"
    summary, errors = run(
        uow_factory, tenant_id, ImportKind.PRODUCTS, changed, batch_size=batch_size
    )
    assert errors == []
    # TEE's price changed; columns the file lacks (kind, weight, category) stay as stored.
    assert counts(summary) == (0, 1, 1, 0, 0)
    again, _ = run(uow_factory, tenant_id, ImportKind.PRODUCTS, changed, batch_size=batch_size)
    assert counts(again) == (0, 0, 2, 0, 0)
    with uow_factory(readonly=True) as uow:
        found = uow.products.by_skus(tenant_id, ["TEE", "EBOOK"])
    assert (found["TEE"].price, found["TEE"].weight_grams, found["TEE"].category) == (
        Decimal("22.00"),
        180,
        "shirts",
    )
    assert found["EBOOK"].kind is ProductKind.DIGITAL


def test_a_file_without_a_required_column_is_refused_whole(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        run(uow_factory, tenant_id, ImportKind.INVENTORY, b"sku,on_hand\nA,1\n", batch_size=10)
    assert [e.pointer for e in refused.value.errors] == ["row:1/location"]


# --- inventory --------------------------------------------------------------------------------


@pytest.fixture
def stocked(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    add_location(uow_factory, tenant_id, "WH-1")
    add_location(uow_factory, tenant_id, "WH-2")
    for sku in ("A", "B", "C"):
        add_product(uow_factory, tenant_id, sku)
    add_product(uow_factory, tenant_id, "E", kind=ProductKind.DIGITAL)
    return tenant_id


def level(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str, code: str) -> int:
    stock = inventory.get_stock(uow_factory=uow_factory, tenant_id=tenant_id, sku=sku, at=AT)
    found = [loc.on_hand for loc in stock.locations if loc.location.code == code]
    return found[0] or 0 if found else 0


def ledger(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> list[int]:
    moves = inventory.list_movements(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        sku=sku,
        location_code=None,
        after_id=None,
        limit=1000,
    )
    return [m.quantity for m in moves]


STOCK = b"""sku,location,on_hand,safety_stock
A,WH-1,10,
A,WH-2,4,1
B,WH-1,7,
Z,WH-1,3,
C,NOWHERE,3,
E,WH-1,3,
C,WH-1,-2,
"""


def test_inventory_rows_set_levels_and_a_second_run_changes_nothing(
    uow_factory: SqlUnitOfWorkFactory, stocked: UUID, batch_size: int
) -> None:
    summary, errors = run(uow_factory, stocked, ImportKind.INVENTORY, STOCK, batch_size=batch_size)
    assert counts(summary) == (0, 3, 0, 0, 4)
    assert sorted((e.row, e.column) for e in errors) == [
        (5, "sku"),
        (6, "location"),
        (7, "sku"),
        (8, "on_hand"),
    ]
    assert (level(uow_factory, stocked, "A", "WH-1"), level(uow_factory, stocked, "A", "WH-2")) == (
        10,
        4,
    )
    assert ledger(uow_factory, stocked, "A") == [10, 4]

    again, _ = run(uow_factory, stocked, ImportKind.INVENTORY, STOCK, batch_size=batch_size)
    assert counts(again) == (0, 0, 3, 0, 4)
    assert ledger(uow_factory, stocked, "A") == [10, 4]  # no second movement
    assert level(uow_factory, stocked, "A", "WH-1") == 10


def test_a_count_below_what_is_reserved_is_refused_and_the_other_rows_apply(
    uow_factory: SqlUnitOfWorkFactory, stocked: UUID, batch_size: int
) -> None:
    set_stock(uow_factory, stocked, "A", "WH-1", 5)
    place(uow_factory, stocked, _order(("A", 3)))
    data = b"sku,location,on_hand\nA,WH-1,2\nB,WH-1,6\n"
    summary, errors = run(uow_factory, stocked, ImportKind.INVENTORY, data, batch_size=batch_size)
    assert counts(summary) == (0, 1, 0, 0, 1)
    assert [(e.row, e.column) for e in errors] == [(2, "on_hand")]
    assert "3 units are reserved" in errors[0].message
    assert (level(uow_factory, stocked, "A", "WH-1"), level(uow_factory, stocked, "B", "WH-1")) == (
        5,
        6,
    )


def test_a_dry_run_finds_the_same_problems_and_writes_nothing(
    uow_factory: SqlUnitOfWorkFactory, stocked: UUID, batch_size: int
) -> None:
    summary, errors = run(
        uow_factory, stocked, ImportKind.INVENTORY, STOCK, batch_size=batch_size, dry_run=True
    )
    assert counts(summary) == (0, 3, 0, 0, 4)
    assert len(errors) == 4
    assert level(uow_factory, stocked, "A", "WH-1") == 0
    assert ledger(uow_factory, stocked, "A") == []


def test_a_shopify_inventory_export_reads_as_ours(
    uow_factory: SqlUnitOfWorkFactory, stocked: UUID, batch_size: int
) -> None:
    data = (
        b"Handle,Title,Option1 Name,Option1 Value,SKU,HS Code,COO,Location,Incoming,"
        b"Unavailable,Committed,Available,On hand\n"
        b"a,A,Title,Default Title,A,,,WH-2,0,0,0,8,8\n"
    )
    summary, errors = run(uow_factory, stocked, ImportKind.INVENTORY, data, batch_size=batch_size)
    assert (errors, summary.updated) == ([], 1)
    assert level(uow_factory, stocked, "A", "WH-2") == 8


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.sampled_from("AB"), st.sampled_from(["WH-1", "WH-2"]), st.integers(0, 50)),
        min_size=1,
        max_size=12,
    ),
    size=st.sampled_from([1, 3, 500]),
)
def test_the_last_row_of_a_level_wins_and_the_ledger_sums_to_it(
    uow_factory: SqlUnitOfWorkFactory, rows: list[tuple[str, str, int]], size: int
) -> None:
    tenant, _ = create_tenant(uow_factory=uow_factory, name="property")
    for code in ("WH-1", "WH-2"):
        add_location(uow_factory, tenant.id, code)
    for sku in "AB":
        add_product(uow_factory, tenant.id, sku)
    data = "sku,location,on_hand\n" + "".join(f"{s},{c},{q}\n" for s, c, q in rows)
    run(uow_factory, tenant.id, ImportKind.INVENTORY, data.encode(), batch_size=size)
    last = {(s, c): q for s, c, q in rows}
    for sku in "AB":
        want = {c: q for (s, c), q in last.items() if s == sku}
        for code, units in want.items():
            assert level(uow_factory, tenant.id, sku, code) == units
        assert sum(ledger(uow_factory, tenant.id, sku)) == sum(want.values())


# --- orders -----------------------------------------------------------------------------------


def _order(*lines: tuple[str, int]) -> PlaceOrder:
    return order_of(*lines)


ORDERS = b"""order_id,currency,sku,quantity,unit_price,email,customer_name,ship_name,\
ship_line1,ship_city,ship_postal_code,ship_country,paid
1001,EUR,A,2,9.50,ada@example.com,Ada L,Ada L,Heidestrasse 17,Koeln,51147,DE,true
1001,EUR,B,1,,,,,,,,,
1002,EUR,NOPE,1,,bob@example.com,Bob,Bob,Heidestrasse 18,Koeln,51147,DE,true
1003,EUR,A,x,,cy@example.com,Cy,Cy,Heidestrasse 19,Koeln,51147,DE,false
1004,EUR,C,1,,di@example.com,Di,Di,Heidestrasse 20,Koeln,51147,DE,true
"""


def test_orders_go_through_the_intake_once_per_order_id(
    uow_factory: SqlUnitOfWorkFactory, stocked: UUID, batch_size: int
) -> None:
    set_stock(uow_factory, stocked, "A", "WH-1", 10)
    set_stock(uow_factory, stocked, "B", "WH-1", 10)
    summary, errors = run(uow_factory, stocked, ImportKind.ORDERS, ORDERS, batch_size=batch_size)
    assert (summary.created, summary.failed) == (3, 2)  # rows: 1001 (two), 1004
    assert [(e.row, e.column) for e in errors] == [(4, "sku"), (5, "quantity")]
    with uow_factory(readonly=True) as uow:
        placed = uow.orders.page(
            stocked, filters=OrderFilter(channel="csv"), before_id=None, limit=10
        )
    by_id = {order.external_id: order for order in placed}
    assert sorted(by_id) == ["1001", "1004"]
    first = by_id["1001"]
    assert [(line.sku, line.quantity, line.unit_price) for line in first.lines] == [
        ("A", 2, Decimal("9.50")),
        ("B", 1, Decimal("10.00")),
    ]
    assert first.payment_status.value == "paid"
    assert first.shipping_address is not None
    assert first.shipping_address.city == "Koeln"

    again, _ = run(uow_factory, stocked, ImportKind.ORDERS, ORDERS, batch_size=batch_size)
    assert (again.created, again.unchanged, again.failed) == (0, 3, 2)
    assert level(uow_factory, stocked, "A", "WH-1") == 10
    stock = inventory.get_stock(uow_factory=uow_factory, tenant_id=stocked, sku="A", at=AT)
    assert stock.reserved == 2  # reserved once, not twice


def test_an_order_dry_run_places_nothing(
    uow_factory: SqlUnitOfWorkFactory, stocked: UUID, batch_size: int
) -> None:
    summary, errors = run(
        uow_factory, stocked, ImportKind.ORDERS, ORDERS, batch_size=batch_size, dry_run=True
    )
    assert (summary.created, summary.failed, len(errors)) == (3, 2, 2)
    with uow_factory(readonly=True) as uow:
        assert uow.orders.id_by_external_id(stocked, "csv", "1001") is None


def test_counts_are_ledger_movements_of_kind_count(
    uow_factory: SqlUnitOfWorkFactory, stocked: UUID
) -> None:
    run(
        uow_factory,
        stocked,
        ImportKind.INVENTORY,
        b"sku,location,on_hand\nA,WH-1,3\n",
        batch_size=5,
    )
    (move,) = inventory.list_movements(
        uow_factory=uow_factory,
        tenant_id=stocked,
        sku="A",
        location_code="WH-1",
        after_id=None,
        limit=10,
    )
    assert (move.kind, move.quantity, move.reference) == (
        MovementKind.COUNT,
        3,
        "csv import row 2",
    )


def test_a_sku_twice_in_one_file_is_created_then_updated_by_the_later_row(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, batch_size: int
) -> None:
    data = b"sku,name,price,currency\nTWICE,First,1.00,EUR\nTWICE,Second,2.00,EUR\n"
    summary, errors = run(uow_factory, tenant_id, ImportKind.PRODUCTS, data, batch_size=batch_size)
    assert (errors, counts(summary)) == ([], (1, 1, 0, 0, 0))
    with uow_factory(readonly=True) as uow:
        found = uow.products.by_skus(tenant_id, ["TWICE"])["TWICE"]
    assert (found.name, found.price) == ("Second", Decimal("2.00"))
