"""Payments of an order: authorize, capture, refund, void through a gateway, each idempotent.

The rules are checked on the order's records before the gateway is asked (a capture beyond
the authorization, or beyond what the order still owes, is refused with 409 and no gateway
call); the gateway's answer, success or not, is recorded with one timeline event in the same
transaction as the order's new state. Money captured beyond the total (the order was
cancelled or lowered) is refunded by ``refund_overpayment`` when the tenant's policy says so;
what is still owed back then is a ``refund_due`` item (``persistence.settle_order``).
The in-process gateways answer at once; a gateway that calls out over the network would be
asked outside the transaction with a pending record first (not needed yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from oms.domain.errors import Conflict, FieldError, IllegalTransition, InvalidRequest, NotFound
from oms.domain.holds import HoldReason
from oms.domain.ids import new_id
from oms.domain.lifecycle import OrderAction, ensure_allowed
from oms.domain.money import round_money
from oms.domain.orders import Actor, Order
from oms.domain.payments import (
    PaymentKind,
    PaymentOutcome,
    PaymentRecord,
    amount_due,
    check_capture,
    check_refund,
    check_void,
    open_authorizations,
    payment_amount,
)
from oms.domain.policies import Overpayment, TenantPolicies
from oms.domain.store_credit import STORE_CREDIT, split_refund
from oms.services.common import retry_transient, utcnow
from oms.services.payment_gateway import GatewayResult, PaymentGateway
from oms.services.persistence import locked_order, save_order_changes, settle_order
from oms.services.ports import UnitOfWork, UnitOfWorkFactory
from oms.services.store_credit import StoreCreditRepository
from oms.services.store_credit_payments import credit_to_spend, order_gateways, with_store_credit

__all__ = [
    "GatewayProvider",
    "PaymentRequest",
    "capture_shipped_value",
    "pay",
    "pay_with_store_credit",
    "refund_overpayment",
    "run_payment",
]

GatewayProvider = Callable[[str], PaymentGateway]

_ACTION = {
    PaymentKind.AUTHORIZATION: OrderAction.AUTHORIZE,
    PaymentKind.CAPTURE: OrderAction.CAPTURE,
    PaymentKind.REFUND: OrderAction.REFUND,
    PaymentKind.VOID: OrderAction.VOID,
}
_EVENT = {
    PaymentKind.AUTHORIZATION: "payment.authorized",
    PaymentKind.CAPTURE: "payment.captured",
    PaymentKind.REFUND: "payment.refunded",
    PaymentKind.VOID: "payment.voided",
}


@dataclass(frozen=True)
class PaymentRequest:
    """One payment action; ``amount`` None means "what is left" (what the order owes, the open
    hold...). ``reported``: a payment the sales channel already took, recorded as it was
    taken even beyond what is owed (the excess is then owed back)."""

    kind: PaymentKind
    amount: Decimal | None = None
    gateway: str | None = None
    token: str | None = None
    parent_id: UUID | None = None
    idempotency_key: str | None = None
    reported: bool = False
    return_id: UUID | None = None  # a refund paying a return back (oms.services.returns)


def _succeeded(order: Order, kind: PaymentKind) -> list[PaymentRecord]:
    return [p for p in order.payments if p.kind is kind and p.outcome is PaymentOutcome.SUCCEEDED]


def _targets(
    order: Order, request: PaymentRequest, at: datetime
) -> list[tuple[PaymentRecord | None, Decimal]]:
    """Which earlier records the action acts on, and how much on each."""
    summary = order.payment_summary(at)
    owed = amount_due(summary.kept, total=order.payable_total)
    if request.kind is PaymentKind.AUTHORIZATION:
        amount = request.amount if request.amount is not None else owed - summary.authorized
        if request.amount is None and amount <= 0:
            raise IllegalTransition(
                f"The order owes nothing more to authorize: {owed} is owed and "
                f"{summary.authorized} already authorized",
                amount_due=str(owed),
            )
        return [(None, payment_amount(amount, currency=order.currency))]
    if request.kind is PaymentKind.CAPTURE:
        held = open_authorizations(order.payments, now=at)
        if request.parent_id is not None:
            held = [(r, a) for r, a in held if r.id == request.parent_id] or [
                (r, Decimal(0)) for r in order.payments if r.id == request.parent_id
            ]
        limit = None if request.reported else owed
        still_held = sum((a for _, a in held), Decimal(0))
        if request.amount is not None:
            amount = request.amount
        elif still_held == 0:
            raise IllegalTransition("Nothing authorized is left to capture", capturable="0")
        elif limit == 0:
            raise IllegalTransition("The order owes nothing, so nothing is captured")
        else:
            amount = still_held if limit is None else min(still_held, limit)
        check_capture(
            order.payments, authorization_id=request.parent_id, amount=amount, now=at, owed=limit
        )
        return _spread(held, amount)
    if request.kind is PaymentKind.REFUND:
        captures = _succeeded(order, PaymentKind.CAPTURE)
        refunded = {c.id: Decimal(0) for c in captures}
        for refund in _succeeded(order, PaymentKind.REFUND):
            if refund.parent_id in refunded:
                refunded[refund.parent_id] += refund.amount
        left = [(c, c.amount - refunded[c.id]) for c in reversed(captures)]
        if request.parent_id is not None:
            left = [(c, a) for c, a in left if c.id == request.parent_id]
            if not left:
                raise NotFound(f"No capture {request.parent_id} on this order")
        amount = (
            request.amount if request.amount is not None else sum((a for _, a in left), Decimal(0))
        )
        if amount == 0:
            raise IllegalTransition("Nothing captured is left to refund", refundable="0")
        check_refund(order.payments, amount=amount, now=at)
        # The store-credit share goes back as credit (oms.domain.store_credit).
        sources = [(c, a, c.gateway == STORE_CREDIT) for c, a in left if a > 0]
        return [(c, a) for c, a in split_refund(sources, amount, order.currency)]
    check_void(order.payments, authorization_id=request.parent_id, now=at)
    held = open_authorizations(order.payments, now=at)
    return [(r, a) for r, a in held if request.parent_id in (None, r.id)]


def _spread(
    sources: list[tuple[PaymentRecord, Decimal]], amount: Decimal
) -> list[tuple[PaymentRecord | None, Decimal]]:
    parts: list[tuple[PaymentRecord | None, Decimal]] = []
    left = amount
    for record, available in sources:
        if left <= 0:
            break
        take = min(left, available)
        if take > 0:
            parts.append((record, take))
            left -= take
    return parts


def _call(
    gateway: PaymentGateway,
    order: Order,
    request: PaymentRequest,
    parent: PaymentRecord | None,
    amount: Decimal,
) -> GatewayResult:
    reference = parent.gateway_reference if parent is not None else None
    if request.kind is PaymentKind.AUTHORIZATION:
        return gateway.authorize(
            amount=amount, currency=order.currency, token=request.token, reference=f"{order.id}"
        )
    if reference is None:
        return GatewayResult(PaymentOutcome.FAILED, None, "the earlier payment has no reference")
    if request.kind is PaymentKind.CAPTURE:
        return gateway.capture(
            authorization_reference=reference, amount=amount, currency=order.currency
        )
    if request.kind is PaymentKind.REFUND:
        return gateway.refund(capture_reference=reference, amount=amount, currency=order.currency)
    return gateway.void(authorization_reference=reference)


def run_payment(
    order: Order,
    request: PaymentRequest,
    *,
    gateways: GatewayProvider,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
) -> list[PaymentRecord]:
    """Check, ask the gateway, and record its answers on the order (one event each)."""
    if request.idempotency_key is not None:
        done = [
            p
            for p in order.payments
            if p.kind is request.kind and p.idempotency_key == request.idempotency_key
        ]
        if done:
            return done
    ensure_allowed(_ACTION[request.kind], order.status)
    records: list[PaymentRecord] = []
    for parent, amount in _targets(order, request, at):
        name = request.gateway if parent is None else parent.gateway
        if name is None:
            raise InvalidRequest("Name the payment gateway", [FieldError("#/gateway", "required")])
        result = _call(gateways(name), order, request, parent, amount)
        record = PaymentRecord(
            id=new_id(),
            kind=request.kind,
            amount=amount,
            currency=order.currency,
            outcome=result.outcome,
            gateway=name,
            gateway_reference=result.reference,
            created_at=at,
            parent_id=None if parent is None else parent.id,
            expires_at=at + policies.authorization_ttl
            if request.kind is PaymentKind.AUTHORIZATION
            else None,
            idempotency_key=request.idempotency_key if not records else None,
            message=result.message,
            return_id=request.return_id,
        )
        event = _EVENT[request.kind] if result.succeeded else f"payment.{result.outcome.value}"
        with order.change(event, actor=actor, at=at, reason=result.message) as data:
            order.add_payment(record)
            data.update(
                payment_id=str(record.id),
                kind=record.kind.value,
                amount=str(round_money(amount, order.currency)),
                gateway=name,
                outcome=record.outcome.value,
            )
        records.append(record)
    return records


def capture_shipped_value(
    order: Order,
    *,
    gateways: GatewayProvider,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
) -> Decimal:
    """Capture what the goods that left are worth and is not captured yet, as far as the
    open authorizations allow; returns the amount captured (0 when already paid)."""
    summary = order.payment_summary(at)
    # What left is paid for by the captures the order keeps (refunds gave the rest back).
    # Returns paid back are no longer owed for, though their units did leave.
    owed = order.value_shipped() - order.return_credit - summary.kept
    held = sum((amount for _, amount in open_authorizations(order.payments, now=at)), Decimal(0))
    amount = min(owed, held)
    if amount <= 0:
        return Decimal(0)
    return _moved(order, PaymentRequest(PaymentKind.CAPTURE, amount), gateways, policies, actor, at)


def _moved(
    order: Order,
    request: PaymentRequest,
    gateways: GatewayProvider,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
) -> Decimal:
    """Run ``request`` on ``order``; what the records that went through moved."""
    records = run_payment(order, request, gateways=gateways, policies=policies, actor=actor, at=at)
    return sum((r.amount for r in records if r.outcome is PaymentOutcome.SUCCEEDED), Decimal(0))


def refund_overpayment(
    order: Order,
    *,
    gateways: GatewayProvider,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
    credit_only: bool = False,
) -> Decimal:
    """Refund what was captured beyond the total, when the tenant's policy is ``refund``;
    returns the amount refunded. Once a ``refund_due`` item is open (the policy is
    ``review``, or a gateway refused) a person settles it: nothing is tried again here.
    The store-credit share of it goes back to the customer's balance whatever the policy
    (no outside money moves, so there is nothing to review); the ``refund_due`` item, if
    any, is for the rest. ``credit_only``: a use case without the gateways gives back
    only the credit."""
    due = order.refund_due()
    if due <= 0 or any(hold.reason is HoldReason.REFUND_DUE for hold in order.open_holds):
        return Decimal(0)
    if credit_only or policies.overpayment is not Overpayment.REFUND:
        return _give_back_store_credit(order, due, gateways, policies, actor, at)
    return _moved(order, PaymentRequest(PaymentKind.REFUND, due), gateways, policies, actor, at)


def _give_back_store_credit(
    order: Order,
    due: Decimal,
    gateways: GatewayProvider,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
) -> Decimal:
    """Refund only the store-credit share of ``due`` (as credit); the rest waits."""
    if due <= 0 or not any(p.gateway == STORE_CREDIT for p in order.payments):
        return Decimal(0)
    moved = Decimal(0)
    for record, amount in _targets(order, PaymentRequest(PaymentKind.REFUND, due), at):
        if record is not None and record.gateway == STORE_CREDIT:
            request = PaymentRequest(PaymentKind.REFUND, amount, parent_id=record.id)
            moved += _moved(order, request, gateways, policies, actor, at)
    return moved


def pay_with_store_credit(
    order: Order,
    *,
    ledger: StoreCreditRepository,
    amount: Decimal | None,
    gateways: GatewayProvider,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
    pointer: str = "#",
    idempotency_key: str | None = None,
    optional: bool = False,
) -> PaymentRecord | None:
    """Pay ``order`` with its customer's store credit, at intake and after: the amount
    ``credit_to_spend`` decides, authorized and captured at once through ``gateways`` (which
    answer ``store_credit``: ``with_store_credit``). Returns the authorization, ``DECLINED``
    when the balance does not cover it; None when ``optional`` and nothing was spent. An
    ``idempotency_key`` seen before answers that authorization, spending nothing again."""
    done = [
        p
        for p in order.payments
        if idempotency_key is not None
        and p.kind is PaymentKind.AUTHORIZATION
        and p.idempotency_key == idempotency_key
    ]
    if done:
        return done[0]
    spend = credit_to_spend(
        order, ledger=ledger, asked=amount, at=at, pointer=pointer, optional=optional
    )
    if spend is None:
        return None
    authorization = PaymentRequest(
        PaymentKind.AUTHORIZATION, spend, gateway=STORE_CREDIT, idempotency_key=idempotency_key
    )
    (spent,) = run_payment(
        order, authorization, gateways=gateways, policies=policies, actor=actor, at=at
    )
    if spent.outcome is PaymentOutcome.SUCCEEDED:
        capture = PaymentRequest(PaymentKind.CAPTURE, spend, parent_id=spent.id, reported=True)
        run_payment(order, capture, gateways=gateways, policies=policies, actor=actor, at=at)
    return spent


def _spend_credit_now(
    uow: UnitOfWork,
    order: Order,
    request: PaymentRequest,
    gateways: GatewayProvider,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
) -> None:
    """``pay``'s store-credit authorization: the intake's rule, a spend the balance does not
    cover (a race lost to another order included) refused with 409 and nothing written."""
    spent = pay_with_store_credit(
        order,
        ledger=uow.store_credit,
        amount=request.amount,
        gateways=with_store_credit(gateways, uow.store_credit, order, actor=actor, at=at),
        policies=policies,
        actor=actor,
        at=at,
        idempotency_key=request.idempotency_key,
    )
    if spent is not None and spent.outcome is not PaymentOutcome.SUCCEEDED:
        assert order.customer_id is not None  # pay_with_store_credit refuses it otherwise
        left = uow.store_credit.balances(order.tenant_id, order.customer_id)
        balance = round_money(left.get(order.currency, Decimal(0)), order.currency)
        raise Conflict(
            f"The customer's store credit ({balance} {order.currency}) does not cover "
            f"{spent.amount} {order.currency}",
            balance=str(balance),
        )


def pay(
    *,
    uow_factory: UnitOfWorkFactory,
    gateways: GatewayProvider,
    tenant_id: UUID,
    order_id: UUID,
    request: PaymentRequest,
    actor: Actor,
    at: datetime | None = None,
) -> Order:
    """Authorize, capture, refund or void on an order; repeating a key changes nothing."""
    when = at or utcnow()

    def attempt() -> Order:
        with uow_factory() as uow:
            order = locked_order(uow, tenant_id, order_id)
            policies = uow.tenants.policies(tenant_id)
            if request.kind is PaymentKind.AUTHORIZATION and request.gateway == STORE_CREDIT:
                _spend_credit_now(uow, order, request, gateways, policies, actor, when)
            else:
                provider = order_gateways(uow, order, gateways, actor=actor, at=when)
                run_payment(
                    order, request, gateways=provider, policies=policies, actor=actor, at=when
                )
            settle_order(order, policies=policies, at=when)
            if request.kind in {PaymentKind.AUTHORIZATION, PaymentKind.CAPTURE}:
                # Released now: digital lines were delivered, so their value is captured.
                # (A refund or a void never releases an order, nor is it taken back here.)
                capture_shipped_value(
                    order, gateways=gateways, policies=policies, actor=actor, at=when
                )
            if save_order_changes(uow, order, at=when):
                uow.commit()
            return order

    return retry_transient(attempt)
