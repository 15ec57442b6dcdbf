"""``ManualGateway``: payments the sales channel already took, recorded as they are reported.

When Shopify (or any channel) says an order is paid, no card is charged by oms: the money
moved elsewhere. This gateway lets those payments go through the same records and rules
as card payments. Every call succeeds; the calls are remembered in ``calls``.

References are deterministic, derived from the reference passed in and a per-instance
count of calls with it, so a replayed import produces the same references::

    authorize(reference="ord-7")                         -> "manual-ord-7-1"
    capture(authorization_reference="manual-ord-7-1")    -> "manual-ord-7-1-capture-1"
    refund(capture_reference="manual-ord-7-1-capture-1") -> "manual-ord-7-1-capture-1-refund-1"
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from oms.domain.payments import PaymentKind, PaymentOutcome
from oms.services.payment_gateway import GatewayCall, GatewayResult

__all__ = ["ManualGateway"]


class ManualGateway:
    """Records payments taken by the channel; never declines, never fails."""

    name = "manual"
    calls_out = False  # nothing leaves the process: a rolled-back call left no trace

    def __init__(self) -> None:
        self.calls: list[GatewayCall] = []
        self._counts: Counter[tuple[PaymentKind, str]] = Counter()

    def authorize(
        self, *, amount: Decimal, currency: str, token: str | None, reference: str
    ) -> GatewayResult:
        """Record a hold the channel placed; ``token`` is ignored."""
        return self._succeed(PaymentKind.AUTHORIZATION, reference, amount, currency)

    def capture(
        self, *, authorization_reference: str, amount: Decimal, currency: str
    ) -> GatewayResult:
        """Record money the channel took."""
        return self._succeed(PaymentKind.CAPTURE, authorization_reference, amount, currency)

    def refund(self, *, capture_reference: str, amount: Decimal, currency: str) -> GatewayResult:
        """Record money the channel gave back."""
        return self._succeed(PaymentKind.REFUND, capture_reference, amount, currency)

    def void(self, *, authorization_reference: str) -> GatewayResult:
        """Record a hold the channel released."""
        return self._succeed(PaymentKind.VOID, authorization_reference, None, None)

    def _succeed(
        self,
        kind: PaymentKind,
        reference: str,
        amount: Decimal | None,
        currency: str | None,
    ) -> GatewayResult:
        self._counts[kind, reference] += 1
        count = self._counts[kind, reference]
        if kind is PaymentKind.AUTHORIZATION:
            issued = f"manual-{reference}-{count}"
        else:
            issued = f"{reference}-{kind}-{count}"
        result = GatewayResult(
            outcome=PaymentOutcome.SUCCEEDED,
            reference=issued,
            message=f"{kind} reported by the channel",
        )
        self.calls.append(GatewayCall(kind, reference, amount, currency, result))
        return result
