"""Payments of an order: the records the gateways left, and the rules derived from them.

Payment state is never stored; it is derived from the order's ``PaymentRecord`` list, the
way fulfilment status is derived from line quantities. Only ``SUCCEEDED`` records count.

    authorization ──capture (partial, repeated, up to the amount)──▶ capture ──refund──▶ refund
          └──void (releases the uncaptured remainder)──▶ void

A capture or void names its authorization in ``parent_id``, a refund its capture. A capture
without a parent draws on the authorizations open when it happened, soonest to expire first;
beyond them it is a sale (money the channel took without an authorization here). A void
without a parent releases every authorization open when it happened. An authorization is
open while it is not voided, not fully captured and ``now < expires_at``.

The ``check_*`` functions are asked before the gateway is called: they refuse what the
records do not allow (``IllegalTransition``; an ``authorization_id`` not on the order is
``NotFound``), so no gateway is asked to capture money that is not held. Amounts are
refused (``InvalidRequest`` at ``#/amount``) when they are not positive or carry more
decimal places than the currency has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from uuid import UUID

from oms.domain.errors import FieldError, IllegalTransition, InvalidRequest, NotFound
from oms.domain.money import minor_units, round_money
from oms.domain.status import PaymentStatus

__all__ = [
    "PaymentKind",
    "PaymentOutcome",
    "PaymentRecord",
    "PaymentSummary",
    "amount_due",
    "check_capture",
    "check_refund",
    "check_void",
    "derive_payment_status",
    "expired_authorizations",
    "is_payment_secured",
    "kept",
    "open_authorizations",
    "payment_amount",
    "refund_due",
    "summarize",
]

ZERO = Decimal(0)


class PaymentKind(StrEnum):
    """What a payment record asked the gateway to do."""

    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"


class PaymentOutcome(StrEnum):
    """How the gateway answered; ``failed`` is a gateway error, ``declined`` a refusal."""

    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    FAILED = "failed"


@dataclass(frozen=True)
class PaymentRecord:
    """One call to a payment gateway and its answer, kept forever."""

    id: UUID
    kind: PaymentKind
    amount: Decimal
    currency: str
    outcome: PaymentOutcome
    gateway: str
    gateway_reference: str | None
    created_at: datetime
    parent_id: UUID | None = None
    expires_at: datetime | None = None
    idempotency_key: str | None = None
    message: str | None = None
    # A refund that paid a return back (oms.domain.refunds): it lowers what the order owes.
    return_id: UUID | None = None


@dataclass(frozen=True)
class PaymentSummary:
    """Totals derived from the succeeded records; ``authorized`` is what is still held."""

    authorized: Decimal
    captured: Decimal
    refunded: Decimal
    voided: Decimal

    @property
    def kept(self) -> Decimal:
        """What the captures left with the merchant after refunds."""
        return self.captured - self.refunded


def payment_amount(amount: Decimal, *, currency: str) -> Decimal:
    """``amount`` at the currency's minor unit; refuses zero, negatives and extra decimals.

    ``10.50`` EUR and ``100.00`` JPY are accepted (the value fits); ``10.505`` EUR is not.
    """
    if not amount.is_finite() or amount <= 0:
        raise InvalidRequest(
            f"A payment amount must be positive, not {amount}",
            [FieldError("#/amount", "must be greater than zero")],
        )
    digits = minor_units(currency)
    try:
        rounded = round_money(amount, currency)
    except InvalidOperation:  # more digits than Decimal's context can quantize
        rounded = None
    if rounded is None or rounded != amount:
        raise InvalidRequest(
            f"{amount} is not a {currency} amount: {currency} has {digits} decimal places",
            [FieldError("#/amount", f"{currency} amounts have at most {digits} decimal places")],
        )
    return rounded


@dataclass
class _Authorization:
    """An authorization as the replay of the records leaves it."""

    record: PaymentRecord
    captured: Decimal = ZERO
    voided: bool = False

    @property
    def remainder(self) -> Decimal:
        return max(ZERO, self.record.amount - self.captured)

    def is_expired(self, at: datetime) -> bool:
        return self.record.expires_at is not None and at >= self.record.expires_at

    def open_amount(self, at: datetime) -> Decimal:
        return ZERO if self.voided or self.is_expired(at) else self.remainder


@dataclass
class _Ledger:
    authorizations: dict[UUID, _Authorization]
    captured: Decimal = ZERO
    refunded: Decimal = ZERO
    voided: Decimal = ZERO

    def open_at(self, at: datetime) -> list[_Authorization]:
        """Authorizations still holding money at ``at``, soonest to expire first."""
        held = [a for a in self.authorizations.values() if a.open_amount(at) > 0]
        # Drawing on the soonest-expiring hold first loses the least money to expiry.
        return sorted(held, key=lambda a: (a.record.expires_at is None, a.record.expires_at))

    def open_amount(self, at: datetime) -> Decimal:
        return sum((a.open_amount(at) for a in self.authorizations.values()), ZERO)

    def acted_on(self, record: PaymentRecord) -> list[_Authorization]:
        """What a capture or void draws on: its parent, or every hold open at the time."""
        if record.parent_id is None:
            return self.open_at(record.created_at)
        parent = self.authorizations.get(record.parent_id)
        return [parent] if parent else []  # a failed or unknown parent holds nothing


def _replay(records: Sequence[PaymentRecord]) -> _Ledger:
    """Apply the succeeded records in time order (ties in list order)."""
    ledger = _Ledger({})
    ordered = sorted(enumerate(records), key=lambda item: (item[1].created_at, item[0]))
    for _, record in ordered:
        if record.outcome is not PaymentOutcome.SUCCEEDED:
            continue
        if record.kind is PaymentKind.AUTHORIZATION:
            ledger.authorizations[record.id] = _Authorization(record)
        elif record.kind is PaymentKind.CAPTURE:
            ledger.captured += record.amount
            wanted = record.amount
            for held in ledger.acted_on(record):
                # A pooled capture takes what each hold has left; any rest is a sale.
                pooled = record.parent_id is None
                taken = min(wanted, held.open_amount(record.created_at)) if pooled else wanted
                held.captured += taken
                wanted -= taken
        elif record.kind is PaymentKind.REFUND:
            ledger.refunded += record.amount
        else:
            for held in ledger.acted_on(record):
                ledger.voided += ZERO if held.voided else held.remainder
                held.voided = True
    return ledger


def _single_currency(records: Sequence[PaymentRecord], kind: PaymentKind) -> str | None:
    """The currency of the succeeded records of ``kind``; None when there are none."""
    currencies = {
        r.currency for r in records if r.kind is kind and r.outcome is PaymentOutcome.SUCCEEDED
    }
    if len(currencies) > 1:
        raise ValueError(f"Payment records mix currencies: {sorted(currencies)}")
    return next(iter(currencies), None)


def _authorization(
    records: Sequence[PaymentRecord], ledger: _Ledger, authorization_id: UUID
) -> _Authorization:
    """The succeeded authorization ``authorization_id``; NotFound or IllegalTransition."""
    held = ledger.authorizations.get(authorization_id)
    if held is not None:
        return held
    for record in records:
        if record.id == authorization_id and record.kind is PaymentKind.AUTHORIZATION:
            raise IllegalTransition(
                f"Authorization {authorization_id} {record.outcome}; it holds no money",
                authorization_id=str(authorization_id),
            )
    raise NotFound(f"No authorization {authorization_id} on this order")


def summarize(records: Sequence[PaymentRecord], *, currency: str, now: datetime) -> PaymentSummary:
    """Totals of the succeeded records, with authorizations expired at ``now`` not held.

    Raises ``ValueError`` for a succeeded record in another currency (a broken invariant).
    """
    if not records:  # an order not paid for yet: nothing to replay
        zero = round_money(ZERO, currency)
        return PaymentSummary(authorized=zero, captured=zero, refunded=zero, voided=zero)
    for record in records:
        if record.outcome is PaymentOutcome.SUCCEEDED and record.currency != currency:
            raise ValueError(f"Payment {record.id} is in {record.currency}, not {currency}")
    ledger = _replay(records)
    return PaymentSummary(
        authorized=round_money(ledger.open_amount(now), currency),
        captured=round_money(ledger.captured, currency),
        refunded=round_money(ledger.refunded, currency),
        voided=round_money(ledger.voided, currency),
    )


def derive_payment_status(summary: PaymentSummary, *, total: Decimal) -> PaymentStatus:
    """The payment status of an order owing ``total``; total over every summary.

    First match wins: (1) anything refunded: ``refunded`` when refunds reach the captured
    amount, else ``partially_refunded``; (2) anything captured: ``paid`` when it reaches the
    total, else ``partially_paid``; (3) an open authorization covering the total:
    ``authorized``; (4) something voided and nothing held: ``voided``; (5) ``pending`` --
    nothing yet, a hold short of the total, or only expired holds.
    """
    if summary.refunded > 0:
        if summary.refunded >= summary.captured:
            return PaymentStatus.REFUNDED
        return PaymentStatus.PARTIALLY_REFUNDED
    if summary.captured > 0:
        if summary.captured >= total:
            return PaymentStatus.PAID
        return PaymentStatus.PARTIALLY_PAID
    if summary.authorized > 0 and summary.authorized >= total:
        return PaymentStatus.AUTHORIZED
    if summary.voided > 0 and summary.authorized <= 0:
        return PaymentStatus.VOIDED
    return PaymentStatus.PENDING


def kept(records: Sequence[PaymentRecord]) -> Decimal:
    """Succeeded captures less succeeded refunds: ``summarize(...).kept`` without replaying
    the authorizations (captures and refunds do not expire)."""
    total = ZERO
    for record in records:
        if record.outcome is PaymentOutcome.SUCCEEDED:
            if record.kind is PaymentKind.CAPTURE:
                total += record.amount
            elif record.kind is PaymentKind.REFUND:
                total -= record.amount
    return total


def amount_due(kept: Decimal, *, total: Decimal) -> Decimal:
    """What the order still owes: ``total`` less the captures it ``kept`` (never negative).

    Open authorizations do not pay it; they are what a capture may draw on."""
    return max(ZERO, total - kept)


def refund_due(kept: Decimal, *, total: Decimal) -> Decimal:
    """What the order is owed back: the captures it ``kept`` beyond ``total`` (never
    negative). It happens when the total falls after a capture (a cancellation, an edit,
    lines cancelled); ``amount_due`` and ``refund_due`` are never both above zero."""
    return max(ZERO, kept - total)


def is_payment_secured(summary: PaymentSummary, *, total: Decimal) -> bool:
    """True when open holds plus kept captures cover ``total`` (a zero total always is)."""
    return summary.authorized + summary.captured - summary.refunded >= total


def open_authorizations(
    records: Sequence[PaymentRecord], *, now: datetime
) -> list[tuple[PaymentRecord, Decimal]]:
    """Each authorization still holding money at ``now`` and how much, soonest to expire first.

    A capture without ``authorization_id`` is split over these, in this order.
    """
    return [(held.record, held.open_amount(now)) for held in _replay(records).open_at(now)]


def check_capture(
    records: Sequence[PaymentRecord],
    *,
    authorization_id: UUID | None,
    amount: Decimal,
    now: datetime,
    owed: Decimal | None = None,
) -> None:
    """Refuse a capture beyond the open authorized amount (of ``authorization_id`` if given),
    or beyond ``owed``, what the order still owes (``amount_due``) when it is given.

    Partial captures are allowed, several of them, up to the authorized amount.
    """
    ledger = _replay(records)
    if authorization_id is None:
        currency = _single_currency(records, PaymentKind.AUTHORIZATION)
        if currency is None:
            raise IllegalTransition("Nothing is authorized, so nothing can be captured")
        payment_amount(amount, currency=currency)
        available = ledger.open_amount(now)
    else:
        held = _authorization(records, ledger, authorization_id)
        payment_amount(amount, currency=held.record.currency)
        if held.voided:
            raise IllegalTransition(f"Authorization {authorization_id} was voided")
        if held.is_expired(now):
            raise IllegalTransition(f"Authorization {authorization_id} has expired")
        available = held.remainder
    if amount > available:
        raise IllegalTransition(
            f"Cannot capture {amount}: only {available} is authorized and not yet captured",
            capturable=str(available),
        )
    if owed is not None and amount > owed:
        raise IllegalTransition(
            f"Cannot capture {amount}: the order owes only {owed}", capturable=str(owed)
        )


def check_refund(
    records: Sequence[PaymentRecord],
    *,
    amount: Decimal,
    now: datetime,  # noqa: ARG001 -- same signature as the other checks; captures do not expire
) -> None:
    """Refuse a refund of more than was captured and not yet refunded."""
    ledger = _replay(records)
    currency = _single_currency(records, PaymentKind.CAPTURE)
    if currency is None:
        raise IllegalTransition("Nothing has been captured, so nothing can be refunded")
    payment_amount(amount, currency=currency)
    refundable = ledger.captured - ledger.refunded
    if amount > refundable:
        raise IllegalTransition(
            f"Cannot refund {amount}: only {refundable} is captured and not yet refunded",
            refundable=str(refundable),
        )


def check_void(
    records: Sequence[PaymentRecord], *, authorization_id: UUID | None, now: datetime
) -> None:
    """Refuse voiding an authorization that is voided, fully captured or expired at ``now``.

    Without ``authorization_id`` every open authorization is voided; refused when none is.
    """
    ledger = _replay(records)
    if authorization_id is None:
        if not ledger.open_at(now):
            raise IllegalTransition("No authorization is open, so nothing can be voided")
        return
    held = _authorization(records, ledger, authorization_id)
    if held.voided:
        raise IllegalTransition(f"Authorization {authorization_id} is already voided")
    if held.remainder <= 0:
        raise IllegalTransition(f"Authorization {authorization_id} is captured; refund instead")
    if held.is_expired(now):
        raise IllegalTransition(f"Authorization {authorization_id} has expired; nothing is held")


def expired_authorizations(
    records: Sequence[PaymentRecord], *, now: datetime
) -> list[PaymentRecord]:
    """Succeeded, unvoided authorizations past ``expires_at`` with an uncaptured remainder."""
    return [
        held.record
        for held in _replay(records).authorizations.values()
        if not held.voided and held.remainder > 0 and held.is_expired(now)
    ]
