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
from uuid import UUID

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
    "CopyChanges",
    "PlaceSubmission",
    "Received",
    "backfill_orders",
    "changes_of",
    "receive_order",
    "settled_by_placing",
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


@dataclass(frozen=True)
class CopyChanges:
    """What a newer copy of a stored order changes in it (``changes_of``): payments to
    record, the store's hold to mirror or release, a cancellation."""

    authorize: bool = False
    capture: bool = False
    hold: bool = False
    release: tuple[UUID, ...] = ()
    cancel: bool = False

    def __bool__(self) -> bool:
        return self.authorize or self.capture or self.hold or bool(self.release) or self.cancel


def changes_of(order: Order, incoming: ChannelOrder, *, actor: Actor, at: datetime) -> CopyChanges:
    """What ``incoming`` changes in ``order``: its payment (authorized, or captured), the
    store's hold as a manual hold placed by the channel (released when the store releases
    it; a manual hold someone placed in oms is never released by the store), its
    cancellation. A cancelled order takes none of them."""
    if order.status is OrderStatus.CANCELLED:
        return CopyChanges()
    summary = order.payment_summary(at)
    unpaid = incoming.payment is RemotePayment.PAID and summary.kept < order.total
    ours = tuple(
        h.id
        for h in order.open_holds
        if h.reason is HoldReason.MANUAL and h.created_by == str(actor)
    )
    return CopyChanges(
        authorize=(
            incoming.payment is RemotePayment.AUTHORIZED and summary.authorized + summary.kept == 0
        )
        or (unpaid and summary.authorized == 0),
        capture=unpaid,
        hold=incoming.held and not ours,
        release=() if incoming.held else ours,
        cancel=incoming.cancelled,
    )


def _apply_update(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    order: Order,
    incoming: ChannelOrder,
    actor: Actor,
    at: datetime,
) -> Order:
    """Bring a stored order up to the store's newer copy (``changes_of``)."""
    changes = changes_of(order, incoming, actor=actor, at=at)
    if changes.authorize:
        order = pay(
            uow_factory=uow_factory,
            gateways=gateways,
            tenant_id=order.tenant_id,
            order_id=order.id,
            request=PaymentRequest(kind=PaymentKind.AUTHORIZATION, gateway="manual"),
            actor=actor,
            at=at,
        )
    if changes.capture:
        order = pay(
            uow_factory=uow_factory,
            gateways=gateways,
            tenant_id=order.tenant_id,
            order_id=order.id,
            request=PaymentRequest(kind=PaymentKind.CAPTURE, reported=True),
            actor=actor,
            at=at,
        )
    if changes.hold:
        order, _ = place_hold(
            uow_factory=uow_factory,
            tenant_id=order.tenant_id,
            order_id=order.id,
            reason=HoldReason.MANUAL,
            note=incoming.hold_note or "on hold in the store",
            actor=actor,
            at=at,
        )
    for hold_id in changes.release:
        order = release_hold(
            uow_factory=uow_factory,
            tenant_id=order.tenant_id,
            order_id=order.id,
            hold_id=hold_id,
            note="released in the store",
            actor=actor,
            gateways=gateways,
            at=at,
        )
    if changes.cancel:
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
        uow.channel_intake.record_copy(
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


def settled_by_placing(
    placed: PlacedOrder, incoming: ChannelOrder, *, actor: Actor, at: datetime
) -> Received | None:
    """What receiving a copy came to when placing it settled it: it created the order and
    changes nothing in it (``changes_of``), so the copy and its log entry were written with
    the order (``submission_of``). None when ``receive_order`` has more to do."""
    if placed.created and not changes_of(placed.order, incoming, actor=actor, at=at):
        return Received(order=placed.order, created=True, applied=True)
    return None


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
        settled = settled_by_placing(placed, incoming, actor=actor, at=at)
        if settled is not None:
            return settled
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
    # Known, or created and then changed by the copy (cancelled or held in the store): logged
    # (again).
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
