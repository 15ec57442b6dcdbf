"""Transfers between a tenant's locations: create, ship (a ``transfer`` movement out of
the source: the units leave it, in transit, sellable nowhere) and receive (a ``transfer``
movement into the destination, which routes waiting backorders). docs/inbound.md."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from oms.domain.counts import Transfer, TransferLine, TransferStatus, transfer_status
from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest, NotFound
from oms.domain.ids import new_id
from oms.domain.inventory import MovementKind
from oms.domain.orders import Actor
from oms.services.common import utcnow
from oms.services.inventory import _location_by_code
from oms.services.payments import GatewayProvider
from oms.services.ports import OutboxMessage, UnitOfWork, UnitOfWorkFactory
from oms.services.purchasing import ensure_may_receive
from oms.services.receiving import receive_into_stock, take_from_stock
from oms.services.rerouting import allocate_backorders
from oms.services.routing import Geocoder

__all__ = [
    "create_transfer",
    "get_transfer",
    "in_transit",
    "list_transfers",
    "receive_transfer",
    "ship_transfer",
]


def create_transfer(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    source: str,
    target: str,
    lines: Sequence[tuple[str, int]],
    actor: Actor,
    at: datetime | None = None,
) -> Transfer:
    """A draft transfer of stocked SKUs from one location the tenant uses to another."""
    at = at or utcnow()
    with uow_factory() as uow:
        src = _location_by_code(uow, tenant_id, source, pointer="#/from")
        dst = _location_by_code(uow, tenant_id, target, pointer="#/to")
        if src.id == dst.id:
            raise InvalidRequest("Nowhere to go", [FieldError("#/to", "same as from")])
        products = uow.products.by_skus(tenant_id, [sku for sku, _ in lines])
        seen: set[str] = set()
        problems = []
        for n, (sku, _) in enumerate(lines):
            if sku not in products or not products[sku].holds_stock or sku in seen:
                problems.append(FieldError(f"#/lines/{n}/sku", f"no stocked product {sku!r}"))
            seen.add(sku)
        if problems:
            raise InvalidRequest("The transfer's lines are not valid", problems)
        transfer = Transfer(
            id=new_id(),
            tenant_id=tenant_id,
            from_location_id=src.id,
            from_code=src.code,
            to_location_id=dst.id,
            to_code=dst.code,
            lines=[TransferLine(sku=sku, quantity=q) for sku, q in lines],
            created_at=at,
        )
        uow.inbound.add_transfer(transfer, actor=str(actor))
        uow.commit()
    return transfer


def _locked(uow: UnitOfWork, tenant_id: UUID, transfer_id: UUID) -> Transfer:
    transfer = uow.inbound.transfer(tenant_id, transfer_id, for_update=True)
    if transfer is None:
        raise NotFound("No such transfer")
    return transfer


def _event(topic: str, transfer: Transfer, at: datetime) -> OutboxMessage:
    return OutboxMessage(
        topic=topic,
        aggregate_id=transfer.id,
        payload={
            "transfer_id": str(transfer.id),
            "from": transfer.from_code,
            "to": transfer.to_code,
            "status": transfer.status.value,
            "lines": [
                {"sku": ln.sku, "quantity": ln.quantity, "received": ln.received}
                for ln in transfer.lines
            ],
        },
        created_at=at,
    )


def ship_transfer(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    transfer_id: UUID,
    actor: Actor,
    operator: bool,
    at: datetime | None = None,
) -> Transfer:
    """Pick and ship it whole: each line leaves the source's available stock (409 when it
    is not there) with a ``transfer`` movement; the units are in transit."""
    at = at or utcnow()
    with uow_factory() as uow:
        transfer = _locked(uow, tenant_id, transfer_id)
        if transfer.status is not TransferStatus.DRAFT:
            raise IllegalTransition(f"A {transfer.status.value} transfer cannot be shipped")
        source = uow.locations.get(transfer.from_location_id)
        assert source is not None
        ensure_may_receive(source, operator=operator)
        for line in transfer.lines:  # SKU order
            take_from_stock(
                uow,
                tenant_id,
                sku=line.sku,
                location_id=transfer.from_location_id,
                quantity=line.quantity,
                kind=MovementKind.TRANSFER,
                reason=f"transfer to {transfer.to_code}",
                reference=str(transfer.id),
                actor=str(actor),
                at=at,
            )
        transfer.shipped_at = at
        transfer.status = transfer_status(transfer)
        uow.inbound.save_transfer(transfer)
        uow.outbox.add_many(tenant_id, [_event("transfer.shipped", transfer, at)])
        uow.commit()
    return transfer


def receive_transfer(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    transfer_id: UUID,
    lines: Sequence[tuple[str, int]],
    actor: Actor,
    operator: bool,
    at: datetime | None = None,
    geocoder: Geocoder | None = None,
    gateways: GatewayProvider | None = None,
) -> Transfer:
    """Receive shipped units at the destination (at most what is in transit per line);
    ``transfer`` movements in, then waiting backorders are routed."""
    at = at or utcnow()
    with uow_factory() as uow:
        transfer = _locked(uow, tenant_id, transfer_id)
        if transfer.status is not TransferStatus.IN_TRANSIT:
            raise IllegalTransition(f"A {transfer.status.value} transfer cannot be received")
        target = uow.locations.get(transfer.to_location_id)
        assert target is not None
        ensure_may_receive(target, operator=operator)
        for n, (sku, quantity) in enumerate(lines):
            line = transfer.line_for(sku)
            if line is None or quantity > line.in_transit:
                left = 0 if line is None else line.in_transit
                raise InvalidRequest(
                    "More than is in transit",
                    [FieldError(f"#/lines/{n}/quantity", f"{left} units of {sku} are in transit")],
                )
            line.received += quantity
        for sku, quantity in sorted(lines):
            receive_into_stock(
                uow,
                tenant_id,
                sku=sku,
                location_id=transfer.to_location_id,
                quantity=quantity,
                reason=f"transfer from {transfer.from_code}",
                reference=str(transfer.id),
                actor=str(actor),
                at=at,
                kind=MovementKind.TRANSFER,
            )
        transfer.status = transfer_status(transfer)
        uow.inbound.save_transfer(transfer)
        uow.outbox.add_many(tenant_id, [_event("transfer.received", transfer, at)])
        uow.commit()
    allocate_backorders(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        skus=sorted({sku for sku, _ in lines}),
        geocoder=geocoder,
        gateways=gateways,
        at=at,
    )
    return transfer


def get_transfer(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID, transfer_id: UUID) -> Transfer:
    with uow_factory(readonly=True) as uow:
        found = uow.inbound.transfer(tenant_id, transfer_id)
    if found is None:
        raise NotFound("No such transfer")
    return found


def in_transit(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, sku: str
) -> list[tuple[str, str, int, UUID]]:
    """Units of ``sku`` on their way between locations: (from, to, units, transfer id)."""
    with uow_factory(readonly=True) as uow:
        return uow.inbound.in_transit(tenant_id, sku)


def list_transfers(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID | None,
    before_id: UUID | None = None,
    limit: int = 100,
) -> list[Transfer]:
    """A page of transfers, newest first: the tenant's, or (None, the operator) everyone's;
    those older than ``before_id`` when given."""
    with uow_factory(readonly=True) as uow:
        return uow.inbound.transfers(tenant_id, before_id=before_id, limit=limit)
