"""Test helpers that build a tenant's world through the real use cases."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from oms.adapters.payments.registry import gateway_named
from oms.domain.addresses import Address
from oms.domain.catalogue import BundleComponent, Location, ProductKind
from oms.domain.ids import new_id
from oms.domain.orders import Actor, Customer, Order
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue, intake, inventory
from oms.services.ports import UnitOfWorkFactory

TESTER = Actor("system", "test")
SHIP_TO = Address(
    country="DE",
    name="Erika Mustermann",
    line1="Heidestrasse 17",
    city="Koeln",
    postal_code="51147",
)
PAID = intake.ChannelPayment(gateway="manual", captured=True)


def tenant_principal(tenant_id: UUID) -> Principal:
    return Principal(key_id=new_id(), scope=ApiKeyScope.TENANT, tenant_id=tenant_id)


def add_location(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID, code: str, *, priority: int = 100
) -> Location:
    return catalogue.create_location(
        uow_factory=uow_factory,
        principal=tenant_principal(tenant_id),
        command=catalogue.NewLocation(code=code, name=f"Location {code}", priority=priority),
    )


def add_product(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    sku: str,
    *,
    price: str = "10.00",
    currency: str = "EUR",
    kind: ProductKind = ProductKind.PHYSICAL,
    components: dict[str, int] | None = None,
) -> None:
    catalogue.create_product(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        command=catalogue.NewProduct(
            sku=sku,
            name=f"Product {sku}",
            price=Decimal(price),
            currency=currency,
            kind=kind,
            components=tuple(BundleComponent(s, q) for s, q in (components or {}).items()),
        ),
    )


def set_stock(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID, sku: str, location: str, units: int
) -> None:
    inventory.adjust_inventory(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        command=inventory.Adjustment(
            sku=sku, location_code=location, set_on_hand=units, reason="test count"
        ),
        actor=TESTER,
    )


def order_of(
    *lines: tuple[str, int],
    external_id: str | None = None,
    allow_backorder: bool = True,
    channel: str = "api",
    email: str | None = "erika@example.com",
    ship_to: Address | None = SHIP_TO,
    payment: intake.ChannelPayment | None = PAID,
    discount_codes: tuple[str, ...] = (),
) -> intake.PlaceOrder:
    """A clean order (valid address, paid through the manual gateway) unless told otherwise."""
    return intake.PlaceOrder(
        currency="EUR",
        channel=channel,
        external_id=external_id,
        allow_backorder=allow_backorder,
        customer=Customer(email=email, name="Erika Mustermann"),
        shipping_address=ship_to,
        lines=tuple(intake.LineRequest(sku=sku, quantity=q) for sku, q in lines),
        payment=payment,
        discount_codes=discount_codes,
    )


def place(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    command: intake.PlaceOrder,
    *,
    key: str | None = None,
    at: datetime | None = None,
) -> intake.PlacedOrder:
    return intake.place_order(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=tenant_id,
        command=command,
        actor=TESTER,
        idempotency_key=key,
        fingerprint="f" if key else "",
        at=at,
    )


def backordered(uow_factory: UnitOfWorkFactory, tenant_id: UUID, order_id: UUID) -> list[int]:
    """Each line's backordered units of the order, as stored."""
    with uow_factory(readonly=True) as uow:
        found = uow.orders.get(tenant_id, order_id)
    assert found is not None
    return [line.backordered for line in found.lines]


def placed_order(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    *lines: tuple[str, int],
    level: str = "standard",
    at: datetime,
) -> Order:
    """An order of ``lines`` at the service ``level``, placed (backordered where short)."""
    command = dataclasses.replace(order_of(*lines), service_level=level)
    return place(uow_factory, tenant_id, command, at=at).order
