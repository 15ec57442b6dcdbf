"""Stock: adjustments through the ledger, and availability per SKU and location."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.catalogue import Location, Product, ProductKind, location_named
from oms.domain.errors import FieldError, InvalidRequest, NotFound, StockReserved
from oms.domain.inventory import (
    Movement,
    MovementKind,
    StockLevel,
    adjustment_delta,
    bundle_availability,
)
from oms.domain.orders import Actor
from oms.services.carts import expire_due, expire_due_in
from oms.services.common import utcnow
from oms.services.event_catalogue import stock_is_low
from oms.services.payments import GatewayProvider
from oms.services.ports import (
    OutboxMessage,
    TransientStorageError,
    UnitOfWork,
    UnitOfWorkFactory,
)
from oms.services.rerouting import allocate_backorders
from oms.services.routing import Geocoder

__all__ = [
    "Adjustment",
    "LocationStock",
    "SkuStock",
    "adjust_inventory",
    "available_units",
    "get_stock",
    "list_movements",
    "list_stock",
]

MAX_CAS_ATTEMPTS = 50


@dataclass(frozen=True)
class Adjustment:
    sku: str
    location_code: str
    reason: str
    delta: int | None = None
    set_on_hand: int | None = None
    safety_stock: int | None = None
    reference: str | None = None


@dataclass(frozen=True)
class LocationStock:
    location: Location
    available: int
    on_hand: int | None = None
    reserved: int | None = None
    safety_stock: int | None = None


@dataclass(frozen=True)
class SkuStock:
    """Availability of one SKU; bundles have only ``available`` (from their components)."""

    product: Product
    locations: list[LocationStock]

    @property
    def available(self) -> int:
        return sum(loc.available for loc in self.locations)

    def _sum(self, field: str) -> int | None:
        if self.product.kind is not ProductKind.PHYSICAL:
            return None
        return sum(getattr(loc, field) or 0 for loc in self.locations)

    @property
    def on_hand(self) -> int | None:
        return self._sum("on_hand")

    @property
    def reserved(self) -> int | None:
        return self._sum("reserved")

    @property
    def safety_stock(self) -> int | None:
        return self._sum("safety_stock")


def _location_by_code(
    uow: UnitOfWork, tenant_id: UUID, code: str, *, pointer: str = "#/location"
) -> Location:
    found = location_named(uow.locations.visible_to(tenant_id), code, tenant_id)
    if found is None:
        raise InvalidRequest("Unknown location", [FieldError(pointer, f"no location {code!r}")])
    return found


def adjust_inventory(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    command: Adjustment,
    actor: Actor,
    at: datetime | None = None,
    geocoder: Geocoder | None = None,
    gateways: GatewayProvider | None = None,
) -> StockLevel:
    """Change on-hand stock (by a delta or to a counted figure) with a ledger movement.

    Refuses to leave less on hand than is reserved (409): cancel or move those orders first.
    When stock arrives, backorders waiting for the SKU are routed right after (their own
    transactions), earliest promise first; with ``gateways``, an order that is released then
    has the value of its digital lines captured at once.
    """
    at = at or utcnow()
    if command.safety_stock is not None and command.safety_stock < 0:
        raise InvalidRequest(
            "Invalid safety stock", [FieldError("#/safety_stock", "cannot be negative")]
        )
    with uow_factory() as uow:
        product = uow.products.by_skus(tenant_id, [command.sku]).get(command.sku)
        if product is None:
            raise InvalidRequest(
                "Unknown SKU", [FieldError("#/sku", f"no product with SKU {command.sku!r}")]
            )
        if not product.holds_stock:
            raise InvalidRequest(
                "This product holds no stock",
                [FieldError("#/sku", f"{product.kind.value} products have no stock of their own")],
            )
        location = _location_by_code(uow, tenant_id, command.location_code)
        expire_due_in(uow, tenant_id, at)
        uow.inventory.ensure_level(tenant_id, command.sku, location.id, at)
        for _ in range(MAX_CAS_ATTEMPTS):
            (level,) = uow.inventory.levels(tenant_id, [command.sku], [location.id])
            change = adjustment_delta(
                on_hand=level.on_hand, delta=command.delta, set_on_hand=command.set_on_hand
            )
            on_hand = level.on_hand + change
            if on_hand < level.reserved:
                raise StockReserved(
                    f"{level.reserved} units of {command.sku} are reserved at {location.code}; "
                    f"on hand cannot go below that",
                    reserved=level.reserved,
                )
            safety = level.safety_stock if command.safety_stock is None else command.safety_stock
            if uow.inventory.compare_and_set(
                tenant_id, level, on_hand=on_hand, safety_stock=safety, at=at
            ):
                break
        else:
            raise TransientStorageError("the stock level kept changing")
        if change:
            kind = (
                MovementKind.COUNT if command.set_on_hand is not None else MovementKind.ADJUSTMENT
            )
            uow.inventory.add_movement(
                tenant_id,
                sku=command.sku,
                location_id=location.id,
                kind=kind,
                quantity=change,
                on_hand_after=on_hand,
                reason=command.reason,
                reference=command.reference,
                actor=str(actor),
                at=at,
            )
        if stock_is_low(on_hand, safety):  # only then is the message a public event
            uow.outbox.add_many(
                tenant_id,
                [
                    OutboxMessage(
                        topic="inventory.adjusted",
                        aggregate_id=product.id,
                        payload={
                            "sku": command.sku,
                            "location": location.code,
                            "delta": change,
                            "on_hand": on_hand,
                            "safety_stock": safety,
                            "reason": command.reason,
                        },
                        created_at=at,
                    )
                ],
            )
        uow.commit()
    if change > 0 or (command.safety_stock is not None and safety < level.safety_stock):
        # Stock arrived (or less is kept back): waiting backorders get their turn.
        allocate_backorders(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            skus=[command.sku],
            geocoder=geocoder,
            gateways=gateways,
            at=at,
        )
    return StockLevel(
        sku=command.sku,
        location_id=location.id,
        on_hand=on_hand,
        reserved=level.reserved,
        safety_stock=safety,
    )


def _stock_of(uow: UnitOfWork, tenant_id: UUID, products: list[Product]) -> list[SkuStock]:
    visible = {loc.id: loc for loc in uow.locations.visible_to(tenant_id)}
    skus = {p.sku for p in products if p.holds_stock}
    skus |= {c.sku for p in products for c in p.components}
    levels = [lv for lv in uow.inventory.levels(tenant_id, skus) if lv.location_id in visible]
    by_key = {(lv.sku, lv.location_id): lv for lv in levels}
    result: list[SkuStock] = []
    for product in products:
        rows: list[LocationStock] = []
        if product.kind is ProductKind.PHYSICAL:
            rows = [
                LocationStock(
                    location=visible[lv.location_id],
                    available=lv.available,
                    on_hand=lv.on_hand,
                    reserved=lv.reserved,
                    safety_stock=lv.safety_stock,
                )
                for lv in levels
                if lv.sku == product.sku
            ]
        elif product.kind is ProductKind.BUNDLE:
            per_location = bundle_availability(
                {c.sku: c.quantity for c in product.components},
                {key: lv.available for key, lv in by_key.items()},
            )
            rows = [
                LocationStock(location=visible[loc], available=units)
                for loc, units in per_location.items()
            ]
        rows.sort(key=lambda r: r.location.code)
        result.append(SkuStock(product=product, locations=rows))
    return result


def available_units(uow: UnitOfWork, tenant_id: UUID, products: list[Product]) -> dict[str, int]:
    """Units of each product available now over the tenant's locations (bundles from their
    components), read in the caller's unit of work."""
    return {stock.product.sku: stock.available for stock in _stock_of(uow, tenant_id, products)}


def get_stock(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, sku: str, at: datetime | None = None
) -> SkuStock:
    """Totals and per-location stock of one SKU (bundles computed from components)."""
    expire_due(uow_factory=uow_factory, tenant_id=tenant_id, now=at or utcnow())
    with uow_factory(readonly=True) as uow:
        product = uow.products.by_skus(tenant_id, [sku]).get(sku)
        if product is None:
            raise NotFound(f"No product with SKU {sku!r}")
        return _stock_of(uow, tenant_id, [product])[0]


def stock_of_sku(uow: UnitOfWork, tenant_id: UUID, sku: str) -> SkuStock | None:
    """One SKU's stock read in the caller's unit of work (None: no such product); what an
    ``inventory.*`` event carries."""
    product = uow.products.by_skus(tenant_id, [sku]).get(sku)
    return None if product is None else _stock_of(uow, tenant_id, [product])[0]


def list_stock(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    after_sku: str | None,
    limit: int,
    at: datetime | None = None,
) -> list[SkuStock]:
    """A page of stock per SKU, in SKU order, for every product of the tenant."""
    expire_due(uow_factory=uow_factory, tenant_id=tenant_id, now=at or utcnow())
    with uow_factory(readonly=True) as uow:
        products = uow.products.page(tenant_id, after_sku=after_sku, limit=limit)
        return _stock_of(uow, tenant_id, products)


def list_movements(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    sku: str,
    location_code: str | None,
    after_id: UUID | None,
    limit: int,
) -> list[Movement]:
    """A page of one SKU's ledger, oldest first, at one location (by code) or at all."""
    with uow_factory(readonly=True) as uow:
        if uow.products.by_skus(tenant_id, [sku]).get(sku) is None:
            raise NotFound(f"No product with SKU {sku!r}")
        location_id = None
        if location_code is not None:
            location = _location_by_code(uow, tenant_id, location_code, pointer="query:location")
            location_id = location.id
        return uow.inventory.movements(
            tenant_id, sku, location_id=location_id, after_id=after_id, limit=limit
        )
