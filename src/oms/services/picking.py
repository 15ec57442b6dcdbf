"""Pick waves: batch a location's open fulfilment orders, list the picks by bin, confirm.

A wave takes the most urgent open fulfilment orders of one location (carrier cut-off, then
promised ship date, then priority, then age; ``oms.domain.picking.select_wave``). Its pick
list sums the units per bin and SKU in walking order. Confirming the picks records short
picks: the missing units are written off at the location (an ``adjustment`` in the ledger
with the reason) and routed again, to another location or onto backorder. A store pickup
whose units are all picked becomes ready for pickup with a one-time code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest, NotFound
from oms.domain.fulfilment import FulfillmentKind, FulfillmentOrder, FulfillmentOrderStatus
from oms.domain.ids import new_id
from oms.domain.inventory import MovementKind
from oms.domain.orders import Actor
from oms.domain.picking import (
    PickListEntry,
    PickTask,
    PickWave,
    WaveCandidate,
    WaveStatus,
    pick_list,
    select_wave,
)
from oms.domain.pickup_codes import PickupCodeKey
from oms.services.common import retry_transient, utcnow
from oms.services.fulfilment import describe
from oms.services.persistence import save_order_changes, settle_order
from oms.services.pickup import ready_for_pickup
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.routing import Geocoder
from oms.services.routing_network import cutoff_of
from oms.services.warehouse import (
    give_back,
    location_by_code,
    lock_fulfillment_order,
    take_off_shelf,
)

__all__ = [
    "PickConfirmation",
    "PickListView",
    "WaveResult",
    "confirm_picks",
    "create_wave",
    "list_waves",
    "wave_pick_list",
]

MAX_WAVE_ORDERS = 500
# Candidates read per wave, as a multiple of its size: they come sorted nearly as the wave
# wants them, the rest is the unit limit and the cut-off of pickups (none) to sort out.
CANDIDATES_PER_SLOT = 4


@dataclass(frozen=True)
class PickConfirmation:
    """What the picker found for one SKU of one fulfilment order (``picked`` units)."""

    fulfillment_order_id: UUID
    sku: str
    picked: int


@dataclass
class WaveResult:
    wave: PickWave
    fulfillment_orders: list[FulfillmentOrder]
    shorts: list[dict[str, object]] = field(default_factory=list)
    pickup_codes: dict[UUID, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PickListView:
    wave: PickWave
    location_code: str
    location_name: str
    entries: list[PickListEntry]
    names: dict[str, str]
    order_numbers: dict[UUID, int]
    merchant_name: str | None = None
    # Each order's share of the list (what a picker reports short against), in bin order.
    picks: list[PickTask] = field(default_factory=list)


def create_wave(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    location_code: str,
    max_orders: int,
    max_units: int | None,
    actor: Actor,
    at: datetime | None = None,
) -> WaveResult:
    """Batch the location's most urgent open fulfilment orders into a new wave (409 when
    there is nothing to pick)."""
    when = at or utcnow()
    if not 1 <= max_orders <= MAX_WAVE_ORDERS:
        raise InvalidRequest(
            "Wave size out of range", [FieldError("#/max_orders", f"1 to {MAX_WAVE_ORDERS}")]
        )

    def attempt() -> WaveResult:
        with uow_factory() as uow:
            location = location_by_code(uow, tenant_id, location_code)
            waiting = uow.fulfilment.waiting_for_wave(
                tenant_id, location.id, limit=max(CANDIDATES_PER_SLOT * max_orders, 200)
            )
            cutoff = cutoff_of(location)
            candidates = [
                WaveCandidate(
                    fulfillment_order_id=fo.id,
                    cutoff_at=None
                    if fo.promised_ship_by is None or fo.kind is FulfillmentKind.PICKUP
                    else datetime.combine(fo.promised_ship_by, cutoff, tzinfo=UTC),
                    promised_ship_by=fo.promised_ship_by,
                    priority=fo.priority,
                    created_at=fo.created_at,
                    units=sum(line.to_pick for line in fo.lines),
                )
                for fo in waiting
            ]
            if not candidates:
                raise IllegalTransition(
                    f"No open fulfilment orders to pick at {location.code}",
                    location=location.code,
                )
            chosen = {
                c.fulfillment_order_id
                for c in select_wave(candidates, max_orders=max_orders, max_units=max_units)
            }
            wave = PickWave(
                id=new_id(),
                tenant_id=tenant_id,
                location_id=location.id,
                fulfillment_order_ids=sorted(chosen),
                created_by=str(actor),
                created_at=when,
            )
            uow.fulfilment.add_wave(wave)
            taken = [fo for fo in waiting if fo.id in chosen]
            for fo in taken:
                fo.wave_id = wave.id
                fo.refresh_status()
                fo.updated_at = when
                uow.fulfilment.save(fo)
            uow.commit()
            return WaveResult(wave, taken)

    return retry_transient(attempt)


def list_waves(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    location_code: str | None,
    status: WaveStatus | None,
    before_id: UUID | None,
    limit: int,
) -> list[tuple[PickWave, str | None]]:
    """The tenant's pick waves (at one location, open or completed), newest first, each
    with its location's code."""
    with uow_factory(readonly=True) as uow:
        location = (
            None if location_code is None else location_by_code(uow, tenant_id, location_code)
        )
        found = uow.fulfilment.waves(
            tenant_id,
            location_id=None if location is None else location.id,
            status=None if status is None else status.value,
            before_id=before_id,
            limit=limit,
        )
        codes = {loc.id: loc.code for loc in uow.locations.visible_to(tenant_id)}
    return [(wave, codes.get(wave.location_id)) for wave in found]


def _wave(uow: UnitOfWork, tenant_id: UUID, wave_id: UUID, *, lock: bool = False) -> PickWave:
    wave = uow.fulfilment.get_wave(tenant_id, wave_id, for_update=lock)
    if wave is None:
        raise NotFound(f"No pick wave {wave_id}")
    return wave


def wave_pick_list(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, wave_id: UUID
) -> PickListView:
    """The wave's picks still to make, summed per bin and SKU in walking order."""
    with uow_factory(readonly=True) as uow:
        wave = _wave(uow, tenant_id, wave_id)
        fos = uow.fulfilment.many(tenant_id, wave.fulfillment_order_ids)
        skus = {line.sku for fo in fos for line in fo.lines}
        bins = uow.fulfilment.bins(tenant_id, wave.location_id, skus)
        products = uow.products.by_skus(tenant_id, skus)
        location = uow.locations.get(wave.location_id)
        tenant = uow.tenants.get(tenant_id)
    tasks = [
        PickTask(bins.get(line.sku), line.sku, line.to_pick, fo.id)
        for fo in fos
        if not fo.finished
        for line in fo.lines
        if line.to_pick > 0
    ]
    return PickListView(
        wave=wave,
        location_code=location.code if location else "",
        location_name=location.name if location else "",
        entries=pick_list(tasks),
        names={sku: p.name for sku, p in products.items()},
        order_numbers={fo.id: fo.order_number for fo in fos},
        merchant_name=None if tenant is None else tenant.name,
        picks=sorted(tasks, key=lambda t: (t.bin is None, t.bin or "", t.sku)),
    )


def _picked_by_seq(fo: FulfillmentOrder, found: dict[str, int]) -> dict[int, int]:
    """Spread the units found per SKU over the fulfilment order's lines, first lines first."""
    picked: dict[int, int] = {}
    for sku, units in found.items():
        left = units
        for line in fo.lines:
            if line.sku == sku:
                take = min(left, line.to_pick)
                picked[line.seq] = take
                left -= take
        if left > 0:
            raise InvalidRequest(
                "More picked than the pick list asks for",
                [FieldError("#/lines", f"{sku}: {left} more than fulfilment order {fo.id} needs")],
            )
    return picked


def _confirmations_by_fo(
    wave: PickWave, confirmations: list[PickConfirmation]
) -> dict[UUID, dict[str, int]]:
    found: dict[UUID, dict[str, int]] = defaultdict(dict)
    errors: list[FieldError] = []
    for index, item in enumerate(confirmations):
        if item.fulfillment_order_id not in wave.fulfillment_order_ids:
            errors.append(FieldError(f"#/lines/{index}/fulfillment_order_id", "not in this wave"))
        elif item.picked < 0:
            errors.append(FieldError(f"#/lines/{index}/picked", "0 or more"))
        else:
            units = found[item.fulfillment_order_id]
            units[item.sku] = units.get(item.sku, 0) + item.picked
    if errors:
        raise InvalidRequest("The pick confirmation does not match the wave", errors)
    return found


def _confirm_one(
    uow: UnitOfWork,
    tenant_id: UUID,
    fo_id: UUID,
    found: dict[str, int] | None,
    wave: PickWave,
    geocoder: Geocoder | None,
    actor: Actor,
    at: datetime,
    result: WaveResult,
    pickup_key: PickupCodeKey,
) -> None:
    located = lock_fulfillment_order(uow, tenant_id, fo_id)
    order, fo = located.order, located.fo
    if fo.status is FulfillmentOrderStatus.ON_HOLD and not any(ln.picked for ln in fo.lines):
        # Held while the wave was out: it leaves the wave, and a later wave takes it once
        # the hold is released.
        fo.wave_id = None
        fo.refresh_status()
        fo.updated_at = at
        uow.fulfilment.save(fo)
    if fo.finished or fo.status is FulfillmentOrderStatus.ON_HOLD:
        result.fulfillment_orders.append(fo)
        return
    # SKUs the confirmation does not name were picked in full.
    shorts = fo.record_picks(_picked_by_seq(fo, found or {}))
    cancelled: dict[tuple[int, str], int] = {}
    short_lines = []
    for seq, units in shorts.items():
        line = fo.line(seq)
        allocation = next(a for a in order.allocations if a.id == line.allocation_id)
        allocation.released += units
        cancelled[(line.line_no, line.sku)] = cancelled.get((line.line_no, line.sku), 0) + units
        short_lines.append((line, units))
    if short_lines:
        take_off_shelf(
            uow,
            fo,
            short_lines,
            kind=MovementKind.ADJUSTMENT,
            reason=f"short pick in wave {wave.id}",
            reference=str(fo.id),
            actor=actor,
            at=at,
        )
        with order.change("fulfillment_order.short_picked", actor=actor, at=at) as data:
            data.update(describe(fo))
            data["short"] = [{"sku": line.sku, "units": units} for line, units in short_lines]
            known = {a.id for a in order.allocations}
            # Never back to this location: its books still show the units nobody found (a
            # store pickup stays at its store, where the customer will come).
            here = set() if fo.kind is FulfillmentKind.PICKUP else {fo.location_code or ""}
            give_back(uow, located, cancelled, exclude=here, geocoder=geocoder, at=at)
            data["rerouted_to"] = sorted(
                {a.location_code or "" for a in order.allocations if a.id not in known and a.open}
            )
        result.shorts.append(
            {
                "fulfillment_order_id": fo.id,
                "lines": [{"sku": line.sku, "short": units} for line, units in short_lines],
            }
        )
    if fo.status is not FulfillmentOrderStatus.CANCELLED:
        with order.change("fulfillment_order.picked", actor=actor, at=at) as data:
            data.update(describe(fo))
            data["picked"] = {line.sku: line.picked for line in fo.lines if line.picked}
    if fo.status is FulfillmentOrderStatus.READY_FOR_PICKUP:
        days = uow.tenants.policies(tenant_id).pickup_expiry_days
        result.pickup_codes[fo.id] = ready_for_pickup(
            uow, located, days, actor, at, pickup_key=pickup_key
        )
    fo.updated_at = at
    settle_order(order, policies=uow.tenants.policies(tenant_id), at=at)
    save_order_changes(uow, order, at=at, fulfilment=located.fulfilment)
    result.fulfillment_orders.append(fo)


def confirm_picks(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    wave_id: UUID,
    confirmations: list[PickConfirmation] | None,
    actor: Actor,
    pickup_key: PickupCodeKey,
    geocoder: Geocoder | None = None,
    at: datetime | None = None,
) -> WaveResult:
    """Close the wave: every unit picked except the shortfalls named (``picked`` below what
    the list asked for, per fulfilment order and SKU); shortfalls are written off and
    routed again. ``confirmations`` None means everything was found. Store pickups that
    are ready get their one-time codes (made with ``pickup_key``) in the answer."""
    when = at or utcnow()

    def attempt() -> WaveResult:
        with uow_factory() as uow:
            wave = _wave(uow, tenant_id, wave_id, lock=True)
            if wave.status is WaveStatus.COMPLETED:
                raise IllegalTransition("This wave was already confirmed", wave_id=str(wave.id))
            found = _confirmations_by_fo(wave, confirmations or [])
            result = WaveResult(wave, [])
            # Orders are locked in one fixed order (by order id, as every multi-order use case
            # does) so two waves holding parts of the same orders cannot deadlock.
            members = uow.fulfilment.many(tenant_id, wave.fulfillment_order_ids)
            for fo_id in [fo.id for fo in sorted(members, key=lambda fo: (fo.order_id, fo.id))]:
                named = found.get(fo_id) if confirmations is not None else None
                _confirm_one(
                    uow, tenant_id, fo_id, named, wave, geocoder, actor, when, result, pickup_key
                )
            wave.status = WaveStatus.COMPLETED
            wave.completed_at = when
            uow.fulfilment.save_wave(wave)
            uow.commit()
            return result

    return retry_transient(attempt)
