"""Returns: request, approve or reject, receive and refund, each one transaction.

Every use case locks the order first (``locked_order``: ``FOR UPDATE`` on PostgreSQL) and
reads the return after the lock, so two requests for the same order's returns take turns:
ten refund requests for one return at once make one refund, the others find it refunded.
Each step appends one event to the order's timeline (``return.requested``, ``.approved``,
``.rejected``, ``.received``, ``.refunded``), which the outbox delivers like the others.
The flow and the money rules are drawn in docs/returns.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from oms.domain.errors import (
    Conflict,
    FieldError,
    IdempotencyMismatch,
    IllegalTransition,
    InvalidRequest,
    NotFound,
)
from oms.domain.ids import new_id
from oms.domain.orders import SYSTEM, Actor, Order
from oms.domain.payments import PaymentKind, PaymentOutcome, kept
from oms.domain.refunds import RefundQuote, auto_approves, quote_refund
from oms.domain.returns import (
    CLAIM_REASONS,
    OrderReturnStatus,
    Resolution,
    ReturnPolicy,
    ReturnRequest,
    ReturnStatus,
    WantedLine,
    check_request,
    derive_order_return_status,
    units_by_line,
)
from oms.services.common import retry_transient, utcnow
from oms.services.exchanges import ExchangeLine, place_exchange, release_replacement
from oms.services.payment_gateway import PaymentGateway
from oms.services.payments import (
    GatewayProvider,
    PaymentRequest,
    refund_overpayment,
    run_payment,
)
from oms.services.persistence import locked_order, save_order_changes, settle_order
from oms.services.ports import TransientStorageError, UnitOfWork, UnitOfWorkFactory
from oms.services.return_records import ReturnFilter
from oms.services.return_stock import ReceivedUnits, put_back, units_to_put_back
from oms.services.store_credit import credit_entry
from oms.services.store_credit_payments import order_gateways

__all__ = [
    "ExchangeLine",
    "LockedReturns",
    "NewReturn",
    "ReceivedUnits",
    "approve_return",
    "get_policy",
    "get_return",
    "list_returns",
    "lock_order_returns",
    "lock_return",
    "order_return_status",
    "preview_refund",
    "put_policy",
    "receive_return",
    "record_step",
    "refund_return",
    "reject_return",
    "repeated_return",
    "request_return",
    "waiting_units_of",
]

CREATE_RETURN = "create_return"
ZERO = Decimal(0)


@dataclass(frozen=True)
class NewReturn:
    """A return as asked for: lines, what the customer wants instead, an optional note."""

    lines: tuple[WantedLine, ...]
    resolution: Resolution = Resolution.REFUND
    note: str | None = None
    exchange_lines: tuple[ExchangeLine, ...] = ()

    def fingerprint(self, order_id: UUID) -> str:
        """What a repeated request must match to be the same request."""
        text = (
            f"{order_id}|{self.resolution}|{self.note}|"
            + ";".join(f"{w.line_no}:{w.quantity}:{w.reason}" for w in self.lines)
            + "|"
            + ";".join(f"{e.sku}:{e.quantity}" for e in self.exchange_lines)
        )
        return hashlib.sha256(text.encode()).hexdigest()


def waiting_units_of(returns: list[ReturnRequest]) -> dict[int, int]:
    """Units per line the open returns of an order still hold."""
    return units_by_line(r.waiting_units() for r in returns)


def _refunded_before(returns: list[ReturnRequest], but: UUID | None = None) -> dict[int, int]:
    return units_by_line(r.refunded_units() for r in returns if r.id != but)


def repeated_return(
    uow: UnitOfWork,
    tenant_id: UUID,
    key: str | None,
    fingerprint: str,
    at: datetime,
    *,
    return_id: UUID | None = None,
) -> ReturnRequest | None:
    """The return an earlier request with the same Idempotency-Key made, or None after
    claiming the key (for ``return_id``, the return this transaction makes, when known;
    else the caller attaches it); 422 for the key used on another request."""
    if key is None:
        return None
    if uow.idempotency.claim(
        tenant_id,
        key,
        operation=CREATE_RETURN,
        fingerprint=fingerprint,
        at=at,
        resource_id=return_id,
    ):
        return None
    record = uow.idempotency.get(tenant_id, key)
    if record is None or record.resource_id is None:
        raise TransientStorageError("idempotency key claimed but not yet attached")
    if record.operation != CREATE_RETURN or record.fingerprint != fingerprint:
        raise IdempotencyMismatch("This Idempotency-Key was used with a different request", key=key)
    found = uow.returns.get(tenant_id, record.resource_id)
    if found is None:
        raise TransientStorageError("idempotent return not visible yet")
    return found


def record_step(
    order: Order,
    request: ReturnRequest,
    event: str,
    actor: Actor,
    at: datetime,
    reason: str | None = None,
    **extra: object,
) -> None:
    with order.change(event, actor=actor, at=at, reason=reason) as data:
        data.update(
            return_id=str(request.id),
            return_status=request.status.value,
            lines=[
                {"line_no": ln.line_no, "sku": ln.sku, "quantity": ln.quantity, "reason": ln.reason}
                for ln in request.lines
            ],
            **extra,
        )


def request_return(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    order_id: UUID,
    command: NewReturn,
    actor: Actor,
    idempotency_key: str | None = None,
    at: datetime | None = None,
    gateways: GatewayProvider | None = None,
) -> tuple[ReturnRequest, bool]:
    """Open a return for shipped lines: ``requested``, or ``approved`` at once when the
    tenant's policy approves it by itself; the bool is False for a repeated request."""
    when = at or utcnow()
    if command.resolution is Resolution.RESHIP:
        raise InvalidRequest(
            "A reshipment answers a claim (POST /v1/orders/{order_id}/claims), not a return",
            [FieldError("#/resolution", "refund, exchange or store_credit")],
        )
    if command.exchange_lines and command.resolution is not Resolution.EXCHANGE:
        raise InvalidRequest(
            "exchange_lines go with resolution exchange",
            [FieldError("#/exchange_lines", "only for resolution exchange")],
        )

    def attempt() -> tuple[ReturnRequest, bool]:
        with uow_factory() as uow:
            order = locked_order(uow, tenant_id, order_id)
            return_id = new_id()
            # The key is claimed for the new return's id: it commits with the return or not
            # at all, so no second statement attaches it.
            earlier = repeated_return(
                uow,
                tenant_id,
                idempotency_key,
                command.fingerprint(order_id),
                when,
                return_id=return_id,
            )
            if earlier is not None:
                return earlier, False
            if command.resolution is Resolution.STORE_CREDIT:
                _credit_holder(order)
            others, policy = uow.returns.for_order_with_policy(tenant_id, order_id)
            lines = check_request(
                order, command.lines, pending=waiting_units_of(others), policy=policy, at=when
            )
            request = ReturnRequest(
                id=return_id,
                tenant_id=tenant_id,
                order_id=order_id,
                order_number=order.number,
                status=ReturnStatus.REQUESTED,
                resolution=command.resolution,
                lines=lines,
                currency=order.currency,
                created_at=when,
                created_by=str(actor),
                updated_at=when,
                note=command.note,
            )
            value = _quote(
                order, request, {ln.line_no: ln.quantity for ln in lines}, others, policy
            ).merchandise
            if command.resolution is Resolution.EXCHANGE:
                replacement = place_exchange(
                    uow,
                    gateways or _no_gateways,
                    order=order,
                    request=request,
                    wanted=command.exchange_lines,
                    credit=value,
                    policy=policy,
                    actor=actor,
                    at=when,
                )
                extra = {"exchange_order_id": str(replacement.id)}
            else:
                extra = {}
            record_step(order, request, "return.requested", actor, when, value=str(value), **extra)
            if auto_approves(policy, lines, value=value):
                request.approve(actor=str(SYSTEM), at=when, note="approved by the return policy")
                record_step(order, request, "return.approved", SYSTEM, when, automatic=True)
            uow.returns.add(request)
            save_order_changes(uow, order, at=when)
            uow.commit()
            return request, True

    return retry_transient(attempt)


def _quote(
    order: Order,
    request: ReturnRequest,
    units: dict[int, int],
    returns: list[ReturnRequest],
    policy: ReturnPolicy,
) -> RefundQuote:
    return quote_refund(
        order,
        request.lines,
        units,
        refunded_before=_refunded_before(returns, but=request.id),
        policy=policy,
        kept=kept(order.payments),
    )


@dataclass(frozen=True)
class LockedReturns:
    """A return's order locked, then every return of the order as it is after the lock."""

    order: Order
    request: ReturnRequest  # the return asked for
    every: list[ReturnRequest]  # every return of the order, the one asked for included
    policy: ReturnPolicy  # the tenant's return policy


def lock_return(uow: UnitOfWork, tenant_id: UUID, return_id: UUID) -> tuple[Order, ReturnRequest]:
    """The return's order locked, then the return as it is after the lock."""
    locked = lock_order_returns(uow, tenant_id, return_id)
    return locked.order, locked.request


def lock_order_returns(
    uow: UnitOfWork, tenant_id: UUID, return_id: UUID, *, order_id: UUID | None = None
) -> LockedReturns:
    """The return's order locked, then all the order's returns as they are after the lock
    and the tenant's return policy (one statement). ``order_id``: the return's order, when
    the caller read it already."""
    if order_id is None:
        order_id = uow.returns.order_id_of(tenant_id, return_id)
    if order_id is None:
        raise NotFound(f"No return {return_id}")
    # The timeline is not needed after the request (its window): new events still number on.
    order = locked_order(uow, tenant_id, order_id, with_events=False)
    every, policy = uow.returns.for_order_with_policy(tenant_id, order_id, for_update=True)
    request = next(r for r in every if r.id == return_id)  # returns are never deleted
    return LockedReturns(order, request, every, policy)


def _cancel_replacement(
    uow: UnitOfWork,
    request: ReturnRequest,
    actor: Actor,
    at: datetime,
    gateways: GatewayProvider | None,
) -> None:
    """Cancel the replacement of a rejected exchange; the credit it took is owed back to
    nobody but itself (refunded through ``manual`` by policy, else a refund_due item)."""
    assert request.exchange_order_id is not None
    replacement = locked_order(uow, request.tenant_id, request.exchange_order_id)
    released = replacement.cancel(actor=actor, at=at, reason=f"return {request.id} rejected")
    for allocation in sorted(released, key=lambda a: (a.sku, a.location_id)):
        uow.inventory.release(
            request.tenant_id, allocation.sku, allocation.location_id, allocation.quantity, at
        )
    policies = uow.tenants.policies(request.tenant_id)
    if gateways is not None:
        refund_overpayment(replacement, gateways=gateways, policies=policies, actor=actor, at=at)
    settle_order(replacement, policies=policies, at=at)
    save_order_changes(uow, replacement, at=at)


def _no_gateways(name: str) -> PaymentGateway:
    raise InvalidRequest(
        f"No payment gateway {name!r} is reachable here",
        [FieldError("#/resolution", "exchanges need the payment gateways")],
    )


def _decide(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    return_id: UUID,
    actor: Actor,
    note: str | None,
    at: datetime | None,
    *,
    approve: bool,
    gateways: GatewayProvider | None = None,
) -> ReturnRequest:
    when = at or utcnow()

    def attempt() -> ReturnRequest:
        with uow_factory() as uow:
            order, request = lock_return(uow, tenant_id, return_id)
            if approve:
                request.approve(actor=str(actor), at=when, note=note)
                record_step(order, request, "return.approved", actor, when, reason=note)
            else:
                request.reject(actor=str(actor), at=when, note=note)
                record_step(order, request, "return.rejected", actor, when, reason=note)
                if request.exchange_order_id is not None:
                    _cancel_replacement(uow, request, actor, when, gateways)
            uow.returns.save(request)
            save_order_changes(uow, order, at=when)
            uow.commit()
            return request

    return retry_transient(attempt)


def approve_return(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    return_id: UUID,
    actor: Actor,
    note: str | None = None,
    at: datetime | None = None,
) -> ReturnRequest:
    """Accept a requested return (from the queue of returns waiting for a person)."""
    return _decide(uow_factory, tenant_id, return_id, actor, note, at, approve=True)


def reject_return(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    return_id: UUID,
    actor: Actor,
    note: str | None,
    at: datetime | None = None,
    gateways: GatewayProvider | None = None,
) -> ReturnRequest:
    """Refuse a return nothing of which was received yet; the note says why. An exchange's
    replacement order is cancelled with it."""
    return _decide(
        uow_factory, tenant_id, return_id, actor, note, at, approve=False, gateways=gateways
    )


def receive_return(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    return_id: UUID,
    location: str,
    units: list[ReceivedUnits],
    actor: Actor,
    at: datetime | None = None,
) -> ReturnRequest:
    """Count units in at ``location``: restocked ones go back on hand (a ``return_restock``
    ledger movement) and are available again; quarantined and disposed ones are counted on
    the return and never become stock. The order's lines count them as ``returned``."""
    when = at or utcnow()
    if not units:
        raise InvalidRequest("Name the units received", [FieldError("#/lines", "required")])

    def attempt() -> ReturnRequest:
        with uow_factory() as uow:
            locked = lock_order_returns(uow, tenant_id, return_id)
            order, request = locked.order, locked.request
            request.receive([(u.line_no, u.disposition, u.quantity) for u in units], at=when)
            restock = units_to_put_back(uow, order, location, units)
            for unit in units:
                order.line(unit.line_no).returned += unit.quantity
            record_step(
                order,
                request,
                "return.received",
                actor,
                when,
                location=location,
                received=[
                    {
                        "line_no": u.line_no,
                        "quantity": u.quantity,
                        "disposition": u.disposition.value,
                    }
                    for u in units
                ],
                restocked=restock.units,
            )
            if request.exchange_order_id is not None:
                release_replacement(uow, request, locked.policy, actor=actor, at=when)
            uow.returns.save(request)
            save_order_changes(uow, order, at=when)
            # Last: the levels' rows stay locked from here to the commit (return_stock).
            put_back(uow, order, request, restock, actor=actor, at=when)
            uow.commit()
            return request

    return retry_transient(attempt)


def refund_return(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    tenant_id: UUID,
    return_id: UUID,
    actor: Actor,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> ReturnRequest:
    """Pay a return back through the gateways of the order's captures (newest first), the
    amount computed here (``oms.domain.refunds``), never given; a store-credit return
    credits the customer's store-credit ledger instead of a gateway. A second refund of the
    same return is refused (409) unless it repeats the first one's Idempotency-Key, which
    answers the refunded return."""
    when = at or utcnow()

    def attempt() -> ReturnRequest:
        with uow_factory() as uow:
            # A refunded return stays refunded: its repeat (or 409) is answered as read,
            # without locking the order; any other state is decided after the lock.
            seen = uow.returns.get(tenant_id, return_id)
            if seen is None:
                raise NotFound(f"No return {return_id}")
            if seen.repeats_refund(idempotency_key):
                return seen
            locked = lock_order_returns(uow, tenant_id, return_id, order_id=seen.order_id)
            order, request = locked.order, locked.request
            if request.repeats_refund(idempotency_key):
                return request
            quote = _refund_quote(uow, order, request, locked.every, locked.policy)
            policies = uow.tenants.policies(tenant_id)
            if request.resolution is Resolution.STORE_CREDIT and quote.amount > 0:
                _credit_customer(uow, order, request, quote.amount, actor, when)
            if request.resolution is not Resolution.STORE_CREDIT and quote.amount > 0:
                records = run_payment(
                    order,
                    PaymentRequest(
                        PaymentKind.REFUND,
                        quote.amount,
                        idempotency_key=f"return:{request.id}",
                        return_id=request.id,
                    ),
                    gateways=order_gateways(uow, order, gateways, actor=actor, at=when),
                    policies=policies,
                    actor=actor,
                    at=when,
                )
                failed = [r for r in records if r.outcome is not PaymentOutcome.SUCCEEDED]
                if failed:
                    # The declined attempt stays on the order's timeline; the return waits.
                    save_order_changes(uow, order, at=when)
                    uow.commit()
                    raise Conflict(
                        f"The gateway did not refund: {failed[0].message or failed[0].outcome}",
                        return_id=str(request.id),
                    )
            request.mark_refunded(
                amount=quote.amount,
                fee=quote.fee,
                shipping=quote.shipping,
                key=idempotency_key,
                at=when,
            )
            record_step(
                order,
                request,
                "return.refunded",
                actor,
                when,
                amount=str(quote.amount),
                restocking_fee=str(quote.fee),
                shipping=str(quote.shipping),
                resolution=request.resolution.value,
            )
            settle_order(order, policies=policies, at=when)
            uow.returns.save(request)
            save_order_changes(uow, order, at=when)
            uow.commit()
            return request

    return retry_transient(attempt)


def _refund_quote(
    uow: UnitOfWork,
    order: Order,
    request: ReturnRequest,
    returns: list[ReturnRequest] | None = None,
    policy: ReturnPolicy | None = None,
) -> RefundQuote:
    """What refunding ``request`` now pays back (IllegalTransition when it may not be):
    the units' value by ``quote_refund``, less a label the customer pays and what an
    exchange's replacement took already. ``returns``, ``policy``: the order's returns and
    the tenant's return policy, when read."""
    if policy is None:
        policy = uow.returns.policy(request.tenant_id)
    if request.is_claim:  # lost or damaged on the way: never the customer's fee
        exempt = policy.fee_exempt_reasons | set(CLAIM_REASONS)
        policy = replace(policy, fee_exempt_reasons=frozenset(exempt))
    units = request.refund_units(policy)
    if returns is None:
        returns = uow.returns.for_order(request.tenant_id, request.order_id)
    quote = _quote(order, request, units, returns, policy)
    if request.label is not None and request.label.customer_paid:
        fee = quote.fee + request.label.cost
        amount = max(quote.amount - request.label.cost, ZERO)
        quote = replace(quote, fee=fee, amount=amount)
    if request.exchange_credit:
        # The replacement order took this much of it already.
        quote = replace(quote, amount=max(quote.amount - request.exchange_credit, ZERO))
    return quote


def preview_refund(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, return_id: UUID
) -> RefundQuote | None:
    """What refunding the return now would pay back, without paying; None when it may not
    be refunded now (not received yet, refunded already, a reshipped claim)."""
    with uow_factory(readonly=True) as uow:
        found = uow.returns.get(tenant_id, return_id)
        if found is None:
            raise NotFound(f"No return {return_id}")
        order = uow.orders.get(tenant_id, found.order_id, with_events=False)
        if order is None:
            raise NotFound(f"No order {found.order_id}")
        try:
            return _refund_quote(uow, order, found)
        except IllegalTransition:
            return None


def _credit_holder(order: Order, return_id: UUID | None = None) -> UUID:
    """The customer a store-credit return credits: 409 for an order without one (asked
    when the return is requested, so nothing is taken in that cannot be paid back)."""
    if order.customer_id is None:
        raise Conflict(
            "The order has no customer to give store credit to; refund it instead",
            **({"return_id": str(return_id)} if return_id else {}),
        )
    return order.customer_id


def _credit_customer(
    uow: UnitOfWork,
    order: Order,
    request: ReturnRequest,
    amount: Decimal,
    actor: Actor,
    at: datetime,
) -> None:
    """Credit a store-credit return's amount to the order's customer (their ledger)."""
    customer_id = _credit_holder(order, return_id=request.id)
    uow.store_credit.credit(
        credit_entry(
            tenant_id=order.tenant_id,
            customer_id=customer_id,
            currency=order.currency,
            amount=amount,
            actor=actor,
            at=at,
            return_id=request.id,
            order_id=order.id,
            note=f"return of order {order.number}",
        )
    )


def get_return(
    *, uow_factory: UnitOfWorkFactory, tenant_id: UUID, return_id: UUID
) -> ReturnRequest:
    """One return with its lines."""
    with uow_factory(readonly=True) as uow:
        found = uow.returns.get(tenant_id, return_id)
    if found is None:
        raise NotFound(f"No return {return_id}")
    return found


def list_returns(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    filters: ReturnFilter,
    before_id: UUID | None,
    limit: int,
) -> list[ReturnRequest]:
    """A page of returns, newest first (the queue: ``status=requested``)."""
    with uow_factory(readonly=True) as uow:
        return uow.returns.page(tenant_id, filters=filters, before_id=before_id, limit=limit)


def order_return_status(*, uow_factory: UnitOfWorkFactory, order: Order) -> OrderReturnStatus:
    """The order's ``return_status`` axis, from its lines and its open returns."""
    with uow_factory(readonly=True) as uow:
        returns = uow.returns.for_order(order.tenant_id, order.id)
    waiting = sum(1 for r in returns if r.is_open)
    return derive_order_return_status(order.lines, open_returns=waiting)


def get_policy(*, uow_factory: UnitOfWorkFactory, tenant_id: UUID) -> ReturnPolicy:
    """The tenant's return policy."""
    with uow_factory(readonly=True) as uow:
        return uow.returns.policy(tenant_id)


def put_policy(
    *,
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    policy: ReturnPolicy,
    at: datetime | None = None,
) -> ReturnPolicy:
    """Replace the tenant's return policy."""
    with uow_factory() as uow:
        uow.returns.put_policy(tenant_id, policy, at=at or utcnow())
        uow.commit()
    return policy
