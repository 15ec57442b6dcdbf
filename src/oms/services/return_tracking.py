"""Return labels' tracking: the carrier's events for a return label's parcel move the return.

A carrier posts the return parcel's scans to the same ``POST /v1/carriers/{carrier}/events``
as the outbound ones (``oms.services.tracking.record_carrier_events``); a tracking number
that is no shipment's is looked up among the return labels (``return_tracking_numbers``,
shared by all tenants like ``tracking_numbers``). Each event is kept once; the parcel's
status is derived from all of them (``derive_shipment_status``: order and repeats do not
matter), and the return moves forward to ``in_transit`` (first scan on the way) and
``delivered`` (at the warehouse: its units still wait for inspection, ``receive``), with a
``return.in_transit`` / ``return.delivered`` timeline entry and event (each emails the
customer once: ``return_in_transit``, ``return_delivered``). An exchange whose
replacement waits for the return in transit is released by the same step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from oms.domain.orders import Actor
from oms.domain.tracking import TrackingEvent, derive_shipment_status
from oms.services.exchanges import release_replacement
from oms.services.persistence import save_order_changes
from oms.services.ports import UnitOfWork
from oms.services.returns import lock_return, record_step

__all__ = ["ParcelReport", "track_return_parcel"]

# (events kept, events seen before, whether the return's status moved)
ParcelReport = tuple[int, int, bool]


def track_return_parcel(
    uow: UnitOfWork,
    *,
    carrier: str,
    tracking_number: str,
    events: Sequence[TrackingEvent],
    actor: Actor,
    at: datetime,
) -> ParcelReport | None:
    """Take a carrier's events for a return label's parcel (in the caller's transaction);
    None when ``tracking_number`` is no return label of ``carrier``."""
    located = uow.returns.locate_label(carrier, tracking_number)
    if located is None:
        return None
    order, request = lock_return(uow, located.tenant_id, located.return_id)
    new = sum(
        uow.returns.add_parcel_event(request, carrier, event, received_at=at) for event in events
    )
    if not new:
        return 0, len(events), False
    every = uow.returns.parcel_events(request.tenant_id, request.id)
    latest = max(every, key=lambda e: e.occurred_at)
    moved = request.track_parcel(
        derive_shipment_status(every), scanned_at=latest.occurred_at, at=at
    )
    if moved:
        record_step(
            order,
            request,
            f"return.{request.status.value}",
            actor,
            at,
            carrier=carrier,
            tracking_number=tracking_number,
            occurred_at=latest.occurred_at.isoformat(),
            where=latest.location,
        )
        release_replacement(uow, request, uow.returns.policy(request.tenant_id), actor=actor, at=at)
    uow.returns.save(request)
    save_order_changes(uow, order, at=at)
    return new, len(events) - new, moved
