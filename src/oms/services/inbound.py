"""Inbound shipments (ASNs): a merchant announces, the warehouse receives by scanning,
puts away to bins and closes with a variance per line. docs/inbound.md draws the flow.

Every count of a shipment happens under its row lock (``uow.inbound.shipment(...,
for_update=True)``) and a scan id is counted once, so two receivers scanning one shipment
never count a carton twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from oms.domain.catalogue import Location
from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.domain.inbound import (
    CartonVariance,
    Condition,
    InboundLine,
    InboundShipment,
    InboundStatus,
    VarianceLine,
    carton_report,
    classify_scan,
    suggest_bin,
    variance_report,
)
from oms.domain.inventory import MovementKind
from oms.domain.orders import Actor
from oms.services.common import utcnow
from oms.services.inventory import _location_by_code
from oms.services.payments import GatewayProvider
from oms.services.ports import OutboxMessage, UnitOfWork, UnitOfWorkFactory
from oms.services.purchasing import ensure_may_receive
from oms.services.receiving import receive_units_into_stock
from oms.services.rerouting import allocate_backorders, backorders_wait_for
from oms.services.routing import Geocoder

__all__ = [
    "Closed",
    "PutawayLine",
    "ReceivedScan",
    "ScanLine",
    "ShipmentAnnouncement",
    "announce_shipment",
    "carton_lines",
    "cartons_of",
    "close_shipment",
    "get_shipment",
    "list_shipments",
    "put_away",
    "receive_scan",
    "suggested_bins",
    "tenant_for_shipment",
]


@dataclass(frozen=True)
class ShipmentAnnouncement:
    location: str
    reference: str
    lines: Sequence[tuple[str, int]]  # (sku, expected quantity)
    tracking: str | None = None
    # (code, [(sku, expected quantity)]): the lines are their sums when left out
    cartons: Sequence[tuple[str, Sequence[tuple[str, int]]]] = ()


@dataclass(frozen=True)
class ScanLine:
    sku: str
    quantity: int
    condition: Condition = Condition.GOOD
    reason: str | None = None


@dataclass(frozen=True)
class PutawayLine:
    sku: str
    quantity: int
    bin: str | None = None


@dataclass(frozen=True)
class ReceivedScan:
    scan_id: str
    counted: bool  # False: the scan id was counted before
    shipment: InboundShipment


@dataclass(frozen=True)
class Closed:
    shipment: InboundShipment
    report: list[VarianceLine]
    cartons: list[CartonVariance] = field(default_factory=list)


def carton_lines(
    cartons: Sequence[tuple[str, Sequence[tuple[str, int]]]],
) -> list[tuple[str, int]]:
    """The shipment's lines the cartons add up to, in SKU order."""
    totals: dict[str, int] = {}
    for _, contents in cartons:
        for sku, units in contents:
            totals[sku] = totals.get(sku, 0) + units
    return sorted(totals.items())


def _check_cartons(command: ShipmentAnnouncement) -> list[tuple[str, int]]:
    """The lines of an announcement (its cartons' sums when it names no lines); 422 when
    a carton repeats a code or a SKU, or the lines and the cartons disagree."""
    problems = []
    codes: set[str] = set()
    for n, (code, contents) in enumerate(command.cartons):
        if code in codes:
            problems.append(FieldError(f"#/cartons/{n}/code", "each carton code once"))
        codes.add(code)
        if len({sku for sku, _ in contents}) != len(contents):
            problems.append(FieldError(f"#/cartons/{n}/lines", "each SKU once per carton"))
    summed = carton_lines(command.cartons)
    if command.cartons and command.lines and sorted(command.lines) != summed:
        problems.append(FieldError("#/cartons", "the cartons do not add up to the lines"))
    if problems:
        raise InvalidRequest("The shipment's cartons are not valid", problems)
    return list(command.lines) or summed


def _event(topic: str, shipment: InboundShipment, at: datetime, **extra: object) -> OutboxMessage:
    return OutboxMessage(
        topic=topic,
        aggregate_id=shipment.id,
        payload={
            "inbound_shipment_id": str(shipment.id),
            "reference": shipment.reference,
            "location": shipment.location_code,
            "status": shipment.status.value,
            **extra,
        },
        created_at=at,
    )


def announce_shipment(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    command: ShipmentAnnouncement,
    actor: Actor,
    at: datetime | None = None,
) -> InboundShipment:
    """Announce stock on its way to a location the tenant may use (its own or granted)."""
    at = at or utcnow()
    lines = _check_cartons(command)
    with uow_factory() as uow:
        location = _location_by_code(uow, tenant_id, command.location)
        products = uow.products.by_skus(tenant_id, [sku for sku, _ in lines])
        problems = []
        seen: set[str] = set()
        for n, (sku, _) in enumerate(lines):
            product = products.get(sku)
            if product is None or not product.holds_stock:
                problems.append(FieldError(f"#/lines/{n}/sku", f"no stocked product {sku!r}"))
            if sku in seen:
                problems.append(FieldError(f"#/lines/{n}/sku", "each SKU once per shipment"))
            seen.add(sku)
        if problems:
            raise InvalidRequest("The shipment's lines are not valid", problems)
        shipment = InboundShipment(
            id=new_id(),
            tenant_id=tenant_id,
            location_id=location.id,
            location_code=location.code,
            reference=command.reference,
            lines=[InboundLine(sku=sku, expected=q) for sku, q in lines],
            created_at=at,
            created_by=str(actor),
            tracking=command.tracking,
        )
        uow.inbound.add_shipment(shipment)
        uow.inbound.add_cartons(tenant_id, shipment.id, command.cartons)
        uow.outbox.add_many(
            tenant_id,
            [
                _event(
                    "inbound_shipment.announced",
                    shipment,
                    at,
                    lines=[{"sku": sku, "expected_quantity": q} for sku, q in lines],
                )
            ],
        )
        uow.commit()
    return shipment


def _open_for_work(
    uow: UnitOfWork, tenant_id: UUID, shipment_id: UUID, *, operator: bool
) -> tuple[InboundShipment, Location]:
    shipment = uow.inbound.shipment(tenant_id, shipment_id, for_update=True)
    if shipment is None:
        raise NotFound("No such inbound shipment")
    location = uow.locations.get(shipment.location_id)
    assert location is not None
    ensure_may_receive(location, operator=operator)
    if shipment.status is InboundStatus.CLOSED:
        raise IllegalTransition("This inbound shipment is closed")
    return shipment, location


def _open_for_scan(
    uow: UnitOfWork, tenant_id: UUID | None, shipment_id: UUID, *, operator: bool
) -> InboundShipment:
    if tenant_id is None and not operator:
        raise NotFound("No such inbound shipment")
    shipment = uow.inbound.shipment_for_scan(tenant_id, shipment_id)
    if shipment is None:
        raise NotFound("No such inbound shipment")
    if not operator:  # the operator receives anywhere: no need to read the location
        location = uow.locations.get(shipment.location_id)
        assert location is not None
        ensure_may_receive(location, operator=operator)
    if shipment.status is InboundStatus.CLOSED:
        raise IllegalTransition("This inbound shipment is closed")
    return shipment


def receive_scan(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    shipment_id: UUID,
    lines: Sequence[ScanLine],
    actor: Actor,
    operator: bool,
    scan_id: str | None = None,
    carton: str | None = None,
    at: datetime | None = None,
    geocoder: Geocoder | None = None,
    gateways: GatewayProvider | None = None,
) -> ReceivedScan:
    """Count scanned units against the shipment: good ones go on hand (``receipt``), damaged
    ones are recorded and kept off it; over, damaged and unexpected are recorded with a
    reason. A ``scan_id`` seen before counts nothing. Backorders are routed after.

    ``tenant_id`` None (``operator`` only): the shipment's own tenant, found as its row is
    locked, in the scan's transaction."""
    at = at or utcnow()
    with uow_factory() as uow:
        shipment = _open_for_scan(uow, tenant_id, shipment_id, operator=operator)
        tenant_id = shipment.tenant_id
        if carton is not None and not lines:
            # A carton code alone receives what the carton was announced to hold, once.
            contents = uow.inbound.cartons(tenant_id, shipment_id).get(carton)
            if contents is None:
                raise InvalidRequest(
                    "No such carton", [FieldError("#/carton", f"{carton!r} is not announced")]
                )
            lines = [ScanLine(sku, units) for sku, units in sorted(contents.items())]
            scan_id = scan_id or f"carton:{carton}"
        scan_id = scan_id or str(new_id())
        if not uow.inbound.claim_scan(tenant_id, shipment_id, scan_id, actor=str(actor), at=at):
            return ReceivedScan(scan_id=scan_id, counted=False, shipment=shipment)
        unknown = {ln.sku for ln in lines if shipment.line_for(ln.sku) is None}
        products = uow.products.by_skus(tenant_id, unknown) if unknown else {}
        problems = [
            FieldError(f"#/lines/{n}/sku", f"no stocked product {ln.sku!r}")
            for n, ln in enumerate(lines)
            if ln.sku in unknown
            and (products.get(ln.sku) is None or not products[ln.sku].holds_stock)
        ]
        if problems:
            raise InvalidRequest("Unknown SKUs", problems)
        if shipment.status is InboundStatus.ANNOUNCED:
            # Before any line is locked: scans waiting here hold no line yet.
            shipment.status = InboundStatus.RECEIVING
            uow.inbound.save_shipment(shipment, new_lines=[])
        totals: dict[str, tuple[int, int]] = {}
        for scan in lines:
            so_far_good, so_far_damaged = totals.get(scan.sku, (0, 0))
            if scan.condition is Condition.GOOD:
                totals[scan.sku] = (so_far_good + scan.quantity, so_far_damaged)
            else:
                totals[scan.sku] = (so_far_good, so_far_damaged + scan.quantity)
        # Each line's count under its own row's lock, read back as it is now (another
        # receiver's scan of the same shipment may have counted since it was read above).
        counted = uow.inbound.count_lines(tenant_id, shipment_id, totals)
        for sku, (expected, good_now, damaged_now) in counted.items():
            line = shipment.line_for(sku)
            if line is None:
                line = InboundLine(sku=sku, expected=expected)
                shipment.lines.append(line)
            line.received_good = good_now - totals[sku][0]  # as it was before this scan
            line.received_damaged = damaged_now - totals[sku][1]
        shipment.lines.sort(key=lambda ln: ln.sku)
        rows: list[dict[str, Any]] = []
        good: dict[str, int] = {}
        for scan in lines:
            line = shipment.line_for(scan.sku)
            assert line is not None
            outcome = classify_scan(
                None if scan.sku in unknown else line,
                sku=scan.sku,
                quantity=scan.quantity,
                condition=scan.condition,
                reason=scan.reason,
            )
            unknown.discard(scan.sku)  # a second line of it in this scan is over, not new
            line.received_good += outcome.good
            line.received_damaged += outcome.damaged
            good[scan.sku] = good.get(scan.sku, 0) + outcome.good
            rows.append(
                {
                    "sku": scan.sku,
                    "quantity": scan.quantity,
                    "condition": scan.condition.value,
                    "exceptions": [list(e) for e in outcome.exceptions],
                    "carton": carton,
                }
            )
        receive_units_into_stock(
            uow,
            tenant_id,
            location_id=shipment.location_id,
            units=good,
            reason=f"inbound shipment {shipment.reference}",
            reference=str(shipment.id),
            actor=str(actor),
            at=at,
        )
        uow.inbound.add_scan_lines(tenant_id, shipment_id, scan_id, rows, actor=str(actor), at=at)
        # The answer carries this scan's exceptions (GET the shipment for all of them): a
        # scan's cost must not grow with the shipment's history.
        shipment.exceptions = [
            {"sku": row["sku"], "kind": kind, "reason": reason, "scan_id": scan_id}
            for row in rows
            for kind, reason in row["exceptions"]
        ]
        uow.outbox.add_many(
            tenant_id,
            [
                _event(
                    "inbound_shipment.received",
                    shipment,
                    at,
                    scan_id=scan_id,
                    lines=[
                        {
                            **{k: v for k, v in row.items() if k != "carton"},
                            "exceptions": [
                                {"kind": kind, "reason": reason}
                                for kind, reason in row["exceptions"]
                            ],
                        }
                        for row in rows
                    ],
                )
            ],
        )
        # Asked after the levels are raised, under their locks: most scans bring SKUs no
        # order waits for, and skip the backorders' transaction.
        arrived = sorted(sku for sku, units in good.items() if units)
        waited_for = backorders_wait_for(uow, tenant_id, arrived)
        uow.commit()
    if waited_for:
        allocate_backorders(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            skus=arrived,
            geocoder=geocoder,
            gateways=gateways,
            at=at,
        )
    return ReceivedScan(scan_id=scan_id, counted=True, shipment=shipment)


def _suggest(
    uow: UnitOfWork, shipment: InboundShipment, skus: Sequence[str]
) -> dict[str, str | None]:
    current = uow.fulfilment.bins(shipment.tenant_id, shipment.location_id, skus)
    known, occupied = uow.inbound.location_bins(shipment.location_id)
    return {
        sku: suggest_bin(current=current.get(sku), known=known, occupied=occupied) for sku in skus
    }


def suggested_bins(uow: UnitOfWork, shipment: InboundShipment) -> dict[str, str | None]:
    """Where each line's SKU would be put away now (None: no bin is free; name one)."""
    return _suggest(uow, shipment, [line.sku for line in shipment.lines])


def put_away(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    shipment_id: UUID,
    lines: Sequence[PutawayLine],
    actor: Actor,
    operator: bool,
    at: datetime | None = None,
) -> InboundShipment:
    """Move received good units into bins: a ``putaway`` movement each (on hand unchanged);
    a SKU without a bin at the location gets the one it is put into."""
    at = at or utcnow()
    with uow_factory() as uow:
        shipment, _ = _open_for_work(uow, tenant_id, shipment_id, operator=operator)
        for n, item in enumerate(lines):
            line = shipment.line_for(item.sku)
            if line is None:
                raise InvalidRequest(
                    "Not on this shipment",
                    [FieldError(f"#/lines/{n}/sku", f"{item.sku!r} was not received here")],
                )
            waiting = line.received_good - line.put_away
            if item.quantity > waiting:
                raise InvalidRequest(
                    "More than is waiting to be put away",
                    [FieldError(f"#/lines/{n}/quantity", f"{waiting} received units wait")],
                )
            bin_code = item.bin or _suggest(uow, shipment, [item.sku])[item.sku]
            if bin_code is None:
                raise InvalidRequest(
                    "No bin to suggest",
                    [FieldError(f"#/lines/{n}/bin", "no free bin is known here: name one")],
                )
            if not uow.fulfilment.bins(tenant_id, shipment.location_id, [item.sku]):
                uow.fulfilment.set_bins(tenant_id, shipment.location_id, {item.sku: bin_code})
            line.put_away += item.quantity
            uow.inbound.add_putaway(
                tenant_id,
                shipment_id=shipment_id,
                sku=item.sku,
                bin_code=bin_code,
                quantity=item.quantity,
                actor=str(actor),
                at=at,
            )
            (level,) = uow.inventory.levels(tenant_id, [item.sku], [shipment.location_id])
            uow.inventory.add_movement(
                tenant_id,
                sku=item.sku,
                location_id=shipment.location_id,
                kind=MovementKind.PUTAWAY,
                quantity=0,
                on_hand_after=level.on_hand,
                reason=f"{item.quantity} units to bin {bin_code}",
                reference=str(shipment.id),
                actor=str(actor),
                at=at,
            )
        uow.inbound.save_shipment(shipment, new_lines=[], changed=[i.sku for i in lines])
        uow.outbox.add_many(
            tenant_id,
            [
                _event(
                    "inbound_shipment.put_away",
                    shipment,
                    at,
                    lines=[{"sku": i.sku, "quantity": i.quantity} for i in lines],
                )
            ],
        )
        shipment.exceptions = uow.inbound.exceptions(tenant_id, shipment_id)
        uow.commit()
    return shipment


def close_shipment(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    shipment_id: UUID,
    actor: Actor,
    operator: bool,
    at: datetime | None = None,
) -> Closed:
    """Close the shipment: nothing more is counted; each line's variance is answered and
    a short line is recorded as an exception."""
    at = at or utcnow()
    with uow_factory() as uow:
        shipment, _ = _open_for_work(uow, tenant_id, shipment_id, operator=operator)
        shipment.status = InboundStatus.CLOSED
        shipment.closed_at = at
        report = variance_report(shipment.lines)
        shorts = [
            {
                "sku": v.sku,
                "quantity": 0,
                "condition": Condition.GOOD.value,
                "exceptions": [["short", f"{-v.variance} fewer than announced"]],
            }
            for v in report
            if v.verdict == "short"
        ]
        if shorts:
            uow.inbound.claim_scan(tenant_id, shipment_id, "close", actor=str(actor), at=at)
            uow.inbound.add_scan_lines(
                tenant_id, shipment_id, "close", shorts, actor=str(actor), at=at
            )
        uow.inbound.save_shipment(shipment, new_lines=[])
        shipment.exceptions = uow.inbound.exceptions(tenant_id, shipment_id)
        cartons = _carton_report(uow, tenant_id, shipment_id)
        uow.outbox.add_many(
            tenant_id,
            [
                _event(
                    "inbound_shipment.closed",
                    shipment,
                    at,
                    lines=[
                        {
                            "sku": v.sku,
                            "expected": v.expected,
                            "received": v.received,
                            "damaged": v.damaged,
                            "variance": v.variance,
                            "verdict": v.verdict,
                        }
                        for v in report
                    ],
                    cartons=[_carton_data(c) for c in cartons],
                )
            ],
        )
        uow.commit()
    return Closed(shipment=shipment, report=report, cartons=cartons)


def _carton_data(carton: CartonVariance) -> dict[str, object]:
    """A carton's variance as the closed event carries it (as the close's answer does)."""
    return {
        "code": carton.code,
        "expected": carton.expected,
        "received": carton.received,
        "variance": carton.received - carton.expected,
        "verdict": carton.verdict,
        "lines": [
            {"sku": sku, "expected": e, "received": r, "variance": r - e}
            for sku, e, r in carton.lines
        ],
    }


def _carton_report(uow: UnitOfWork, tenant_id: UUID, shipment_id: UUID) -> list[CartonVariance]:
    return carton_report(
        uow.inbound.cartons(tenant_id, shipment_id),
        uow.inbound.carton_received(tenant_id, shipment_id),
    )


def cartons_of(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, shipment_id: UUID
) -> tuple[dict[str, dict[str, int]], list[CartonVariance]]:
    """The shipment's announced cartons (code -> {sku: expected}) and each one's variance
    so far."""
    with uow_factory(readonly=True) as uow:
        return uow.inbound.cartons(tenant_id, shipment_id), _carton_report(
            uow, tenant_id, shipment_id
        )


def get_shipment(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, shipment_id: UUID
) -> tuple[InboundShipment, dict[str, str | None]]:
    """The shipment with its exceptions and each line's suggested bin."""
    with uow_factory(readonly=True) as uow:
        shipment = uow.inbound.shipment(tenant_id, shipment_id)
        if shipment is None:
            raise NotFound("No such inbound shipment")
        shipment.exceptions = uow.inbound.exceptions(tenant_id, shipment_id)
        return shipment, suggested_bins(uow, shipment)


def tenant_for_shipment(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID | None, shipment_id: UUID
) -> UUID:
    """The tenant a request acts on for a shipment: the caller's, or for the operator
    without one named, the shipment's own (404 when there is none)."""
    if tenant_id is not None:
        return tenant_id
    with uow_factory(readonly=True) as uow:
        found = uow.inbound.shipment_tenant(shipment_id)
    if found is None:
        raise NotFound("No such inbound shipment")
    return found


def list_shipments(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID | None, after_id: UUID | None, limit: int
) -> list[InboundShipment]:
    """A page of inbound shipments by id: one tenant's, or (None, the operator) everyone's."""
    with uow_factory(readonly=True) as uow:
        return uow.inbound.shipments(tenant_id, after_id=after_id, limit=limit)
