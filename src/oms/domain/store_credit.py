"""Store credit as a way to pay: which part of a refund goes back as credit.

An order may be paid partly with the customer's store credit (payment records of the
``store_credit`` gateway) and partly by card. Whatever is refunded of it (a return, an
edit that lowered the total, a cancellation, a refund by hand) goes back in the same
proportion as it was paid: the credit share, ``round(amount x credit kept / all kept)``,
is credited back to the customer's balance, the rest refunded through the other captures,
newest first as always. A whole refund therefore gives back exactly the credit spent, and
a partial one never more than the credit kept nor less than the card can not cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

from oms.domain.money import round_money

__all__ = ["STORE_CREDIT", "credit_share", "split_refund"]

STORE_CREDIT = "store_credit"
"""The gateway name of payments made with the customer's store credit."""

R = TypeVar("R")


def credit_share(
    *, amount: Decimal, credit_left: Decimal, other_left: Decimal, currency: str
) -> Decimal:
    """The part of refunding ``amount`` that goes back as store credit, when the order still
    keeps ``credit_left`` paid by credit and ``other_left`` paid otherwise."""
    kept = credit_left + other_left
    if kept <= 0 or credit_left <= 0:
        return Decimal(0)
    share = round_money(amount * credit_left / kept, currency)
    return max(min(share, credit_left, amount), amount - other_left, Decimal(0))


def split_refund(
    sources: Sequence[tuple[R, Decimal, bool]], amount: Decimal, currency: str
) -> list[tuple[R, Decimal]]:
    """Spread a refund of ``amount`` over captures ``(record, still kept, is credit)``, given
    newest first: the credit share over the credit captures, the rest over the others."""
    credit_left = sum((left for _, left, credit in sources if credit), Decimal(0))
    other_left = sum((left for _, left, credit in sources if not credit), Decimal(0))
    share = credit_share(
        amount=amount, credit_left=credit_left, other_left=other_left, currency=currency
    )
    parts: list[tuple[R, Decimal]] = []
    for want, of_credit in ((share, True), (amount - share, False)):
        for record, left, credit in sources:
            if credit is not of_credit or want <= 0:
                continue
            take = min(want, left)
            if take > 0:
                parts.append((record, take))
                want -= take
    return parts
