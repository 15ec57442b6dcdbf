"""Editing and archiving products and locations through the use cases, on SQLite and
PostgreSQL: what is stored, what routing and intake make of it, and the 409 guard."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.errors import InvalidRequest, StockReserved
from oms.services import catalogue
from oms.services.orders import cancel_order
from tests.builders import (
    TESTER,
    add_location,
    add_product,
    order_of,
    place,
    set_stock,
    tenant_principal,
)

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _product_id(uow: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str) -> UUID:
    products = catalogue.list_products(
        uow_factory=uow, tenant_id=tenant_id, after_sku=None, limit=100
    )
    return next(p.id for p in products if p.sku == sku)


def test_an_edit_is_stored_and_only_the_named_fields_change(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_product(uow_factory, tenant_id, "TEE", price="10.00")
    product_id = _product_id(uow_factory, tenant_id, "TEE")
    before = catalogue.get_product(
        uow_factory=uow_factory, tenant_id=tenant_id, product_id=product_id
    )

    catalogue.edit_product(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        product_id=product_id,
        edit=catalogue.ProductEdit(
            given=frozenset({"price", "category"}), price=Decimal("12.50"), category="shirts"
        ),
    )

    after = catalogue.get_product(
        uow_factory=uow_factory, tenant_id=tenant_id, product_id=product_id
    )
    assert (after.price, after.category) == (Decimal("12.50"), "shirts")
    assert (after.sku, after.name, after.weight_grams) == (before.sku, before.name, 0)


def test_a_required_field_cannot_be_cleared(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_product(uow_factory, tenant_id, "TEE")
    product_id = _product_id(uow_factory, tenant_id, "TEE")

    with pytest.raises(InvalidRequest) as refused:
        catalogue.edit_product(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            product_id=product_id,
            edit=catalogue.ProductEdit(given=frozenset({"name"}), name=None),
        )

    assert [e.pointer for e in refused.value.errors] == ["#/name"]


def test_an_archived_product_is_listed_apart_and_refused_by_intake(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH-1")
    add_product(uow_factory, tenant_id, "OLD")
    add_product(uow_factory, tenant_id, "NEW")
    set_stock(uow_factory, tenant_id, "OLD", "WH-1", 3)
    product_id = _product_id(uow_factory, tenant_id, "OLD")

    archived = catalogue.archive_product(
        uow_factory=uow_factory, tenant_id=tenant_id, product_id=product_id, at=AT
    )

    assert archived.archived_at == AT
    listed = {
        flag: [
            p.sku
            for p in catalogue.list_products(
                uow_factory=uow_factory,
                tenant_id=tenant_id,
                after_sku=None,
                limit=10,
                archived=flag,
            )
        ]
        for flag in (True, False, None)
    }
    assert listed == {True: ["OLD"], False: ["NEW"], None: ["NEW", "OLD"]}
    with pytest.raises(InvalidRequest) as refused:
        place(uow_factory, tenant_id, order_of(("OLD", 1)))
    assert [e.pointer for e in refused.value.errors] == ["#/lines/0/sku"]


def test_a_location_with_reserved_stock_is_archived_only_once_it_is_released(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH-1", priority=1)
    add_location(uow_factory, tenant_id, "WH-2", priority=2)
    add_product(uow_factory, tenant_id, "TEE")
    set_stock(uow_factory, tenant_id, "TEE", "WH-1", 5)
    set_stock(uow_factory, tenant_id, "TEE", "WH-2", 5)
    owner = tenant_principal(tenant_id)
    order = place(uow_factory, tenant_id, order_of(("TEE", 2))).order

    with pytest.raises(StockReserved):
        catalogue.archive_location(uow_factory=uow_factory, principal=owner, ref="WH-1", at=AT)

    cancel_order(uow_factory=uow_factory, tenant_id=tenant_id, order_id=order.id, actor=TESTER)
    archived = catalogue.archive_location(
        uow_factory=uow_factory, principal=owner, ref="WH-1", at=AT
    )
    assert (archived.active, archived.archived_at) == (False, AT)
    read = catalogue.get_location(uow_factory=uow_factory, principal=owner, ref="WH-1")
    assert (read.active, read.archived_at) == (False, AT)
    later = place(uow_factory, tenant_id, order_of(("TEE", 1))).order
    assert {a.location_code for a in later.allocations} == {"WH-2"}


def test_a_location_edit_is_stored_and_checked_like_a_new_one(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    add_location(uow_factory, tenant_id, "WH-1")
    owner = tenant_principal(tenant_id)

    catalogue.edit_location(
        uow_factory=uow_factory,
        principal=owner,
        ref="WH-1",
        edit=catalogue.LocationEdit(
            given=frozenset({"name", "latitude", "longitude"}),
            name="Cologne",
            latitude=50.94,
            longitude=6.96,
        ),
    )
    with pytest.raises(InvalidRequest) as refused:
        catalogue.edit_location(
            uow_factory=uow_factory,
            principal=owner,
            ref="WH-1",
            edit=catalogue.LocationEdit(given=frozenset({"longitude"}), longitude=None),
        )

    assert [e.pointer for e in refused.value.errors] == ["#/longitude"]
    read = catalogue.get_location(uow_factory=uow_factory, principal=owner, ref="WH-1")
    assert (read.name, read.latitude, read.longitude, read.code) == (
        "Cologne",
        50.94,
        6.96,
        "WH-1",
    )
