"""Products and locations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, Connection, Row, any_, bindparam, func, or_, select, update
from sqlalchemy.dialects import sqlite

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import inventory_levels, location_grants, locations, products
from oms.domain.addresses import Address
from oms.domain.catalogue import BundleComponent, Location, LocationKind, Product, ProductKind
from oms.domain.packing import Box

__all__ = ["SqlLocationRepository", "SqlProductRepository"]

# Read by every order intake: built once, parameters bound at execution.
_PRODUCTS_BY_SKUS = select(products).where(
    products.c.tenant_id == bindparam("p_tenant_id", type_=products.c.tenant_id.type),
    products.c.sku.in_(bindparam("p_skus", expanding=True, type_=products.c.sku.type)),
)
_VISIBLE_LOCATIONS = (
    select(locations)
    .where(
        or_(
            locations.c.owner_tenant_id
            == bindparam("p_tenant_id", type_=locations.c.owner_tenant_id.type),
            locations.c.id.in_(
                select(location_grants.c.location_id).where(
                    location_grants.c.tenant_id
                    == bindparam("p_tenant_id", type_=location_grants.c.tenant_id.type)
                )
            ),
        )
    )
    .order_by(locations.c.code, locations.c.id)
)
# Every intake reads both: on PostgreSQL through psycopg (oms.adapters.db.driver).
_PRODUCTS_BY_SKUS_RUN = DriverStatement(
    select(products).where(
        products.c.tenant_id == bindparam("p_tenant_id", type_=products.c.tenant_id.type),
        products.c.sku == any_(bindparam("p_skus", type_=ARRAY(products.c.sku.type))),
    ),
    portable=_PRODUCTS_BY_SKUS,
)
_VISIBLE_LOCATIONS_RUN = DriverStatement(_VISIBLE_LOCATIONS)


def _product(row: Row[Any]) -> Product:
    return Product(
        id=row.id,
        tenant_id=row.tenant_id,
        sku=row.sku,
        name=row.name,
        price=row.price,
        currency=row.currency,
        kind=ProductKind(row.kind),
        weight_grams=row.weight_grams,
        category=row.category,
        components=tuple(BundleComponent(c["sku"], c["quantity"]) for c in row.components),
        created_at=row.created_at,
        barcode=row.barcode,
        length_mm=row.length_mm,
        width_mm=row.width_mm,
        height_mm=row.height_mm,
        download_url=row.download_url,
        archived_at=row.archived_at,
        hs_code=row.hs_code,
        origin_country=row.origin_country,
        customs_description=row.customs_description,
    )


# add_many on PostgreSQL: one statement over arrays. SQLAlchemy's many-row VALUES statement
# is a new text for every batch, which psycopg parses anew each time (too long to cache):
# most of the client's time in an import of new products.
_ADD_COLUMNS = (
    "tenant_id",
    "id",
    "sku",
    "kind",
    "components",
    "created_at",
    "archived_at",
    "name",
    "price",
    "currency",
    "weight_grams",
    "category",
    "barcode",
    "length_mm",
    "width_mm",
    "height_mm",
    "download_url",
    "hs_code",
    "origin_country",
    "customs_description",
)
_ADD_EACH = DriverStatement("""
INSERT INTO products (
    tenant_id, id, sku, kind, components, created_at, archived_at, name, price,
    currency, weight_grams, category, barcode, length_mm, width_mm, height_mm,
    download_url, hs_code, origin_country, customs_description
)
SELECT
    w.tenant_id, w.id, w.sku, w.kind, CAST(w.components AS JSON), w.created_at,
    w.archived_at, w.name, w.price, w.currency, w.weight_grams, w.category, w.barcode,
    w.length_mm, w.width_mm, w.height_mm, w.download_url, w.hs_code, w.origin_country,
    w.customs_description
FROM unnest(
    CAST(%(tenant_id)b AS UUID[]),
    CAST(%(id)b AS UUID[]),
    CAST(%(sku)b AS VARCHAR[]),
    CAST(%(kind)b AS VARCHAR[]),
    CAST(%(components)b AS TEXT[]),
    CAST(%(created_at)b AS TIMESTAMPTZ[]),
    CAST(%(archived_at)b AS TIMESTAMPTZ[]),
    CAST(%(name)b AS VARCHAR[]),
    CAST(%(price)b AS NUMERIC[]),
    CAST(%(currency)b AS VARCHAR[]),
    CAST(%(weight_grams)b AS INTEGER[]),
    CAST(%(category)b AS VARCHAR[]),
    CAST(%(barcode)b AS VARCHAR[]),
    CAST(%(length_mm)b AS INTEGER[]),
    CAST(%(width_mm)b AS INTEGER[]),
    CAST(%(height_mm)b AS INTEGER[]),
    CAST(%(download_url)b AS TEXT[]),
    CAST(%(hs_code)b AS VARCHAR[]),
    CAST(%(origin_country)b AS VARCHAR[]),
    CAST(%(customs_description)b AS VARCHAR[])
) AS w(
    tenant_id, id, sku, kind, components, created_at, archived_at, name, price,
    currency, weight_grams, category, barcode, length_mm, width_mm, height_mm,
    download_url, hs_code, origin_country, customs_description
)
ON CONFLICT DO NOTHING
RETURNING sku
""")


def _editable_product_columns(product: Product) -> dict[str, Any]:
    """What an edit may change: never the tenant, id, SKU, kind or components."""
    return {
        "name": product.name,
        "price": product.price,
        "currency": product.currency,
        "weight_grams": product.weight_grams,
        "category": product.category,
        "barcode": product.barcode,
        "length_mm": product.length_mm,
        "width_mm": product.width_mm,
        "height_mm": product.height_mm,
        "download_url": product.download_url,
        "hs_code": product.hs_code,
        "origin_country": product.origin_country,
        "customs_description": product.customs_description,
    }


class SqlProductRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, product: Product) -> bool:
        return insert_if_absent(
            self._conn,
            products,
            {
                "tenant_id": product.tenant_id,
                "id": product.id,
                "sku": product.sku,
                "kind": product.kind.value,
                "components": [{"sku": c.sku, "quantity": c.quantity} for c in product.components],
                "created_at": product.created_at,
                "archived_at": product.archived_at,
                **_editable_product_columns(product),
            },
        )

    def add_many(self, new: Sequence[Product]) -> set[str]:
        """``add`` for each product, in one statement; the SKUs that were added."""
        if not new:
            return set()
        values = [
            {
                "tenant_id": product.tenant_id,
                "id": product.id,
                "sku": product.sku,
                "kind": product.kind.value,
                "components": [{"sku": c.sku, "quantity": c.quantity} for c in product.components],
                "created_at": product.created_at,
                "archived_at": product.archived_at,
                **_editable_product_columns(product),
            }
            for product in new
        ]
        if self._conn.dialect.name == "postgresql":
            arrays: dict[str, list[Any]] = {name: [] for name in _ADD_COLUMNS}
            for row in values:
                row["components"] = json.dumps(row["components"])
                for name, column in arrays.items():
                    column.append(row[name])
            return {found[0] for found in _ADD_EACH.tuples(self._conn, arrays)}
        rows = self._conn.execute(
            sqlite.insert(products).on_conflict_do_nothing().returning(products.c.sku), values
        )
        return {row.sku for row in rows}

    def update(self, product: Product) -> None:
        self._conn.execute(
            update(products)
            .where(products.c.tenant_id == product.tenant_id, products.c.id == product.id)
            .values(archived_at=product.archived_at, **_editable_product_columns(product))
        )

    def get(self, tenant_id: UUID, product_id: UUID, *, for_update: bool = False) -> Product | None:
        query = select(products).where(
            products.c.tenant_id == tenant_id, products.c.id == product_id
        )
        row = self._conn.execute(query.with_for_update() if for_update else query).first()
        return None if row is None else _product(row)

    def by_skus(self, tenant_id: UUID, skus: Iterable[str]) -> dict[str, Product]:
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        rows = _PRODUCTS_BY_SKUS_RUN.rows(self._conn, {"p_tenant_id": tenant_id, "p_skus": wanted})
        return {row.sku: _product(row) for row in rows}

    def page(
        self,
        tenant_id: UUID,
        *,
        after_sku: str | None,
        limit: int,
        archived: bool | None = None,
    ) -> list[Product]:
        query = select(products).where(products.c.tenant_id == tenant_id)
        if after_sku is not None:
            query = query.where(products.c.sku > after_sku)
        if archived is not None:
            column = products.c.archived_at
            query = query.where(column.is_not(None) if archived else column.is_(None))
        rows = self._conn.execute(query.order_by(products.c.sku).limit(limit))
        return [_product(row) for row in rows]

    def on_sale_in_category(
        self,
        tenant_id: UUID,
        category: str,
        *,
        kinds: Iterable[ProductKind],
        currency: str,
        limit: int,
    ) -> list[Product]:
        # ix_products_category (tenant_id, category, sku) finds them in SKU order.
        query = (
            select(products)
            .where(
                products.c.tenant_id == tenant_id,
                products.c.category == category,
                products.c.archived_at.is_(None),
                products.c.kind.in_([kind.value for kind in kinds]),
                products.c.currency == currency,
            )
            .order_by(products.c.sku)
            .limit(limit)
        )
        return [_product(row) for row in self._conn.execute(query)]


def _location(row: Row[Any]) -> Location:
    return Location(
        id=row.id,
        owner_tenant_id=row.owner_tenant_id,
        code=row.code,
        name=row.name,
        kind=LocationKind(row.kind),
        address=None if row.address is None else Address.from_dict(row.address),
        latitude=row.latitude,
        longitude=row.longitude,
        can_ship=row.can_ship,
        can_pickup=row.can_pickup,
        priority=row.priority,
        active=row.active,
        created_at=row.created_at,
        pickup_cutoff=row.pickup_cutoff,
        timezone=row.timezone,
        boxes=tuple(Box(**box) for box in row.boxes or ()),
        archived_at=row.archived_at,
    )


def _box_rows(boxes: Iterable[Box]) -> list[dict[str, Any]]:
    return [
        {
            "code": box.code,
            "length_mm": box.length_mm,
            "width_mm": box.width_mm,
            "height_mm": box.height_mm,
            "max_weight_grams": box.max_weight_grams,
            "tare_grams": box.tare_grams,
        }
        for box in boxes
    ]


def _changeable_location_columns(location: Location) -> dict[str, Any]:
    """Everything but the id, owner, code and creation time."""
    return {
        "name": location.name,
        "kind": location.kind.value,
        "address": None if location.address is None else location.address.to_dict(),
        "latitude": location.latitude,
        "longitude": location.longitude,
        "can_ship": location.can_ship,
        "can_pickup": location.can_pickup,
        "priority": location.priority,
        "active": location.active,
        "pickup_cutoff": location.pickup_cutoff,
        "timezone": location.timezone,
        "boxes": _box_rows(location.boxes),
        "archived_at": location.archived_at,
    }


class SqlLocationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, location: Location) -> bool:
        return insert_if_absent(
            self._conn,
            locations,
            {
                "id": location.id,
                "owner_tenant_id": location.owner_tenant_id,
                "code": location.code,
                "created_at": location.created_at,
                **_changeable_location_columns(location),
            },
        )

    def update(self, location: Location) -> None:
        self._conn.execute(
            update(locations)
            .where(locations.c.id == location.id)
            .values(**_changeable_location_columns(location))
        )

    def reserved_units(self, location_id: UUID) -> int:
        """Units reserved at the location for any tenant (open allocations and cart holds)."""
        found = self._conn.execute(
            select(func.coalesce(func.sum(inventory_levels.c.reserved), 0)).where(
                inventory_levels.c.location_id == location_id
            )
        ).scalar_one()
        return int(found)

    def set_boxes(self, location_id: UUID, boxes: Iterable[Box]) -> None:
        self._conn.execute(
            update(locations).where(locations.c.id == location_id).values(boxes=_box_rows(boxes))
        )

    def get(self, location_id: UUID) -> Location | None:
        row = self._conn.execute(select(locations).where(locations.c.id == location_id)).first()
        return None if row is None else _location(row)

    def visible_to(self, tenant_id: UUID) -> list[Location]:
        rows = _VISIBLE_LOCATIONS_RUN.rows(self._conn, {"p_tenant_id": tenant_id})
        return [_location(row) for row in rows]

    def grant(self, tenant_id: UUID, location_id: UUID, at: datetime) -> None:
        insert_if_absent(
            self._conn,
            location_grants,
            {"tenant_id": tenant_id, "location_id": location_id, "created_at": at},
        )

    def operator_locations(self) -> list[Location]:
        """Every location of the operator's own (a reference table: few rows)."""
        rows = self._conn.execute(
            select(locations)
            .where(locations.c.owner_tenant_id.is_(None))
            .order_by(locations.c.code)
        )
        return [_location(row) for row in rows]

    def operator_page(self, *, after_code: str | None, limit: int) -> list[Location]:
        query = select(locations).where(locations.c.owner_tenant_id.is_(None))
        if after_code is not None:
            query = query.where(locations.c.code > after_code)
        rows = self._conn.execute(query.order_by(locations.c.code).limit(limit))
        return [_location(row) for row in rows]
