"""The payments that come with an order at intake (``PlaceOrder.payment``/``payments``).

Each is recorded through the payment port in the order's own transaction, store credit
first (so a card entry without an amount authorizes only the rest, and nothing when the
credit paid it all):

* a gateway payment is authorized (``token``) and, when the channel says it already took
  it (``captured``), captured as reported;
* a ``store_credit`` payment spends the customer's balance by the rule a later payment
  with credit follows too (``oms.services.payments.pay_with_store_credit``): authorized
  and captured at once, ``amount`` defaulting to what the order owes up to the balance.
  The order must have a customer (an email) and the amount may not exceed what it owes
  (422 at the entry); a balance that does not cover it is a declined payment like a
  declined card: the order is placed and waits on ``payment_pending``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from oms.domain.orders import Actor, Order
from oms.domain.payments import PaymentKind, amount_due, kept
from oms.domain.policies import TenantPolicies
from oms.domain.store_credit import STORE_CREDIT
from oms.services.payments import (
    GatewayProvider,
    PaymentRequest,
    pay_with_store_credit,
    run_payment,
)
from oms.services.ports import UnitOfWork
from oms.services.store_credit_payments import with_store_credit

__all__ = ["ChannelPayment", "take_channel_payments"]


@dataclass(frozen=True)
class ChannelPayment:
    """A payment that came with the order: ``captured`` when the channel already took it;
    gateway ``store_credit`` spends the customer's store credit."""

    gateway: str
    amount: Decimal | None = None
    captured: bool = False
    token: str | None = None


def take_channel_payments(
    uow: UnitOfWork,
    order: Order,
    payments: tuple[tuple[str, ChannelPayment], ...],
    gateways: GatewayProvider,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
) -> GatewayProvider:
    """Record ``payments`` (each with the pointer of its entry) on ``order``; the gateways
    the rest of the intake uses (with the order's store credit, when one spends it)."""
    credit = [(p, pay) for p, pay in payments if pay.gateway == STORE_CREDIT]
    if credit:
        gateways = with_store_credit(gateways, uow.store_credit, order, actor=actor, at=at)
    for pointer, payment in credit:
        pay_with_store_credit(
            order,
            ledger=uow.store_credit,
            amount=payment.amount,
            gateways=gateways,
            policies=policies,
            actor=actor,
            at=at,
            pointer=pointer,
            optional=True,
        )
    paid_by_credit = (
        bool(credit) and amount_due(kept(order.payments), total=order.payable_total) == 0
    )
    for _, payment in payments:
        if payment.gateway != STORE_CREDIT and not (paid_by_credit and payment.amount is None):
            _take(order, payment, gateways, policies, actor, at)
    return gateways


def _take(
    order: Order,
    payment: ChannelPayment,
    gateways: GatewayProvider,
    policies: TenantPolicies,
    actor: Actor,
    at: datetime,
) -> None:
    run_payment(
        order,
        PaymentRequest(
            kind=PaymentKind.AUTHORIZATION,
            amount=payment.amount,
            gateway=payment.gateway,
            token=payment.token,
        ),
        gateways=gateways,
        policies=policies,
        actor=actor,
        at=at,
    )
    if payment.captured and order.payment_summary(at).authorized > 0:
        run_payment(
            order,
            PaymentRequest(kind=PaymentKind.CAPTURE, amount=payment.amount, reported=True),
            gateways=gateways,
            policies=policies,
            actor=actor,
            at=at,
        )
