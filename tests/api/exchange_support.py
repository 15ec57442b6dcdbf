"""A shop whose T-shirts are exchanged on its order status page: the sizes as products of
one category (the catalogue has no variants), and its orders delivered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.app import create_app
from oms.domain.catalogue import ProductKind
from oms.domain.orders import Order
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services import catalogue
from oms.services.tracking import CarrierEvent, record_carrier_events
from oms.web.pages import PageClock
from tests.api.support import ApiTenant, TestClient, api_settings_for, new_tenant
from tests.builders import set_stock
from tests.integration.returns_support import SHIPPED_AT, open_shop, shipped_order

__all__ = [
    "BROWSER",
    "DELIVERED_AT",
    "NOW",
    "TEES",
    "add_product",
    "delivered",
    "exchange_shop",
    "post_return_form",
    "returns_of",
    "status_page_client",
]

# What a browser on the page's own site sends with the form.
BROWSER = {"Accept": "text/html", "Origin": "http://testserver"}

DELIVERED_AT = SHIPPED_AT + timedelta(days=2)
NOW = SHIPPED_AT + timedelta(days=5)
# The shop's T-shirts: one category, sizes as products (the catalogue has no variants).
TEES = {"TEE-S": "20.00", "TEE-M": "20.00", "TEE-L": "20.00", "TEE-XL": "25.00"}


def add_product(
    uow: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    sku: str,
    price: str,
    category: str | None,
    kind: ProductKind = ProductKind.PHYSICAL,
) -> None:
    catalogue.create_product(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=catalogue.NewProduct(
            sku=sku,
            name=f"Tee {sku.removeprefix('TEE-')}" if category == "tees" else f"Product {sku}",
            price=Decimal(price),
            currency="EUR",
            kind=kind,
            category=category,
            download_url="https://example.com/d" if kind is ProductKind.DIGITAL else None,
        ),
    )


def exchange_shop(uow: SqlUnitOfWorkFactory, name: str) -> tuple[ApiTenant, str]:
    """A shop with T-shirts S, M, L and XL in the category "tees" (no L in stock), a mug
    of another category and an e-book (digital) among the tees; with its slug."""
    tenant = new_tenant(uow, name)
    open_shop(uow, tenant.id)
    for sku, price in TEES.items():
        add_product(uow, tenant.id, sku, price, "tees")
        set_stock(uow, tenant.id, sku, "NEAR", 0 if sku == "TEE-L" else 10)
    add_product(uow, tenant.id, "MUG", "8.00", "mugs")
    set_stock(uow, tenant.id, "MUG", "NEAR", 10)
    add_product(uow, tenant.id, "TEE-EBOOK", "5.00", "tees", kind=ProductKind.DIGITAL)
    with uow(readonly=True) as read:
        found = read.tenants.get(tenant.id)
    assert found is not None
    return tenant, found.slug


def delivered(uow: SqlUnitOfWorkFactory, tenant_id: UUID, *lines: tuple[str, int]) -> Order:
    """An order of ``lines`` shipped and, by its carrier's scan, delivered."""
    order = shipped_order(uow, tenant_id, *lines)
    with uow(readonly=True) as read:
        (shipment,) = read.shipments.for_order(tenant_id, order.id)
    record_carrier_events(
        uow_factory=uow,
        carrier=shipment.carrier,
        events=[
            CarrierEvent(
                shipment.tracking_number,
                TrackingEvent(f"d-{order.id}", ShipmentStatus.DELIVERED, DELIVERED_AT),
            )
        ],
        at=DELIVERED_AT,
    )
    return order


@contextmanager
def status_page_client(engine: Engine, **settings: Any) -> Iterator[TestClient]:
    """A client of the app on ``engine`` whose public pages' clock reads ``NOW`` (the
    return window open), with ``settings`` changed from the tests' own."""
    config = api_settings_for(engine.url.render_as_string(hide_password=False))
    app = create_app(
        config.model_copy(update=settings), engine=engine, page_clock=PageClock(now=lambda: NOW)
    )
    with TestClient(app) as client:
        yield client


def post_return_form(
    client: TestClient, slug: str, order: Order, headers: Any = None, **fields: Any
) -> Any:
    """Post the status page's return form for ``order`` (opened and confirmed with the
    customer's email), with ``fields`` added or replaced."""
    form = {
        "number": str(order.number),
        "email": "erika@example.com",  # how the page was opened
        "return_email": "erika@example.com",  # typed to confirm
    } | fields
    return client.post(f"/status/{slug}/returns/form", data=form, headers=headers or BROWSER)


def returns_of(client: TestClient, tenant: ApiTenant, order: Order) -> list[Any]:
    """The returns of ``order``, as its shop's staff list them."""
    got = client.get("/v1/returns", headers=tenant.headers, params={"order_id": str(order.id)})
    items: list[Any] = got.json()["items"]
    return items
