"""Store credit as a payment gateway, inside the order's own transaction.

The payment port (``oms.services.payment_gateway``) stands for outside systems; store credit
is oms' own ledger (``oms.services.store_credit``), so its "gateway" is built per order on
the unit of work and debits or credits the ledger in the same transaction as the order's
payment records. ``with_store_credit`` wraps a use case's ``GatewayProvider`` so that the
name ``store_credit`` answers with it and every other name with the real gateways:

``authorize``  spends the amount from the order's customer's balance (one conditional
               statement: two orders at once never spend more than the balance);
               ``DECLINED`` when the balance does not cover it, nothing written.
``capture``    succeeds: the credit was taken at authorization (intake captures at once).
``refund``     credits the amount back to the customer, linked to the order.
``void``       ``FAILED``: a store-credit authorization is captured at once, so nothing is
               ever held to release.

How much an order spends is one rule, ``credit_to_spend``, at intake and afterwards
(``oms.services.payments.pay_with_store_credit`` records it): what was asked, at most what
the order still has open, or by default what is open up to the balance.

The use cases that may refund an order (intake, cancel, edit, pay, return refunds) wrap
their provider; one that does not, and so finds no ``store_credit`` gateway, refuses with
the registry's 422 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import overload

from oms.domain.errors import Conflict, FieldError, IllegalTransition, InvalidRequest
from oms.domain.lifecycle import OrderAction, ensure_allowed
from oms.domain.orders import Actor, Order
from oms.domain.payments import PaymentOutcome, amount_due, kept
from oms.domain.store_credit import STORE_CREDIT
from oms.services.payment_gateway import GatewayResult, PaymentGateway
from oms.services.ports import UnitOfWork
from oms.services.store_credit import StoreCreditRepository, credit_entry

__all__ = ["StoreCreditGateway", "credit_to_spend", "order_gateways", "with_store_credit"]

GatewayProvider = Callable[[str], PaymentGateway]  # as oms.services.payments names it


class StoreCreditGateway:
    """The ledger of ``order``'s customer behind the payment port (module docstring)."""

    name = STORE_CREDIT
    calls_out = False  # the ledger is in the order's own transaction

    def __init__(
        self, ledger: StoreCreditRepository, order: Order, *, actor: Actor, at: datetime
    ) -> None:
        self._ledger = ledger
        self._order = order
        self._actor = actor
        self._at = at

    def _move(self, amount: Decimal, note: str) -> GatewayResult:
        customer_id = self._order.customer_id
        if customer_id is None:
            return GatewayResult(PaymentOutcome.FAILED, None, "the order has no customer")
        entry = credit_entry(
            tenant_id=self._order.tenant_id,
            customer_id=customer_id,
            currency=self._order.currency,
            amount=amount,
            actor=self._actor,
            at=self._at,
            order_id=self._order.id,
            note=f"{note} order {self._order.number}",
        )
        if amount > 0:
            self._ledger.credit(entry)
        elif not self._ledger.spend(entry):
            return GatewayResult(
                PaymentOutcome.DECLINED,
                None,
                f"the customer's store credit does not cover {-amount} {self._order.currency}",
            )
        return GatewayResult(PaymentOutcome.SUCCEEDED, f"store-credit-{entry.id}")

    def authorize(
        self, *, amount: Decimal, currency: str, token: str | None, reference: str
    ) -> GatewayResult:
        """Spend ``amount`` of the customer's balance; declined when it does not cover it."""
        assert currency == self._order.currency
        return self._move(-amount, "spent on")

    def capture(
        self, *, authorization_reference: str, amount: Decimal, currency: str
    ) -> GatewayResult:
        """Nothing more to take: the authorization spent the credit."""
        return GatewayResult(PaymentOutcome.SUCCEEDED, f"{authorization_reference}-capture")

    def refund(self, *, capture_reference: str, amount: Decimal, currency: str) -> GatewayResult:
        """Credit ``amount`` back to the customer."""
        assert currency == self._order.currency
        return self._move(amount, "refunded from")

    def void(self, *, authorization_reference: str) -> GatewayResult:
        """Nothing is held: a store-credit authorization is captured at once."""
        return GatewayResult(PaymentOutcome.FAILED, None, "store credit is never held")


def with_store_credit(
    gateways: GatewayProvider | None,
    ledger: StoreCreditRepository,
    order: Order,
    *,
    actor: Actor,
    at: datetime,
) -> GatewayProvider:
    """``gateways`` with ``store_credit`` answered by ``order``'s customer's ledger (and,
    when ``gateways`` is None, only that)."""
    credit = StoreCreditGateway(ledger, order, actor=actor, at=at)

    def provide(name: str) -> PaymentGateway:
        if name == STORE_CREDIT:
            return credit
        if gateways is None:  # a programming error: only the credit is given back then
            raise LookupError(f"no payment gateway {name!r} in this use case")
        return gateways(name)

    return provide


def credit_to_spend(
    order: Order,
    *,
    ledger: StoreCreditRepository,
    asked: Decimal | None,
    at: datetime,
    pointer: str = "#",
    optional: bool = False,
) -> Decimal | None:
    """How much of its customer's store credit ``order`` spends: ``asked``, at most what is
    still open (owed and not held by an authorization), or by default what is open up to the
    balance. Nothing to spend is a 409 saying why, or None when ``optional`` (at intake, where
    a zero balance spends nothing). ``pointer``: where the payment is in the request body."""
    ensure_allowed(OrderAction.AUTHORIZE, order.status)
    if order.customer_id is None:
        raise InvalidRequest(
            "Store credit is a customer's: the order names no customer",
            [FieldError(f"{pointer}/gateway", "store credit needs the customer's email")],
        )
    held = order.payment_summary(at).authorized
    owed = amount_due(kept(order.payments), total=order.payable_total)
    open_ = owed - held
    if open_ <= 0 and not optional:
        raise IllegalTransition(
            f"The order owes nothing more to pay: {owed} owed, {held} of it already authorized",
            amount_due=str(owed),
        )
    if asked is not None:
        if asked > open_:
            raise InvalidRequest(
                "More store credit than the order owes",
                [FieldError(f"{pointer}/amount", f"at most what it owes ({max(open_, 0)})")],
            )
        return asked
    balance = ledger.balances(order.tenant_id, order.customer_id).get(order.currency, Decimal(0))
    amount = min(balance, open_)
    if amount > 0:
        return amount
    if optional:
        return None
    raise Conflict(f"The customer has no store credit in {order.currency}", balance="0")


@overload
def order_gateways(
    uow: UnitOfWork, order: Order, gateways: GatewayProvider, *, actor: Actor, at: datetime
) -> GatewayProvider: ...
@overload
def order_gateways(
    uow: UnitOfWork, order: Order, gateways: None, *, actor: Actor, at: datetime
) -> GatewayProvider | None: ...
def order_gateways(
    uow: UnitOfWork,
    order: Order,
    gateways: GatewayProvider | None,
    *,
    actor: Actor,
    at: datetime,
) -> GatewayProvider | None:
    """The gateways a use case acting on ``order`` uses: ``gateways``, with the order's
    store credit when it was paid (partly) with it."""
    if not any(p.gateway == STORE_CREDIT for p in order.payments):
        return gateways
    return with_store_credit(gateways, uow.store_credit, order, actor=actor, at=at)
