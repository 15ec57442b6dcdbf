"""Cycle counts: a count sheet by SKU or by bin at a location, counted (blind: the sheet
shows no figures until every line is counted), reviewed for variance and approved, which
posts each difference as a ``count`` movement with the approval's reason, in one
transaction. docs/inbound.md#cycle-counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from oms.domain.counts import CountLine, CountSheet, CountStatus, count_status
from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.domain.orders import Actor
from oms.services.common import utcnow
from oms.services.inventory import _location_by_code
from oms.services.payments import GatewayProvider
from oms.services.ports import OutboxMessage, UnitOfWork, UnitOfWorkFactory
from oms.services.purchasing import ensure_may_receive
from oms.services.receiving import count_into_stock
from oms.services.rerouting import allocate_backorders
from oms.services.routing import Geocoder

__all__ = [
    "ReviewLine",
    "approve_count",
    "create_count",
    "list_counts",
    "record_counts",
    "review_count",
]


@dataclass(frozen=True)
class ReviewLine:
    """One line as reviewed: on hand now, counted, and the variance (None while unknown,
    or while a blind sheet is still being counted)."""

    sku: str
    bin: str | None
    on_hand: int | None
    counted: int | None
    variance: int | None


def create_count(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    location: str,
    skus: Sequence[str] = (),
    bins: Sequence[str] = (),
    blind: bool = True,
    actor: Actor,
    operator: bool,
    at: datetime | None = None,
) -> CountSheet:
    """A count sheet for ``skus``, or for the SKUs the tenant keeps in ``bins``, or (neither)
    for every SKU with stock recorded at the location."""
    at = at or utcnow()
    with uow_factory() as uow:
        where = _location_by_code(uow, tenant_id, location)
        ensure_may_receive(where, operator=operator)
        bin_of = uow.fulfilment.all_bins(tenant_id, where.id)
        if skus:
            products = uow.products.by_skus(tenant_id, skus)
            problems = [
                FieldError(f"#/skus/{n}", f"no stocked product {sku!r}")
                for n, sku in enumerate(skus)
                if sku not in products or not products[sku].holds_stock
            ]
            if problems:
                raise InvalidRequest("Unknown SKUs", problems)
            wanted = sorted(set(skus))
        elif bins:
            wanted = sorted(sku for sku, b in bin_of.items() if b in set(bins))
        else:
            wanted = sorted(
                lv.sku
                for lv in uow.inventory.levels(tenant_id, bin_of.keys() | _stocked(uow, tenant_id))
                if lv.location_id == where.id
            )
        if not wanted:
            raise InvalidRequest(
                "Nothing to count", [FieldError("#/skus", "no SKU matches at this location")]
            )
        sheet = CountSheet(
            id=new_id(),
            tenant_id=tenant_id,
            location_id=where.id,
            location_code=where.code,
            blind=blind,
            lines=[CountLine(sku=sku, bin=bin_of.get(sku)) for sku in wanted],
            created_at=at,
            created_by=str(actor),
        )
        uow.inbound.add_count_sheet(sheet)
        uow.commit()
    return sheet


def _stocked(uow: UnitOfWork, tenant_id: UUID) -> set[str]:
    """The tenant's SKUs, a page at a time (counting a whole location is rare)."""
    found: set[str] = set()
    after: str | None = None
    while True:
        page = uow.products.page(tenant_id, after_sku=after, limit=500)
        found |= {p.sku for p in page if p.holds_stock}
        if len(page) < 500:
            return found
        after = page[-1].sku


def _sheet(uow: UnitOfWork, tenant_id: UUID, sheet_id: UUID, *, lock: bool) -> CountSheet:
    sheet = uow.inbound.count_sheet(tenant_id, sheet_id, for_update=lock)
    if sheet is None:
        raise NotFound("No such count sheet")
    return sheet


def record_counts(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    sheet_id: UUID,
    counts: Sequence[tuple[str, int]],
    operator: bool,
) -> CountSheet:
    """Write counted figures (a recount replaces the earlier figure) until approved."""
    with uow_factory() as uow:
        sheet = _sheet(uow, tenant_id, sheet_id, lock=True)
        location = uow.locations.get(sheet.location_id)
        assert location is not None
        ensure_may_receive(location, operator=operator)
        if sheet.status is CountStatus.APPROVED:
            raise IllegalTransition("This count is approved")
        problems = [
            FieldError(f"#/lines/{n}/sku", f"{sku!r} is not on this sheet")
            for n, (sku, _) in enumerate(counts)
            if sheet.line_for(sku) is None
        ]
        if problems:
            raise InvalidRequest("Unknown lines", problems)
        for sku, counted in counts:
            line = sheet.line_for(sku)
            assert line is not None
            line.counted = counted
        sheet.status = count_status(sheet)
        uow.inbound.save_count_sheet(sheet)
        uow.commit()
    return sheet


def review_count(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, sheet_id: UUID
) -> tuple[CountSheet, list[ReviewLine]]:
    """The sheet and its variance per line; a blind sheet shows no on-hand figure until
    every line is counted."""
    with uow_factory(readonly=True) as uow:
        sheet = _sheet(uow, tenant_id, sheet_id, lock=False)
        levels = {
            lv.sku: lv.on_hand
            for lv in uow.inventory.levels(
                tenant_id, [line.sku for line in sheet.lines], [sheet.location_id]
            )
        }
    hidden = sheet.blind and sheet.status is CountStatus.OPEN
    lines = []
    for line in sheet.lines:
        on_hand = None if hidden else levels.get(line.sku, 0)
        variance = None if on_hand is None or line.counted is None else line.counted - on_hand
        lines.append(ReviewLine(line.sku, line.bin, on_hand, line.counted, variance))
    return sheet, lines


def approve_count(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    sheet_id: UUID,
    reason: str,
    actor: Actor,
    operator: bool,
    at: datetime | None = None,
    geocoder: Geocoder | None = None,
    gateways: GatewayProvider | None = None,
) -> CountSheet:
    """Post every line's difference from on hand as a ``count`` movement with ``reason``,
    all or none (a count below what is reserved refuses the whole approval, 409)."""
    at = at or utcnow()
    with uow_factory() as uow:
        sheet = _sheet(uow, tenant_id, sheet_id, lock=True)
        location = uow.locations.get(sheet.location_id)
        assert location is not None
        ensure_may_receive(location, operator=operator)
        if sheet.status is not CountStatus.COUNTED:
            raise IllegalTransition(
                "Only a fully counted sheet is approved"
                if sheet.status is CountStatus.OPEN
                else "This count is approved already"
            )
        raised = []
        posted: list[dict[str, object]] = []
        for line in sheet.lines:  # SKU order, as every stock writer
            assert line.counted is not None
            change = count_into_stock(
                uow,
                tenant_id,
                sku=line.sku,
                location_id=sheet.location_id,
                counted=line.counted,
                reason=f"cycle count: {reason}",
                reference=str(sheet.id),
                actor=str(actor),
                at=at,
            )
            if change > 0:
                raised.append(line.sku)
            posted.append(
                {"sku": line.sku, "bin": line.bin, "counted": line.counted, "change": change}
            )
        sheet.approved_at, sheet.approved_by, sheet.reason = at, str(actor), reason
        sheet.status = count_status(sheet)
        uow.inbound.save_count_sheet(sheet)
        uow.outbox.add_many(
            tenant_id,
            [
                OutboxMessage(
                    topic="cycle_count.approved",
                    aggregate_id=sheet.id,
                    payload={
                        "cycle_count_id": str(sheet.id),
                        "location": sheet.location_code,
                        "status": sheet.status.value,
                        "reason": reason,
                        "lines": posted,
                    },
                    created_at=at,
                )
            ],
        )
        uow.commit()
    if raised:
        allocate_backorders(
            uow_factory=uow_factory,
            tenant_id=tenant_id,
            skus=raised,
            geocoder=geocoder,
            gateways=gateways,
            at=at,
        )
    return sheet


def list_counts(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    before_id: UUID | None = None,
    limit: int = 100,
) -> list[CountSheet]:
    """A page of count sheets, newest first: the tenant's, or (None, the operator)
    everyone's; those older than ``before_id`` when given."""
    with uow_factory(readonly=True) as uow:
        return uow.inbound.count_sheets(tenant_id, before_id=before_id, limit=limit)
