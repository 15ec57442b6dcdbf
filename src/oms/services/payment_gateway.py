"""The payment gateway port: what oms needs from anything that moves card money.

The port belongs to the use cases (``oms.services``); every gateway in
``oms.adapters.payments`` (``manual``, ``test``, and real processors later) implements
``PaymentGateway``; the use cases talk to nothing else, and tests and the demo run on
``TestGateway`` exactly as production runs on a real adapter, like httpx's transports.

The four calls follow the life of a card payment::

    authorize ──▶ capture (partial, repeated, up to the authorized amount) ──▶ refund
        └──▶ void (release what was not captured)

``authorize``
    Ask the issuer to hold ``amount`` of ``currency`` on the card behind ``token`` (None when
    the channel already took the payment). ``reference`` is our reference for the
    attempt (a payment record id); gateways that support it use it to recognise a retry.
    A hold expires at the gateway after some days; the record keeps ``expires_at``.
``capture``
    Take ``amount`` (at most what is still held) from the hold named by
    ``authorization_reference``, the reference ``authorize`` returned.
``refund``
    Give back ``amount`` (at most what is still captured) of the capture named by
    ``capture_reference``.
``void``
    Release whatever the hold named by ``authorization_reference`` still holds.

The contract, which every implementation keeps:

* **Answers, not exceptions.** Each call returns a ``GatewayResult`` whose ``outcome`` is
  ``SUCCEEDED``, ``DECLINED`` (the issuer or gateway said no: insufficient funds, card
  blocked, capture refused) or ``FAILED`` (the gateway could not answer: timeout, outage,
  malformed request). A gateway error is an outcome to record, never an exception: a
  ``FAILED`` capture may or may not have happened, and only the stored record lets an
  operator reconcile it. Exceptions are left for programming errors.
* **Idempotency is the caller's job.** A gateway does not remember what oms asked. Before
  calling, the use case looks up the order's ``PaymentRecord`` rows (by
  ``idempotency_key``) and answers a retry from the stored record instead of calling the
  gateway again; after calling, it stores the result in the same transaction as the
  order's new payment status.
* **Rules are checked before the call.** ``oms.domain.payments.check_*`` refuse captures
  beyond the hold, refunds beyond the capture and voids of captured holds, so a gateway
  is never the one enforcing them (though a real one may also decline).
* ``reference`` in the result is the gateway's own id for what it did (needed for the next
  call on it); ``None`` when the call failed before the gateway assigned one. ``message``
  is a human-readable reason, kept on the record.
* Amounts are ``Decimal`` already at the currency's minor unit; a gateway converts them to
  whatever its API wants (minor units as integers, strings) itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from oms.domain.payments import PaymentKind, PaymentOutcome

__all__ = ["GatewayCall", "GatewayResult", "PaymentGateway"]


@dataclass(frozen=True)
class GatewayResult:
    """A gateway's answer to one call; see the module docstring for each field."""

    outcome: PaymentOutcome
    reference: str | None
    message: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome is PaymentOutcome.SUCCEEDED


@dataclass(frozen=True)
class GatewayCall:
    """One call as the in-process gateways remember it, for tests and the demo to inspect."""

    kind: PaymentKind
    reference: str
    amount: Decimal | None
    currency: str | None
    result: GatewayResult


class PaymentGateway(Protocol):
    """A payment gateway; ``name`` is what ``PaymentRecord.gateway`` stores.

    ``calls_out`` says whether its calls reach anything outside this process and the
    database (a processor's API). One that does not (``manual``: it only records what the
    channel reports) may be called in a transaction that later rolls back, so an order
    paying through it may be placed in an intake group (``intake_group.groupable``).
    """

    name: str
    calls_out: bool

    def authorize(
        self, *, amount: Decimal, currency: str, token: str | None, reference: str
    ) -> GatewayResult:
        """Hold ``amount`` on the payment method behind ``token``."""
        ...

    def capture(
        self, *, authorization_reference: str, amount: Decimal, currency: str
    ) -> GatewayResult:
        """Take ``amount`` from the hold ``authorization_reference``."""
        ...

    def refund(self, *, capture_reference: str, amount: Decimal, currency: str) -> GatewayResult:
        """Give back ``amount`` of the capture ``capture_reference``."""
        ...

    def void(self, *, authorization_reference: str) -> GatewayResult:
        """Release what the hold ``authorization_reference`` still holds."""
        ...
