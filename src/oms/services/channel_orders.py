"""A store's order into the intake: placed once, then later copies applied in order.

    store webhook / backfill page
        -> adapter: signature verified on the raw bytes, body mapped to a ChannelOrder
        -> intake.place (the same use case, verification, routing and holds as POST /v1/orders;
           exactly once per (channel, external_id))
        -> the copy's updated_at newer than the last applied?  apply payment, the store's hold
      (placed or released) and cancellation
        -> sync log entry; the connection's health

A copy that creates its order writes the order's copy (``channel_orders``) and its sync
log entry in the intake's own transaction (the group's, when grouped: see
``submission_of``), so a new order costs no transaction of its own beyond the intake's.
Copies of a known order, and refusals, are written in transactions of their own.

Copies of one order arrive duplicated and out of order. The stored ``updated_at`` of the
last copy applied decides: a copy no newer than it changes nothing (``advance_order`` is one
conditional statement, so of two equal copies at once only one applies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from oms.domain.channels import ChannelConnection, SyncDirection, SyncOutcome
from oms.domain.errors import OmsError
from oms.domain.holds import HoldReason
from oms.domain.orders import Actor, Order
from oms.domain.payments import PaymentKind
from oms.domain.status import OrderStatus
from oms.services.channels import (
    HEALTH_AFTER,
    ChannelOrder,
    ChannelRepository,
    PayloadRefused,
    RemotePayment,
    SalesChannel,
    StoreUnavailable,
    log_sync,
    sync_entry,
)
from oms.services.holds import place_hold, release_hold
from oms.services.intake import PlacedOrder
from oms.services.intake_group import Submission
from oms.services.orders import cancel_order
from oms.services.payments import GatewayProvider, PaymentRequest, pay
from oms.services.ports import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "BackfillReport",
    "PlaceSubmission",
    "Received",
    "backfill_orders",
    "receive_order",
    "submission_of",
]

# Places one submission as POST /v1/orders would (the API passes its intake; tests pass
# ``intake_group.place_alone`` bound to their unit of work).
PlaceSubmission = Callable[[Submission], PlacedOrder]


@dataclass(frozen=True)
class Received:
    """What became of one copy: the order, whether it was created, whether applied."""

    order: Order
    created: bool
    applied: bool


def _apply_update(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    order: Order,
    incoming: ChannelOrder,
    actor: Actor,
    at: datetime,
) -> Order:
    """Bring a stored order up to the store's newer copy: its payment and cancellation."""
    summary = order.payment_summary(at)
    if order.status is not OrderStatus.CANCELLED:
        if incoming.payment is RemotePayment.AUTHORIZED and summary.authorized + summary.kept == 0:
            order = pay(
                uow_factory=uow_factory,
                gateways=gateways,
                tenant_id=order.tenant_id,
                order_id=order.id,
                request=PaymentRequest(kind=PaymentKind.AUTHORIZATION, gateway="manual"),
                actor=actor,
                at=at,
            )
        elif incoming.payment is RemotePayment.PAID and summary.kept < order.total:
            if summary.authorized == 0:
                order = pay(
                    uow_factory=uow_factory,
                    gateways=gateways,
                    tenant_id=order.tenant_id,
                    order_id=order.id,
                    request=PaymentRequest(kind=PaymentKind.AUTHORIZATION, gateway="manual"),
                    actor=actor,
                    at=at,
                )
            order = pay(
                uow_factory=uow_factory,
                gateways=gateways,
                tenant_id=order.tenant_id,
                order_id=order.id,
                request=PaymentRequest(kind=PaymentKind.CAPTURE, reported=True),
                actor=actor,
                at=at,
            )
    if order.status is not OrderStatus.CANCELLED:
        order = _mirror_hold(
            uow_factory=uow_factory,
            gateways=gateways,
            order=order,
            incoming=incoming,
            actor=actor,
            at=at,
        )
    if incoming.cancelled and order.status is not OrderStatus.CANCELLED:
        order = cancel_order(
            uow_factory=uow_factory,
            tenant_id=order.tenant_id,
            order_id=order.id,
            actor=actor,
            reason=incoming.cancel_reason or "cancelled in the store",
            at=at,
            gateways=gateways,
        )
    return order


def _mirror_hold(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    order: Order,
    incoming: ChannelOrder,
    actor: Actor,
    at: datetime,
) -> Order:
    """A store's hold as a manual hold placed by the channel; released when the store
    releases it. A manual hold someone placed in oms is never released by the store."""
    ours = [
        h for h in order.open_holds if h.reason is HoldReason.MANUAL and h.created_by == str(actor)
    ]
    if incoming.held and not ours:
        order, _ = place_hold(
            uow_factory=uow_factory,
            tenant_id=order.tenant_id,
            order_id=order.id,
            reason=HoldReason.MANUAL,
            note=incoming.hold_note or "on hold in the store",
            actor=actor,
            at=at,
        )
    elif not incoming.held:
        for hold in ours:
            order = release_hold(
                uow_factory=uow_factory,
                tenant_id=order.tenant_id,
                order_id=order.id,
                hold_id=hold.id,
                note="released in the store",
                actor=actor,
                gateways=gateways,
                at=at,
            )
    return order


def submission_of(
    connection: ChannelConnection,
    incoming: ChannelOrder,
    *,
    operation: str,
    actor: Actor,
    at: datetime,
) -> Submission:
    """The intake's submission of a store's copy: if it creates the order, the copy's
    ``updated_at`` and the sync log entry are written in the same transaction."""

    def record(uow: UnitOfWork, placed: PlacedOrder) -> None:
        order = placed.order
        uow.channel_intake.advance_order(
            connection.tenant_id,
            connection.id,
            incoming.external_id,
            order_id=order.id,
            updated_at=incoming.updated_at,
        )
        entry = sync_entry(
            connection=connection,
            direction=SyncDirection.INBOUND,
            operation=operation,
            outcome=SyncOutcome.OK,
            at=at,
            detail=_detail(True, True, order),
            external_id=incoming.external_id,
            order_id=order.id,
        )
        uow.channel_intake.log(connection.tenant_id, entry, HEALTH_AFTER[SyncOutcome.OK])

    return Submission(
        tenant_id=connection.tenant_id,
        command=incoming.command,
        actor=actor,
        at=at,
        on_created=record,
    )


def receive_order(
    *,
    channels: ChannelRepository,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    place: PlaceSubmission,
    connection: ChannelConnection,
    incoming: ChannelOrder,
    operation: str,
    actor: Actor,
    at: datetime,
) -> Received:
    """Place a store's order once; apply a copy newer than the last applied; log it.

    A refusal of the intake (422, 409) is logged as failed and raised again. ``place``
    takes ``submission_of``'s submission (whose writes come with a created order).
    """
    submission = submission_of(connection, incoming, operation=operation, actor=actor, at=at)
    try:
        placed = place(submission)
        order = placed.order
        # A created order's copy was recorded with it (``submission_of``).
        newer = placed.created or channels.advance_order(
            connection.tenant_id,
            connection.id,
            incoming.external_id,
            order_id=order.id,
            updated_at=incoming.updated_at,
        )
        if newer:
            order = _apply_update(
                uow_factory=uow_factory,
                gateways=gateways,
                order=order,
                incoming=incoming,
                actor=actor,
                at=at,
            )
    except OmsError as error:
        log_sync(
            channels=channels,
            connection=connection,
            direction=SyncDirection.INBOUND,
            operation=operation,
            outcome=SyncOutcome.FAILED,
            at=at,
            detail=error.detail,
            external_id=incoming.external_id,
        )
        raise
    applied = newer
    if placed.created and order is placed.order:
        return Received(order=order, created=True, applied=True)  # logged with the order
    # Created and then changed by the copy (cancelled or held in the store): logged again.
    log_sync(
        channels=channels,
        connection=connection,
        direction=SyncDirection.INBOUND,
        operation=operation,
        outcome=SyncOutcome.OK if applied else SyncOutcome.IGNORED,
        at=at,
        detail=_detail(False, applied, order),
        external_id=incoming.external_id,
        order_id=order.id,
    )
    return Received(order=order, created=placed.created, applied=applied)


def _detail(created: bool, applied: bool, order: Order) -> str:
    if created:
        return f"order {order.number} placed ({order.status.value})"
    if applied:
        return f"order {order.number} updated ({order.status.value}, {order.payment_status.value})"
    return f"order {order.number}: a copy no newer than the last applied; nothing changed"


@dataclass(frozen=True)
class BackfillReport:
    """What a backfill did: orders placed, copies applied, copies older than stored,
    orders the intake refused (each in the sync log)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0


def backfill_orders(
    *,
    channels: ChannelRepository,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    place: PlaceSubmission,
    connection: ChannelConnection,
    store: SalesChannel,
    since: datetime,
    actor: Actor,
    at: datetime,
) -> BackfillReport:
    """Pull every order the store changed since ``since`` through the same intake as its
    webhooks (missed ones are placed, known ones brought up to date); a refused order is
    logged and the rest go on. The store not answering ends it, logged as failed."""
    created = updated = unchanged = refused = 0
    try:
        for incoming in store.orders_since(since):
            try:
                received = receive_order(
                    channels=channels,
                    uow_factory=uow_factory,
                    gateways=gateways,
                    place=place,
                    connection=connection,
                    incoming=incoming,
                    operation="backfill",
                    actor=actor,
                    at=at,
                )
            except OmsError:
                refused += 1
                continue
            if received.created:
                created += 1
            elif received.applied:
                updated += 1
            else:
                unchanged += 1
    except (PayloadRefused, StoreUnavailable) as error:
        log_sync(
            channels=channels,
            connection=connection,
            direction=SyncDirection.INBOUND,
            operation="backfill",
            outcome=SyncOutcome.FAILED,
            at=at,
            detail=str(error)[:500],
        )
        raise
    return BackfillReport(created=created, updated=updated, unchanged=unchanged, refused=refused)
