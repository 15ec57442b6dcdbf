"""Payment rules derived from gateway records, and the in-process gateways, without I/O."""

from __future__ import annotations

import itertools
from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.adapters.payments import ManualGateway, TestGateway, gateway_named
from oms.domain.errors import IllegalTransition, InvalidRequest, NotFound, OmsError
from oms.domain.money import round_money
from oms.domain.payments import (
    PaymentKind,
    PaymentOutcome,
    PaymentRecord,
    PaymentSummary,
    amount_due,
    check_capture,
    check_refund,
    check_void,
    derive_payment_status,
    expired_authorizations,
    is_payment_secured,
    kept,
    payment_amount,
    refund_due,
    summarize,
)
from oms.domain.status import PaymentStatus

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
A, B = UUID(int=1), UUID(int=2)
OK, DECLINED, FAILED = PaymentOutcome.SUCCEEDED, PaymentOutcome.DECLINED, PaymentOutcome.FAILED
_ids = itertools.count(100)


def rec(
    kind: PaymentKind,
    amount: str | Decimal = "0",
    *,
    record_id: UUID | None = None,
    of: UUID | None = None,
    outcome: PaymentOutcome = OK,
    at: datetime = NOW,
    expires_at: datetime | None = None,
    currency: str = "EUR",
) -> PaymentRecord:
    return PaymentRecord(
        id=record_id or UUID(int=next(_ids)),
        kind=kind,
        amount=Decimal(amount),
        currency=currency,
        outcome=outcome,
        gateway="test",
        gateway_reference=None,
        created_at=at,
        parent_id=of,
        expires_at=expires_at,
    )


def auth(
    amount: str,
    record_id: UUID = A,
    *,
    days: int = 7,
    outcome: PaymentOutcome = OK,
    currency: str = "EUR",
) -> PaymentRecord:
    expires_at = NOW + days * DAY
    return rec(
        PaymentKind.AUTHORIZATION,
        amount,
        record_id=record_id,
        outcome=outcome,
        expires_at=expires_at,
        currency=currency,
    )


def capture(amount: str, of: UUID | None = A, *, outcome: PaymentOutcome = OK) -> PaymentRecord:
    return rec(PaymentKind.CAPTURE, amount, of=of, outcome=outcome)


def refund(amount: str) -> PaymentRecord:
    return rec(PaymentKind.REFUND, amount)


def void(of: UUID | None = A) -> PaymentRecord:
    return rec(PaymentKind.VOID, of=of)


def totals(
    authorized: str = "0", captured: str = "0", refunded: str = "0", voided: str = "0"
) -> PaymentSummary:
    return PaymentSummary(
        Decimal(authorized), Decimal(captured), Decimal(refunded), Decimal(voided)
    )


STATUS_CASES = [
    (totals(), "100", PaymentStatus.PENDING),
    (totals(), "0", PaymentStatus.PENDING),  # a free order with nothing recorded
    (totals(authorized="60"), "100", PaymentStatus.PENDING),  # a hold short of the total
    (totals(authorized="100"), "100", PaymentStatus.AUTHORIZED),
    (totals(authorized="120"), "100", PaymentStatus.AUTHORIZED),
    (totals(voided="100"), "100", PaymentStatus.VOIDED),
    (totals(authorized="40", voided="60"), "100", PaymentStatus.PENDING),  # not every hold voided
    (totals(authorized="60", captured="40"), "100", PaymentStatus.PARTIALLY_PAID),  # capture first
    (totals(captured="40", voided="60"), "100", PaymentStatus.PARTIALLY_PAID),
    (totals(captured="100"), "100", PaymentStatus.PAID),
    (totals(captured="150"), "100", PaymentStatus.PAID),
    (totals(captured="100", refunded="30"), "100", PaymentStatus.PARTIALLY_REFUNDED),
    (totals(captured="40", refunded="10"), "100", PaymentStatus.PARTIALLY_REFUNDED),  # refund first
    (totals(captured="100", refunded="100"), "100", PaymentStatus.REFUNDED),
]


@pytest.mark.parametrize(("summary", "total", "expected"), STATUS_CASES)
def test_payment_status_follows_refunds_then_captures_then_holds(
    summary: PaymentSummary, total: str, expected: PaymentStatus
) -> None:
    assert derive_payment_status(summary, total=Decimal(total)) is expected


def test_every_payment_status_is_reachable() -> None:
    assert {expected for _, _, expected in STATUS_CASES} == set(PaymentStatus)


@pytest.mark.parametrize(
    ("summary", "total", "secured"),
    [
        (totals(authorized="100"), "100", True),
        (totals(authorized="99.99"), "100", False),
        (totals(authorized="60", captured="40"), "100", True),
        (totals(captured="100", refunded="10"), "100", False),
        (totals(voided="100"), "100", False),
        (totals(), "0", True),
    ],
)
def test_payment_is_secured_by_open_holds_plus_kept_captures(
    summary: PaymentSummary, total: str, secured: bool
) -> None:
    assert is_payment_secured(summary, total=Decimal(total)) is secured


@pytest.mark.parametrize(
    ("summary", "total", "due", "owed_back"),
    [
        (totals(), "100", "100", "0"),
        (totals(authorized="100"), "100", "100", "0"),  # held, not yet taken
        (totals(captured="60"), "100", "40", "0"),
        (totals(captured="100"), "100", "0", "0"),
        (totals(captured="100"), "0", "0", "100"),  # a cancelled order that was paid
        (totals(captured="48.94"), "24.94", "0", "24.00"),  # an edit lowered the total
        (totals(captured="48.94", refunded="24.00"), "24.94", "0", "0"),
        (totals(captured="100", refunded="30"), "100", "30", "0"),
    ],
)
def test_what_an_order_still_owes_and_what_it_is_owed_back_are_never_negative(
    summary: PaymentSummary, total: str, due: str, owed_back: str
) -> None:
    assert amount_due(summary.kept, total=Decimal(total)) == Decimal(due)
    assert refund_due(summary.kept, total=Decimal(total)) == Decimal(owed_back)


_amounts = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)


@given(_amounts, _amounts, _amounts, _amounts)
def test_the_balance_is_either_owed_or_owed_back_never_both(
    captured: Decimal, refunded: Decimal, authorized: Decimal, total: Decimal
) -> None:
    summary = PaymentSummary(authorized, captured, refunded, Decimal(0))
    due = amount_due(summary.kept, total=total)
    back = refund_due(summary.kept, total=total)
    assert due >= 0
    assert back >= 0
    assert due == 0 or back == 0
    assert captured - refunded + due - back == total


@pytest.mark.parametrize(
    ("now", "held"),
    [(NOW, "100.00"), (NOW + 7 * DAY - timedelta(seconds=1), "100.00"), (NOW + 7 * DAY, "0.00")],
)
def test_an_authorization_is_held_until_its_expiry(now: datetime, held: str) -> None:
    assert str(summarize([auth("100")], currency="EUR", now=now).authorized) == held


def test_an_expired_authorization_keeps_what_was_captured_from_it() -> None:
    summary = summarize([auth("100"), capture("40")], currency="EUR", now=NOW + 8 * DAY)
    assert summary == totals(captured="40")


def test_only_succeeded_records_count() -> None:
    records = [
        auth("100", outcome=DECLINED),
        auth("50", B, outcome=FAILED),
        capture("50", B, outcome=FAILED),
    ]
    assert summarize(records, currency="EUR", now=NOW) == totals()


def test_a_void_releases_the_uncaptured_remainder() -> None:
    summary = summarize([auth("100"), capture("30"), void()], currency="EUR", now=NOW)
    assert summary == totals(captured="30", voided="70")


def test_a_capture_without_parent_draws_on_the_soonest_expiring_hold_first() -> None:
    records = [auth("100", B, days=7), auth("100", A, days=3), capture("130", of=None)]
    assert summarize(records, currency="EUR", now=NOW + 4 * DAY).authorized == Decimal("70")


def test_a_capture_without_any_hold_is_a_sale() -> None:
    assert summarize([capture("50", of=None)], currency="EUR", now=NOW) == totals(captured="50")


def test_records_in_another_currency_break_the_summary() -> None:
    with pytest.raises(ValueError, match="USD"):
        summarize([auth("100", currency="USD")], currency="EUR", now=NOW)


def test_partial_captures_are_accepted_up_to_the_authorized_amount() -> None:
    records = [auth("100")]
    for amount in ("30", "30", "40"):
        check_capture(records, authorization_id=A, amount=Decimal(amount), now=NOW)
        records.append(capture(amount))
    with pytest.raises(IllegalTransition):
        check_capture(records, authorization_id=A, amount=Decimal("0.01"), now=NOW)


def test_a_capture_without_authorization_id_may_use_every_open_hold() -> None:
    records = [auth("60"), auth("40", B)]
    check_capture(records, authorization_id=None, amount=Decimal("100"), now=NOW)
    with pytest.raises(IllegalTransition):
        check_capture(records, authorization_id=None, amount=Decimal("100.01"), now=NOW)


@pytest.mark.parametrize(
    ("records", "authorization_id", "amount", "now", "error"),
    [
        ([auth("100")], A, "100.01", NOW, IllegalTransition),
        ([auth("100"), capture("70")], A, "31", NOW, IllegalTransition),
        ([auth("100")], A, "10", NOW + 7 * DAY, IllegalTransition),  # expired
        ([auth("100"), void()], A, "10", NOW, IllegalTransition),
        ([auth("100", outcome=DECLINED)], A, "10", NOW, IllegalTransition),
        ([auth("100", outcome=FAILED)], A, "10", NOW, IllegalTransition),
        ([auth("100")], None, "10", NOW + 7 * DAY, IllegalTransition),
        ([], None, "10", NOW, IllegalTransition),
        ([auth("100")], B, "10", NOW, NotFound),
        ([auth("100")], A, "0", NOW, InvalidRequest),
        ([auth("100")], A, "-5", NOW, InvalidRequest),
        ([auth("100")], A, "10.001", NOW, InvalidRequest),
    ],
)
def test_a_capture_beyond_an_open_hold_is_refused(
    records: list[PaymentRecord],
    authorization_id: UUID | None,
    amount: str,
    now: datetime,
    error: type[OmsError],
) -> None:
    with pytest.raises(error):
        check_capture(records, authorization_id=authorization_id, amount=Decimal(amount), now=now)


@pytest.mark.parametrize(
    ("records", "amount"),
    [([auth("100"), capture("100")], "100"), ([auth("100"), capture("100"), refund("40")], "60")],
)
def test_a_refund_up_to_what_is_captured_and_kept_is_accepted(
    records: list[PaymentRecord], amount: str
) -> None:
    check_refund(records, amount=Decimal(amount), now=NOW)


@pytest.mark.parametrize(
    ("records", "amount", "error"),
    [
        ([auth("100"), capture("100")], "100.01", IllegalTransition),
        ([auth("100"), capture("100"), refund("40")], "60.01", IllegalTransition),
        ([auth("100")], "10", IllegalTransition),
        ([auth("100"), capture("100", outcome=DECLINED)], "10", IllegalTransition),
        ([auth("100"), capture("100")], "0", InvalidRequest),
    ],
)
def test_a_refund_of_more_than_was_captured_is_refused(
    records: list[PaymentRecord], amount: str, error: type[OmsError]
) -> None:
    with pytest.raises(error):
        check_refund(records, amount=Decimal(amount), now=NOW)


@pytest.mark.parametrize(
    ("records", "authorization_id"),
    [([auth("100")], A), ([auth("100"), capture("40")], A), ([auth("100")], None)],
)
def test_a_void_of_a_hold_with_an_uncaptured_remainder_is_accepted(
    records: list[PaymentRecord], authorization_id: UUID | None
) -> None:
    check_void(records, authorization_id=authorization_id, now=NOW)


@pytest.mark.parametrize(
    ("records", "authorization_id", "now", "error"),
    [
        ([auth("100"), capture("100")], A, NOW, IllegalTransition),
        ([auth("100"), void()], A, NOW, IllegalTransition),
        ([auth("100")], A, NOW + 7 * DAY, IllegalTransition),
        ([auth("100", outcome=DECLINED)], A, NOW, IllegalTransition),
        ([auth("100"), capture("100")], None, NOW, IllegalTransition),
        ([auth("100")], B, NOW, NotFound),
    ],
)
def test_a_void_after_capture_void_or_expiry_is_refused(
    records: list[PaymentRecord],
    authorization_id: UUID | None,
    now: datetime,
    error: type[OmsError],
) -> None:
    with pytest.raises(error):
        check_void(records, authorization_id=authorization_id, now=now)


def test_expired_authorizations_are_those_with_an_uncaptured_remainder() -> None:
    c, d = UUID(int=3), UUID(int=4)
    records = [auth("100", A, days=3), auth("50", B, days=3), capture("50", B)]
    records += [auth("10", c, days=3), void(c), auth("10", d, days=9)]
    assert [r.id for r in expired_authorizations(records, now=NOW + 4 * DAY)] == [A]
    assert expired_authorizations(records, now=NOW + 2 * DAY) == []


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("100", "JPY", "100"),
        ("100.00", "JPY", "100"),
        ("1.234", "KWD", "1.234"),
        ("10.5", "EUR", "10.50"),
    ],
)
def test_an_amount_within_the_currency_minor_unit_is_accepted(
    amount: str, currency: str, expected: str
) -> None:
    assert str(payment_amount(Decimal(amount), currency=currency)) == expected


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("100.5", "JPY"),
        ("1.2345", "KWD"),
        ("10.505", "EUR"),
        ("0", "EUR"),
        ("-1", "EUR"),
        ("NaN", "EUR"),
        ("1E+40", "EUR"),
    ],
)
def test_an_amount_with_more_digits_than_the_currency_is_refused(
    amount: str, currency: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        payment_amount(Decimal(amount), currency=currency)
    assert [e.pointer for e in refused.value.errors] == ["#/amount"]


def test_a_capture_amount_follows_the_digits_of_its_authorization_currency() -> None:
    check_capture(
        [auth("1.234", currency="KWD")], authorization_id=A, amount=Decimal("1.234"), now=NOW
    )
    with pytest.raises(InvalidRequest):
        check_capture(
            [auth("1000", currency="JPY")], authorization_id=A, amount=Decimal("10.5"), now=NOW
        )


@pytest.mark.parametrize(
    ("token", "outcome", "has_reference"),
    [
        (None, OK, True),
        ("tok_approve", OK, True),
        ("tok_decline", DECLINED, True),
        ("tok_error", FAILED, False),
        ("tok_decline_after_auth", OK, True),
        ("tok_typo", FAILED, False),
    ],
)
def test_the_test_gateway_authorizes_by_token(
    token: str | None, outcome: PaymentOutcome, has_reference: bool
) -> None:
    result = TestGateway().authorize(
        amount=Decimal("10"), currency="EUR", token=token, reference="o1"
    )
    assert (result.outcome, result.reference is not None) == (outcome, has_reference)


@pytest.mark.parametrize(
    ("token", "outcome"), [("tok_approve", OK), ("tok_decline_after_x", DECLINED)]
)
def test_the_test_gateway_declines_captures_after_a_decline_after_token(
    token: str, outcome: PaymentOutcome
) -> None:
    held = TestGateway().authorize(
        amount=Decimal("10"), currency="EUR", token=token, reference="o1"
    )
    assert held.reference is not None
    taken = TestGateway().capture(
        authorization_reference=held.reference, amount=Decimal("10"), currency="EUR"
    )
    assert taken.outcome is outcome


def test_the_test_gateway_refunds_and_voids_only_what_it_issued() -> None:
    gateway, four = TestGateway(), Decimal("4")
    held = gateway.authorize(amount=four, currency="EUR", token=None, reference="o1")
    authorization = str(held.reference)
    taken = gateway.capture(authorization_reference=authorization, amount=four, currency="EUR")
    refunded = gateway.refund(capture_reference=str(taken.reference), amount=four, currency="EUR")
    assert (taken.outcome, refunded.outcome) == (OK, OK)
    assert gateway.void(authorization_reference=authorization).outcome is OK
    assert gateway.void(authorization_reference="ch_elsewhere").outcome is FAILED


def test_gateway_references_are_deterministic() -> None:
    def references(gateway: TestGateway | ManualGateway) -> list[str | None]:
        first = gateway.authorize(amount=Decimal("5"), currency="EUR", token=None, reference="o1")
        again = gateway.authorize(amount=Decimal("5"), currency="EUR", token=None, reference="o1")
        taken = gateway.capture(
            authorization_reference=str(first.reference), amount=Decimal("5"), currency="EUR"
        )
        return [first.reference, again.reference, taken.reference]

    assert (
        references(TestGateway())
        == references(TestGateway())
        == ["test-o1-1", "test-o1-2", "test-o1-1-capture-1"]
    )
    assert references(ManualGateway()) == ["manual-o1-1", "manual-o1-2", "manual-o1-1-capture-1"]


def test_the_manual_gateway_records_every_call_as_succeeded() -> None:
    gateway = ManualGateway()
    results = [
        gateway.authorize(
            amount=Decimal("9.99"), currency="EUR", token="tok_decline", reference="o1"
        ),
        gateway.capture(
            authorization_reference="manual-o1-1", amount=Decimal("9.99"), currency="EUR"
        ),
        gateway.refund(
            capture_reference="manual-o1-1-capture-1", amount=Decimal("2"), currency="EUR"
        ),
        gateway.void(authorization_reference="manual-o1-1"),
    ]
    assert {r.outcome for r in results} == {OK}
    assert [(c.kind, c.amount) for c in gateway.calls] == [
        (PaymentKind.AUTHORIZATION, Decimal("9.99")),
        (PaymentKind.CAPTURE, Decimal("9.99")),
        (PaymentKind.REFUND, Decimal("2")),
        (PaymentKind.VOID, None),
    ]


def test_gateways_are_found_by_name_and_an_unknown_name_is_refused() -> None:
    assert isinstance(gateway_named("manual"), ManualGateway)
    assert isinstance(gateway_named("test"), TestGateway)
    with pytest.raises(InvalidRequest) as refused:
        gateway_named("stripe")
    assert [e.pointer for e in refused.value.errors] == ["#/gateway"]


@dataclass(frozen=True)
class Step:
    kind: PaymentKind | None  # None: only time passes
    percent: int  # amount as a share of what is held (capture) or captured (refund)
    target: int | None  # which authorization; None: no authorization_id
    outcome: PaymentOutcome
    hours: int  # passing before the step; authorizations expire after 72 hours


CAPTURE, REFUND, VOID = PaymentKind.CAPTURE, PaymentKind.REFUND, PaymentKind.VOID
steps = st.builds(
    Step,
    kind=st.sampled_from([PaymentKind.AUTHORIZATION, *[CAPTURE, REFUND] * 3, VOID, None]),
    percent=st.sampled_from([25, 50, 60, 100, 101]) | st.integers(1, 200),
    target=st.none() | st.integers(0, 2),
    outcome=st.sampled_from([OK, OK, OK, DECLINED, FAILED]),
    hours=st.sampled_from([0, 0, 0, 1, 80]),
)
cents = st.integers(1, 20_000)


@given(st.lists(cents, min_size=1, max_size=3), st.lists(steps, min_size=4, max_size=30), cents)
def test_operations_the_checks_accept_never_move_more_money_than_was_held(
    held: list[int], plan: list[Step], total_cents: int
) -> None:
    now = NOW
    records = [
        rec(PaymentKind.AUTHORIZATION, Decimal(c) / 100, expires_at=now + 3 * DAY) for c in held
    ]
    auth_ids = [r.id for r in records]
    for step in plan:
        now += timedelta(hours=step.hours)
        before = summarize(records, currency="EUR", now=now)
        base = before.captured if step.kind is REFUND else before.authorized or Decimal(100)
        amount = max(Decimal("0.01"), round_money(base * step.percent / 100, "EUR"))
        target = None if step.target is None else auth_ids[step.target % len(auth_ids)]
        try:
            if step.kind is PaymentKind.AUTHORIZATION:
                new = rec(step.kind, amount, outcome=step.outcome, at=now, expires_at=now + 3 * DAY)
                auth_ids.append(new.id)
            elif step.kind is CAPTURE:
                check_capture(records, authorization_id=target, amount=amount, now=now)
                new = rec(step.kind, amount, of=target, outcome=step.outcome, at=now)
            elif step.kind is REFUND:
                check_refund(records, amount=amount, now=now)
                new = rec(step.kind, amount, outcome=step.outcome, at=now)
            elif step.kind is VOID:
                check_void(records, authorization_id=target, now=now)
                new = rec(step.kind, of=target, outcome=step.outcome, at=now)
            else:
                continue
        except IllegalTransition:
            continue
        records.append(new)

        summary = summarize(records, currency="EUR", now=now)
        ever = sum(
            (r.amount for r in records if r.kind is PaymentKind.AUTHORIZATION and r.outcome is OK),
            Decimal(0),
        )
        assert summary.captured <= ever
        assert 0 <= summary.refunded <= summary.captured
        assert summary.kept == kept(records)
        assert summary.authorized >= 0
        assert summary.authorized + summary.captured + summary.voided <= ever
        total = Decimal(total_cents) / 100
        assert derive_payment_status(summary, total=total) in PaymentStatus


money = st.decimals(min_value=-10_000, max_value=10_000, places=2, allow_nan=False)


@given(money, money, money, money, money)
def test_payment_status_derivation_is_total_over_every_summary(
    authorized: Decimal, captured: Decimal, refunded: Decimal, voided: Decimal, total: Decimal
) -> None:
    a, c, r, v, t = authorized, captured, refunded, voided, total
    nothing_kept = r <= 0 and c <= 0
    holds_total = a > 0 and a >= t
    conditions = {
        PaymentStatus.REFUNDED: r > 0 and r >= c,
        PaymentStatus.PARTIALLY_REFUNDED: 0 < r < c,
        PaymentStatus.PAID: r <= 0 and c > 0 and c >= t,
        PaymentStatus.PARTIALLY_PAID: r <= 0 and 0 < c < t,
        PaymentStatus.AUTHORIZED: nothing_kept and holds_total,
        PaymentStatus.VOIDED: nothing_kept and a <= 0 and v > 0,
        PaymentStatus.PENDING: nothing_kept and not holds_total and not (a <= 0 and v > 0),
    }
    status = derive_payment_status(PaymentSummary(a, c, r, v), total=t)
    assert [s for s, holds in conditions.items() if holds] == [status]


@pytest.mark.parametrize("currency", ["EUR", "JPY", "KWD"])
def test_no_records_sum_to_the_zeros_a_declined_record_sums_to(currency: str) -> None:
    declined = auth("100", outcome=DECLINED, currency=currency)

    nothing = summarize([], currency=currency, now=NOW)
    replayed = summarize([declined], currency=currency, now=NOW)

    assert [str(v) for v in astuple(nothing)] == [str(v) for v in astuple(replayed)]
