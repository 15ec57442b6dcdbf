"""Claims that open by themselves: a parcel the carrier reports in trouble (an
``exception`` scan), or one not scanned for the tenant's ``claim_after_days``, opens a
claim for the units it carries (``oms.services.claims.open_claim``, answered by the
policy's ``claim_answer``: reship or refund) and flags the order with a ``parcel_claim``
item in the exceptions queue, for a person to follow up with the carrier.

Once per shipment, whatever sees it first and however often: the claim is opened with the
Idempotency-Key ``parcel-claim:<shipment id>``, so an exception scan, a redelivered one and
the daily job all find the same claim. A parcel whose units cannot be claimed any more
(returned, claimed by hand, the order cancelled) is left alone. Both are off unless the
tenant's return policy turns them on (``claim_on_exception``, ``claim_after_days``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from oms.domain.errors import OmsError
from oms.domain.holds import HoldReason
from oms.domain.orders import SYSTEM, Actor
from oms.domain.returns import ClaimAnswer, Resolution, ReturnRequest
from oms.domain.shipments import Shipment
from oms.services.claims import ClaimedUnits, open_claim
from oms.services.common import retry_transient
from oms.services.payments import GatewayProvider
from oms.services.persistence import locked_order, new_hold, save_order_changes
from oms.services.ports import UnitOfWorkFactory

__all__ = ["ClaimSweep", "ExceptionHandler", "claim_key", "claim_parcel", "claim_quiet_parcels"]

log = logging.getLogger("oms.parcel_claims")

QUIET_BATCH = 200  # parcels looked at per tenant and run


def claim_key(shipment_id: UUID) -> str:
    """The Idempotency-Key that makes a parcel's claim once."""
    return f"parcel-claim:{shipment_id}"


@dataclass
class ClaimSweep:
    opened: list[UUID] = field(default_factory=list)  # claims (returns) opened by this run
    skipped: int = 0  # parcels whose units could not be claimed


def _units(uow_factory: UnitOfWorkFactory, shipment: Shipment) -> list[ClaimedUnits]:
    with uow_factory(readonly=True) as uow:
        order = uow.orders.get(shipment.tenant_id, shipment.order_id, with_events=False)
    if order is None:
        return []
    skus = {line.line_no: line.sku for line in order.lines}
    units: dict[int, int] = defaultdict(int)
    for item in shipment.contents:
        # A bundle's components are not its line's units: such lines are claimed by hand.
        if skus.get(item.line_no) == item.sku:
            units[item.line_no] += item.quantity
    return [ClaimedUnits(line_no, quantity) for line_no, quantity in sorted(units.items())]


def claim_parcel(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    shipment: Shipment,
    why: str,
    at: datetime,
    actor: Actor = SYSTEM,
) -> ReturnRequest | None:
    """Open the claim of ``shipment``'s units (once; the same claim again after) and flag
    its order; None when its units cannot be claimed."""
    with uow_factory(readonly=True) as uow:
        policy = uow.returns.policy(shipment.tenant_id)
        earlier = uow.idempotency.get(shipment.tenant_id, claim_key(shipment.id))
    if earlier is not None and earlier.resource_id is not None:
        with uow_factory(readonly=True) as uow:
            return uow.returns.get(shipment.tenant_id, earlier.resource_id)
    units = _units(uow_factory, shipment)
    if not units:
        return None
    try:
        claim = open_claim(
            uow_factory=uow_factory,
            gateways=gateways,
            tenant_id=shipment.tenant_id,
            order_id=shipment.order_id,
            units=units,
            damaged=False,
            resolution=Resolution.RESHIP
            if policy.claim_answer is ClaimAnswer.RESHIP
            else Resolution.REFUND,
            actor=actor,
            idempotency_key=claim_key(shipment.id),
            at=at,
        )
    except OmsError as refused:
        log.info("parcel %s not claimed: %s", shipment.tracking_number, refused)
        return None
    _flag(uow_factory, shipment, claim, why, at)
    return claim


def _flag(
    uow_factory: UnitOfWorkFactory,
    shipment: Shipment,
    claim: ReturnRequest,
    why: str,
    at: datetime,
) -> None:
    def attempt() -> None:
        with uow_factory() as uow:
            order = locked_order(uow, shipment.tenant_id, shipment.order_id, with_events=False)
            note = (
                f"claim {claim.id} opened ({claim.resolution.value}): parcel "
                f"{shipment.carrier} {shipment.tracking_number} {why}"
            )
            hold = new_hold(
                HoldReason.PARCEL_CLAIM,
                policies=uow.tenants.policies(shipment.tenant_id),
                actor=SYSTEM,
                at=at,
                note=note,
            )
            order.place_hold(hold, actor=SYSTEM, at=at)
            save_order_changes(uow, order, at=at)
            uow.commit()

    retry_transient(attempt)


class ExceptionHandler:
    """The hook ``record_carrier_events`` calls with a shipment turned ``exception``: its
    claim, when the tenant's policy says so."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, gateways: GatewayProvider, at: datetime
    ) -> None:
        self._uow_factory, self._gateways, self._at = uow_factory, gateways, at

    def __call__(self, shipment: Shipment) -> ReturnRequest | None:
        with self._uow_factory(readonly=True) as uow:
            wanted = uow.returns.policy(shipment.tenant_id).claim_on_exception
        if not wanted:
            return None
        return claim_parcel(
            uow_factory=self._uow_factory,
            gateways=self._gateways,
            shipment=shipment,
            why="reported an exception by the carrier",
            at=self._at,
        )


def claim_quiet_parcels(
    *, uow_factory: UnitOfWorkFactory, gateways: GatewayProvider, now: datetime
) -> ClaimSweep:
    """The worker's job: claim every parcel not scanned for its tenant's
    ``claim_after_days`` (``now`` is the injected clock)."""
    sweep = ClaimSweep()
    with uow_factory(readonly=True) as uow:
        policies = {t: p for t, p in uow.returns.stored_policies().items() if p.claim_after_days}
    for tenant_id, policy in policies.items():
        days = policy.claim_after_days
        with uow_factory(readonly=True) as uow:
            quiet = uow.shipments.unscanned_since(
                tenant_id, before=now - timedelta(days=days), limit=QUIET_BATCH
            )
            waiting = [
                shipment_id
                for shipment_id in quiet
                if uow.idempotency.get(tenant_id, claim_key(shipment_id)) is None
            ]
            shipments = [uow.shipments.get(tenant_id, shipment_id) for shipment_id in waiting]
        for shipment in shipments:
            if shipment is None:
                continue
            claim = claim_parcel(
                uow_factory=uow_factory,
                gateways=gateways,
                shipment=shipment,
                why=f"not scanned for {days} days",
                at=now,
            )
            if claim is None:
                sweep.skipped += 1
            else:
                sweep.opened.append(claim.id)
    return sweep
