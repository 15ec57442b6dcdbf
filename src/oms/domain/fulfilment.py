"""Fulfilment orders: one location's share of a released order, from picking to the doorstep.

Each line of a fulfilment order counts its units through the warehouse::

    quantity = cancelled + (units not yet picked) + picked
    picked  >= packed, picked >= shipped >= delivered

``cancelled`` units went back to the order (rerouted, rejected, short-picked or cancelled);
its status is derived from these counts, never set by hand:

    status              when
    rejected            the location refused it (a reason is kept)
    cancelled           every unit was cancelled
    on_hold             the order has an open hold and something is still to ship
    closed              every live unit delivered (or collected in the store)
    shipped             every live unit shipped
    partially_shipped   some units shipped
    ready_for_pickup    a store pickup with every live unit picked
    packed              every live unit packed
    in_progress         in a pick wave, or something picked or packed
    open                none of the above
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest
from oms.domain.pickup_codes import lock_after

__all__ = [
    "FulfillmentKind",
    "FulfillmentLine",
    "FulfillmentOrder",
    "FulfillmentOrderStatus",
    "derive_fulfillment_order_status",
    "line_units",
    "lost_line_units",
]


class FulfillmentKind(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"
    DIGITAL = "digital"


class FulfillmentOrderStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PACKED = "packed"
    READY_FOR_PICKUP = "ready_for_pickup"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CLOSED = "closed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


# Fulfilment orders in these states no longer take part in picking, packing or shipping.
FINISHED = frozenset(
    {
        FulfillmentOrderStatus.SHIPPED,
        FulfillmentOrderStatus.CLOSED,
        FulfillmentOrderStatus.CANCELLED,
        FulfillmentOrderStatus.REJECTED,
    }
)


@dataclass
class FulfillmentLine:
    """Units of one allocation (an order line's SKU, or a bundle component) at the location."""

    seq: int
    line_no: int
    sku: str
    quantity: int
    allocation_id: UUID | None = None
    picked: int = 0
    short: int = 0
    packed: int = 0
    shipped: int = 0
    delivered: int = 0
    cancelled: int = 0

    @property
    def live(self) -> int:
        """Units this location still owes or has sent (not cancelled)."""
        return self.quantity - self.cancelled

    @property
    def to_pick(self) -> int:
        return self.quantity - self.cancelled - self.picked

    @property
    def to_pack(self) -> int:
        """Picked units not yet in a package (nor handed over in the store)."""
        return self.picked - self.packed - self._shipped_unpacked

    @property
    def unshipped(self) -> int:
        """Units still held for this line: not cancelled, not shipped."""
        return self.quantity - self.cancelled - self.shipped

    @property
    def _shipped_unpacked(self) -> int:
        # Units collected in a store or delivered digitally leave without a package.
        return max(0, self.shipped - self.packed)


def derive_fulfillment_order_status(
    kind: FulfillmentKind,
    lines: Sequence[FulfillmentLine],
    *,
    rejected: bool,
    on_hold: bool,
    in_wave: bool,
) -> FulfillmentOrderStatus:
    """The status of a fulfilment order from its line counts (see the module table)."""
    if rejected:
        return FulfillmentOrderStatus.REJECTED
    live = sum(line.live for line in lines)
    if live <= 0:
        return FulfillmentOrderStatus.CANCELLED
    shipped = sum(line.shipped for line in lines)
    if on_hold and shipped < live:
        return FulfillmentOrderStatus.ON_HOLD
    if sum(line.delivered for line in lines) >= live:
        return FulfillmentOrderStatus.CLOSED
    if shipped >= live:
        return FulfillmentOrderStatus.SHIPPED
    if shipped > 0:
        return FulfillmentOrderStatus.PARTIALLY_SHIPPED
    picked = sum(line.picked for line in lines)
    if kind is FulfillmentKind.PICKUP and picked >= live:
        return FulfillmentOrderStatus.READY_FOR_PICKUP
    packed = sum(line.packed for line in lines)
    if packed >= live:
        return FulfillmentOrderStatus.PACKED
    if in_wave or picked > 0 or packed > 0:
        return FulfillmentOrderStatus.IN_PROGRESS
    return FulfillmentOrderStatus.OPEN


def lost_line_units(
    cancelled: Mapping[tuple[int, str], int], recipes: Mapping[int, Mapping[str, int]]
) -> dict[int, int]:
    """Order-line units that cancelled component units ((line, SKU) -> units) break, given
    each line's recipe: a bundle short of one component loses the whole bundle unit."""
    lost: dict[int, int] = {}
    for (line_no, sku), units in cancelled.items():
        per = recipes[line_no].get(sku, 1)
        lost[line_no] = max(lost.get(line_no, 0), -(-units // per))
    return lost


def line_units(component_units: Mapping[str, int], recipe: Mapping[str, int]) -> int:
    """Whole order-line units that ``component_units`` (SKU -> units) make up, given the
    line's ``recipe`` (SKU -> units per line unit; ``{sku: 1}`` for a plain product)."""
    if not recipe:
        return 0
    return min(component_units.get(sku, 0) // per for sku, per in recipe.items())


@dataclass
class FulfillmentOrder:
    """One location's share of one order."""

    id: UUID
    tenant_id: UUID
    order_id: UUID
    order_number: int
    location_id: UUID
    kind: FulfillmentKind
    lines: list[FulfillmentLine]
    created_at: datetime
    updated_at: datetime
    location_code: str | None = None
    status: FulfillmentOrderStatus = FulfillmentOrderStatus.OPEN
    on_hold: bool = False
    wave_id: UUID | None = None
    carrier: str | None = None
    service: str | None = None
    promised_ship_by: date | None = None
    priority: int = 100
    rejected_reason: str | None = None
    pickup_code_hash: str | None = None
    ready_at: datetime | None = None
    pickup_expires_at: datetime | None = None
    pickup_wrong_codes: int = 0
    pickup_locked_until: datetime | None = None
    version: int = 0
    changed: bool = field(default=False, repr=False)

    def refresh_status(self) -> FulfillmentOrderStatus:
        """Derive the status again from the line counts; marks the order as changed."""
        self.status = derive_fulfillment_order_status(
            self.kind,
            self.lines,
            rejected=self.rejected_reason is not None,
            on_hold=self.on_hold,
            in_wave=self.wave_id is not None,
        )
        self.changed = True
        return self.status

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def ensure_workable(self, action: str) -> None:
        """Refuse (409) work on a fulfilment order that is held, finished or rejected."""
        if self.status is FulfillmentOrderStatus.ON_HOLD:
            raise IllegalTransition(
                f"Cannot {action}: the order is on hold", fulfillment_order_id=str(self.id)
            )
        if self.finished:
            raise IllegalTransition(
                f"Cannot {action} a fulfilment order that is {self.status.value}",
                fulfillment_order_id=str(self.id),
                status=self.status.value,
            )

    def line(self, seq: int) -> FulfillmentLine:
        return next(line for line in self.lines if line.seq == seq)

    def units_by_sku(self, attribute: str) -> dict[str, int]:
        """SKU -> the sum of one count (``to_pick``, ``to_pack``, ``unshipped``...)."""
        totals: dict[str, int] = {}
        for line in self.lines:
            units = int(getattr(line, attribute))
            if units > 0:
                totals[line.sku] = totals.get(line.sku, 0) + units
        return totals

    def record_picks(self, picked: Mapping[int, int]) -> dict[int, int]:
        """Record what was picked per line (``seq`` -> units; lines not named are picked in
        full); returns the short units per line, which are cancelled here."""
        self.ensure_workable("confirm picking of")
        errors = [
            FieldError(f"#/lines/{seq}", "not a line of this fulfilment order")
            for seq in picked
            if seq not in {line.seq for line in self.lines}
        ]
        errors += [
            FieldError(f"#/lines/{line.seq}", f"between 0 and {line.to_pick} units")
            for line in self.lines
            if line.seq in picked and not 0 <= picked[line.seq] <= line.to_pick
        ]
        if errors:
            raise InvalidRequest("The pick confirmation does not match the pick list", errors)
        shorts: dict[int, int] = {}
        for line in self.lines:
            wanted = line.to_pick
            got = picked.get(line.seq, wanted)
            line.picked += got
            if got < wanted:
                line.short += wanted - got
                line.cancelled += wanted - got
                shorts[line.seq] = wanted - got
        self.refresh_status()
        return shorts

    def pack(self, units: Mapping[str, int]) -> list[tuple[FulfillmentLine, int]]:
        """Put ``units`` (SKU -> units, already checked against ``to_pack``) into a package;
        returns the lines and units taken, first lines first."""
        self.ensure_workable("pack")
        taken: list[tuple[FulfillmentLine, int]] = []
        for sku, wanted in units.items():
            left = wanted
            for line in self.lines:
                if line.sku != sku or left == 0:
                    continue
                take = min(left, line.to_pack)
                if take > 0:
                    line.packed += take
                    taken.append((line, take))
                    left -= take
            if left:
                raise IllegalTransition(f"{sku}: {left} more than is picked and unpacked")
        self.refresh_status()
        return taken

    def unpack(self, contents: Iterable[tuple[int, int]]) -> None:
        """Take a package's ``(seq, units)`` out again: they wait to be packed once more."""
        self.ensure_workable("unpack")
        for seq, units in contents:
            line = self.line(seq)
            boxed = line.packed - min(line.shipped, line.packed)  # packed, not yet shipped
            if units > boxed:
                raise IllegalTransition(f"{line.sku}: {units} is more than the {boxed} packed")
            line.packed -= units
        self.refresh_status()

    def ship(self, contents: Iterable[tuple[int, int]]) -> None:
        """Mark ``(seq, units)`` as shipped (the packages' contents)."""
        self.ensure_workable("ship")
        for seq, units in contents:
            line = self.line(seq)
            if units > line.picked - line.shipped:
                raise IllegalTransition(f"{line.sku}: cannot ship more than was picked")
            line.shipped += units
        self.refresh_status()

    def pickup_lock(self, at: datetime) -> datetime | None:
        """When the pickup's lock after wrong codes ends, if it is locked at ``at``."""
        until = self.pickup_locked_until
        return until if until is not None and at < until else None

    def refuse_pickup_code(self, at: datetime) -> datetime | None:
        """Count a wrong pickup code; returns the end of the lock it starts, if it starts one
        (``oms.domain.pickup_codes``: every fifth, each lock longer than the last)."""
        self.pickup_wrong_codes += 1
        self.changed = True
        lock = lock_after(self.pickup_wrong_codes)
        if lock is None:
            return None
        self.pickup_locked_until = at + lock
        return self.pickup_locked_until

    def hand_over(self) -> list[tuple[FulfillmentLine, int]]:
        """Everything picked and unshipped leaves the store with the customer (or, for a
        digital order, is delivered at once); returns the lines and units."""
        if self.status not in {
            FulfillmentOrderStatus.READY_FOR_PICKUP,
            FulfillmentOrderStatus.OPEN,
        }:
            self.ensure_workable("hand over")
        moved: list[tuple[FulfillmentLine, int]] = []
        for line in self.lines:
            units = line.picked - line.shipped
            if units > 0:
                line.shipped += units
                line.delivered += units
                moved.append((line, units))
        self.refresh_status()
        return moved

    def deliver(self, contents: Iterable[tuple[int, int]]) -> None:
        """Mark ``(seq, units)`` as delivered (a shipment arrived)."""
        for seq, units in contents:
            line = self.line(seq)
            line.delivered = min(line.shipped, line.delivered + units)
        self.refresh_status()

    def cancel_units(self, seq: int, units: int) -> int:
        """Give ``units`` of a line back to the order (rerouted, cancelled): unpicked units
        first, then picked ones go back to the shelf. Returns the units cancelled."""
        line = self.line(seq)
        units = min(units, line.unshipped)
        from_unpicked = min(units, line.to_pick)
        from_picked = units - from_unpicked
        line.cancelled += units
        line.picked -= from_picked
        line.packed = min(line.packed, line.picked)
        if units:
            self.refresh_status()
        return units
