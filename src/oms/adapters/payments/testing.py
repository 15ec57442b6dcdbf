"""``TestGateway``: a card gateway whose answers are chosen by the token, for tests and the demo.

=========================  ===================  =================
token                      authorize            capture
=========================  ===================  =================
``None``, ``tok_approve``  succeeded            succeeded
``tok_decline``            declined             --
``tok_error``              failed (no ref)      --
``tok_decline_after_*``    succeeded            declined
anything else              failed (no ref)      --
=========================  ===================  =================

Refunds and voids of references this gateway issued succeed; a reference it did not issue
fails, as a real gateway answers an unknown id. The outcome of a capture is carried in the
authorization's reference (``...-declines-capture``) rather than in instance state, so two
instances agree, like a real gateway whose memory lives on its servers. References are
deterministic: derived from the reference passed in and a per-instance count of calls with
it (``test-ord-7-1``, ``test-ord-7-1-capture-1``). Calls are remembered in ``calls``.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from oms.domain.payments import PaymentKind, PaymentOutcome
from oms.services.payment_gateway import GatewayCall, GatewayResult

__all__ = ["TestGateway"]

APPROVE = "tok_approve"
DECLINE = "tok_decline"
ERROR = "tok_error"
DECLINE_AFTER = "tok_decline_after_"
_PREFIX = "test-"
_DECLINES_CAPTURE = "-declines-capture"


class TestGateway:
    """Deterministic fake card gateway; see the module docstring for the tokens."""

    __test__ = False  # not a pytest test class, despite the name
    name = "test"
    calls_out = True  # it stands for a processor's API

    def __init__(self) -> None:
        self.calls: list[GatewayCall] = []
        self._counts: Counter[tuple[PaymentKind, str]] = Counter()

    def authorize(
        self, *, amount: Decimal, currency: str, token: str | None, reference: str
    ) -> GatewayResult:
        """Approve, decline or fail by ``token``."""
        kind = PaymentKind.AUTHORIZATION
        issued: str | None = f"{_PREFIX}{reference}-{self._count(kind, reference)}"
        if token is None or token == APPROVE:
            outcome, message = PaymentOutcome.SUCCEEDED, "approved"
        elif token.startswith(DECLINE_AFTER):
            outcome, message = PaymentOutcome.SUCCEEDED, "approved; captures will be declined"
            issued = f"{issued}{_DECLINES_CAPTURE}"
        elif token == DECLINE:
            outcome, message = PaymentOutcome.DECLINED, "card declined"
        elif token == ERROR:
            outcome, message, issued = PaymentOutcome.FAILED, "gateway error", None
        else:
            outcome, message, issued = PaymentOutcome.FAILED, f"unknown test token {token!r}", None
        return self._answer(
            kind, reference, amount, currency, GatewayResult(outcome, issued, message)
        )

    def capture(
        self, *, authorization_reference: str, amount: Decimal, currency: str
    ) -> GatewayResult:
        """Succeed, or decline when the authorization came from a ``tok_decline_after_`` token."""
        result = self._follow_up(PaymentKind.CAPTURE, authorization_reference)
        if result.succeeded and authorization_reference.endswith(_DECLINES_CAPTURE):
            result = GatewayResult(PaymentOutcome.DECLINED, result.reference, "capture declined")
        return self._answer(PaymentKind.CAPTURE, authorization_reference, amount, currency, result)

    def refund(self, *, capture_reference: str, amount: Decimal, currency: str) -> GatewayResult:
        """Succeed for a capture this gateway issued."""
        result = self._follow_up(PaymentKind.REFUND, capture_reference)
        return self._answer(PaymentKind.REFUND, capture_reference, amount, currency, result)

    def void(self, *, authorization_reference: str) -> GatewayResult:
        """Succeed for an authorization this gateway issued."""
        result = self._follow_up(PaymentKind.VOID, authorization_reference)
        return self._answer(PaymentKind.VOID, authorization_reference, None, None, result)

    def _follow_up(self, kind: PaymentKind, reference: str) -> GatewayResult:
        if not reference.startswith(_PREFIX):
            return GatewayResult(PaymentOutcome.FAILED, None, f"no such payment {reference!r}")
        issued = f"{reference}-{kind}-{self._count(kind, reference)}"
        return GatewayResult(PaymentOutcome.SUCCEEDED, issued, f"{kind} succeeded")

    def _count(self, kind: PaymentKind, reference: str) -> int:
        self._counts[kind, reference] += 1
        return self._counts[kind, reference]

    def _answer(
        self,
        kind: PaymentKind,
        reference: str,
        amount: Decimal | None,
        currency: str | None,
        result: GatewayResult,
    ) -> GatewayResult:
        self.calls.append(GatewayCall(kind, reference, amount, currency, result))
        return result
