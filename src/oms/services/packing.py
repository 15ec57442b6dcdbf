"""Packing: the pack station scans what goes into a box; a wrong or surplus item is refused.

Scans are SKUs or product barcodes (GTINs, with or without leading zeros). The box is the
one the packer names, else the smallest of the location's box sizes that holds the items
by volume and weight (``oms.domain.packing.choose_box``); a location without box sizes
packs in whatever the packer says (dimensions optional). The package's weight is the
scale's when given, else the items' catalogue weight plus the box's tare. A package not
yet shipped can be unpacked (a wrong box, a damaged item): its units wait to be packed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest, NotFound
from oms.domain.fulfilment import FulfillmentKind, FulfillmentOrder
from oms.domain.ids import new_id
from oms.domain.orders import Actor
from oms.domain.packing import (
    Box,
    Package,
    PackageItem,
    PackItem,
    ScanResult,
    box_fits,
    check_scans,
    choose_box,
    package_weight,
    verify_scans,
)
from oms.services.common import retry_transient, utcnow
from oms.services.fulfilment import describe
from oms.services.persistence import save_order_changes
from oms.services.ports import TransientStorageError, UnitOfWorkFactory
from oms.services.warehouse import lock_fulfillment_order

__all__ = [
    "PackRequest",
    "PackResult",
    "PackStation",
    "pack",
    "pack_station",
    "record_refused_scan",
    "unpack",
]


@dataclass(frozen=True)
class PackRequest:
    scans: list[str]
    box: str | None = None
    weight_grams: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None


@dataclass(frozen=True)
class PackResult:
    fulfillment_order: FulfillmentOrder
    package: Package


def _box(boxes: tuple[Box, ...], request: PackRequest, items: list[PackItem]) -> Box | None:
    if request.box is not None:
        named = next((b for b in boxes if b.code == request.box), None)
        if named is None:
            known = ", ".join(b.code for b in boxes) or "none configured"
            raise InvalidRequest("Unknown box", [FieldError("#/box", f"box sizes here: {known}")])
        if not box_fits(named, items):
            raise InvalidRequest(
                "The items do not fit that box",
                [FieldError("#/box", f"{named.code} is too small or too weak for these items")],
            )
        return named
    if not boxes:
        return None
    chosen = choose_box(boxes, items)
    if chosen is None:
        raise InvalidRequest(
            "No box size of this location fits these items",
            [FieldError("#/scans", "pack them in two packages, or add a larger box size")],
        )
    return chosen


@dataclass(frozen=True)
class PackStation:
    """What a pack station shows for a fulfilment order and the scans made so far: each
    scan accepted or refused (``oms.domain.packing.check_scans``), the units still to pack
    per SKU, the product names, the location's box sizes and the packages made."""

    fulfillment_order: FulfillmentOrder
    results: list[ScanResult]
    to_pack: dict[str, int]
    names: dict[str, str]
    boxes: tuple[Box, ...]
    packages: list[Package]

    def left(self, sku: str) -> int:
        """Units of ``sku`` still to scan after the accepted scans."""
        scanned = sum(1 for r in self.results if r.accepted and r.sku == sku)
        return self.to_pack.get(sku, 0) - scanned


def pack_station(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, fo_id: UUID, scans: list[str]
) -> PackStation:
    """Check ``scans`` against what the fulfilment order has to pack, writing nothing: the
    same check ``pack`` makes (NotFound for another tenant's fulfilment order)."""
    with uow_factory(readonly=True) as uow:
        fo = uow.fulfilment.get(tenant_id, fo_id)
        if fo is None:
            raise NotFound(f"No fulfilment order {fo_id}")
        products = uow.products.by_skus(tenant_id, {line.sku for line in fo.lines})
        location = uow.locations.get(fo.location_id)
        packages = uow.fulfilment.packages_of(tenant_id, fo_id)
    barcodes = {p.barcode: sku for sku, p in products.items() if p.barcode}
    expected = fo.units_by_sku("to_pack")
    return PackStation(
        fulfillment_order=fo,
        results=check_scans(expected=expected, scans=scans, barcodes=barcodes),
        to_pack=expected,
        names={sku: p.name for sku, p in products.items()},
        boxes=location.boxes if location else (),
        packages=packages,
    )


def record_refused_scan(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    fo_id: UUID,
    code: str,
    reason: str,
    actor: Actor,
    at: datetime | None = None,
) -> None:
    """Put a scan the pack station refused in the order's timeline
    (``fulfillment_order.scan_refused``: the code and why), so wrong items at the bench are
    on record with who scanned them. Nothing else changes."""
    when = at or utcnow()

    def attempt() -> None:
        with uow_factory() as uow:
            located = lock_fulfillment_order(uow, tenant_id, fo_id)
            order, fo = located.order, located.fo
            with order.change("fulfillment_order.scan_refused", actor=actor, at=when) as data:
                data.update(describe(fo))
                data.update(code=code[:200], reason=reason[:500])
            save_order_changes(uow, order, at=when, fulfilment=located.fulfilment)
            uow.commit()

    retry_transient(attempt)


def pack(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    fo_id: UUID,
    request: PackRequest,
    actor: Actor,
    at: datetime | None = None,
) -> PackResult:
    """Pack the scanned items of a fulfilment order into one package (422 for a wrong or
    surplus scan, nothing written)."""
    when = at or utcnow()

    def attempt() -> PackResult:
        with uow_factory() as uow:
            located = lock_fulfillment_order(uow, tenant_id, fo_id)
            order, fo = located.order, located.fo
            fo.ensure_workable("pack")
            if fo.kind is not FulfillmentKind.SHIP:
                raise IllegalTransition(
                    "A store pickup is handed over at the counter, not packed",
                    fulfillment_order_id=str(fo.id),
                )
            skus = {line.sku for line in fo.lines}
            products = uow.products.by_skus(tenant_id, skus)
            barcodes = {p.barcode: sku for sku, p in products.items() if p.barcode}
            counts = verify_scans(
                expected=fo.units_by_sku("to_pack"), scans=request.scans, barcodes=barcodes
            )
            items = [
                PackItem(
                    sku=sku,
                    quantity=units,
                    weight_grams=products[sku].weight_grams,
                    length_mm=products[sku].length_mm,
                    width_mm=products[sku].width_mm,
                    height_mm=products[sku].height_mm,
                )
                for sku, units in counts.items()
            ]
            location = uow.locations.get(fo.location_id)
            box = _box(location.boxes if location else (), request, items)
            weight = request.weight_grams or (
                package_weight(box, items)
                if box is not None
                else sum(item.weight_grams * item.quantity for item in items)
            )
            taken = fo.pack(counts)
            package = Package(
                id=new_id(),
                fulfillment_order_id=fo.id,
                weight_grams=max(weight, 1),
                contents=[
                    PackageItem(line.seq, line.line_no, line.sku, units) for line, units in taken
                ],
                created_by=str(actor),
                created_at=when,
                box=None if box is None else box.code,
                length_mm=box.length_mm if box else request.length_mm,
                width_mm=box.width_mm if box else request.width_mm,
                height_mm=box.height_mm if box else request.height_mm,
            )
            uow.fulfilment.add_package(tenant_id, package)
            with order.change("fulfillment_order.packed", actor=actor, at=when) as data:
                data.update(describe(fo))
                data.update(
                    package_id=str(package.id),
                    box=package.box,
                    weight_grams=package.weight_grams,
                    items=dict(counts),
                )
            fo.updated_at = when
            save_order_changes(uow, order, at=when, fulfilment=located.fulfilment)
            uow.commit()
            return PackResult(fo, package)

    return retry_transient(attempt)


def unpack(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    fo_id: UUID,
    package_id: UUID,
    actor: Actor,
    at: datetime | None = None,
) -> FulfillmentOrder:
    """Take a package that has not shipped apart: its units are to be packed again (404 for
    a package not of this fulfilment order, 409 once it has shipped)."""
    when = at or utcnow()

    def attempt() -> FulfillmentOrder:
        with uow_factory() as uow:
            located = lock_fulfillment_order(uow, tenant_id, fo_id)
            order, fo = located.order, located.fo
            package = next(
                (p for p in uow.fulfilment.packages_of(tenant_id, fo.id) if p.id == package_id),
                None,
            )
            if package is None:
                raise NotFound(f"No package {package_id} in fulfilment order {fo_id}")
            if package.shipment_id is not None:
                raise IllegalTransition(
                    "This package has shipped", shipment_id=str(package.shipment_id)
                )
            fo.unpack((item.seq, item.quantity) for item in package.contents)
            if not uow.fulfilment.remove_package(tenant_id, package.id):
                raise TransientStorageError("the package changed while it was unpacked")
            with order.change("fulfillment_order.unpacked", actor=actor, at=when) as data:
                data.update(describe(fo))
                data.update(
                    package_id=str(package.id),
                    items={item.sku: item.quantity for item in package.contents},
                )
            fo.updated_at = when
            save_order_changes(uow, order, at=when, fulfilment=located.fulfilment)
            uow.commit()
            return fo

    return retry_transient(attempt)
