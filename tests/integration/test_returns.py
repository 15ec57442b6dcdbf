"""Returns end to end on both databases: request, approve, receive into stock, refund."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from threading import Barrier
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.errors import IllegalTransition, InvalidRequest
from oms.domain.inventory import MovementKind
from oms.domain.payments import PaymentKind, PaymentOutcome
from oms.domain.pricing import DiscountCode, DiscountKind
from oms.domain.returns import (
    Disposition,
    OrderReturnStatus,
    Resolution,
    ReturnPolicy,
    ReturnStatus,
    WantedLine,
)
from oms.services import returns
from oms.services.claims import ClaimedUnits, open_claim
from oms.services.exchanges import ExchangeRefused
from oms.services.orders import cancel_order, get_order
from oms.services.policies import update_policies
from oms.services.return_labels import buy_return_label
from oms.services.return_records import ReturnFilter
from tests.builders import TESTER, order_of, place, set_stock
from tests.integration.returns_support import (
    CARRIERS,
    SHIPPED_AT,
    add_code,
    assert_books_balance,
    open_shop,
    returns_engine,
    shipped_order,
    stock_at_near,
)
from tests.integration.test_routing import COLOGNE

__all__ = ["returns_engine"]

LATER = SHIPPED_AT + timedelta(days=5)


@pytest.fixture
def uow_factory(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    return open_shop(uow_factory, tenant_id)


def _request(
    uow_factory: SqlUnitOfWorkFactory,
    shop: UUID,
    order_id: UUID,
    *lines: tuple[int, int, str],
    key: str | None = None,
) -> returns.ReturnRequest:
    found, _ = returns.request_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order_id,
        command=returns.NewReturn(tuple(WantedLine(n, q, r) for n, q, r in lines)),
        actor=TESTER,
        idempotency_key=key,
        at=LATER,
    )
    return found


def _receive(
    uow_factory: SqlUnitOfWorkFactory,
    shop: UUID,
    return_id: UUID,
    *units: tuple[int, int, Disposition],
) -> returns.ReturnRequest:
    return returns.receive_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=return_id,
        location="NEAR",
        units=[returns.ReceivedUnits(n, q, d) for n, q, d in units],
        actor=TESTER,
        at=LATER + timedelta(days=1),
    )


def _refund(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, return_id: UUID, key: str | None = None
) -> returns.ReturnRequest:
    return returns.refund_return(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=shop,
        return_id=return_id,
        actor=TESTER,
        idempotency_key=key,
        at=LATER + timedelta(days=2),
    )


def test_a_change_of_mind_waits_for_approval_and_a_defect_is_approved_at_once(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 2), ("Y", 1))
    mind = _request(uow_factory, shop, order.id, (1, 1, "changed_mind"))
    defect = _request(uow_factory, shop, order.id, (2, 1, "defective"))
    assert (mind.status, defect.status) == (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)
    queue = returns.list_returns(
        uow_factory=uow_factory,
        tenant_id=shop,
        filters=ReturnFilter(status=ReturnStatus.REQUESTED),
        before_id=None,
        limit=10,
    )
    assert [r.id for r in queue] == [mind.id]
    by_reason = returns.list_returns(
        uow_factory=uow_factory,
        tenant_id=shop,
        filters=ReturnFilter(reason="defective"),
        before_id=None,
        limit=10,
    )
    assert [r.id for r in by_reason] == [defect.id]
    events = [
        e.type for e in get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id).events
    ]
    assert events[-3:] == ["return.requested", "return.requested", "return.approved"]


def test_units_already_asked_for_cannot_be_asked_for_again(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 2))
    _request(uow_factory, shop, order.id, (1, 2, "changed_mind"))
    with pytest.raises(InvalidRequest):
        _request(uow_factory, shop, order.id, (1, 1, "changed_mind"))


def test_restock_makes_units_available_and_quarantine_does_not_and_the_books_balance(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 3))
    before = stock_at_near(uow_factory, shop, "X")
    request = _request(uow_factory, shop, order.id, (1, 3, "defective"))
    done = _receive(
        uow_factory, shop, request.id, (1, 2, Disposition.RESTOCK), (1, 1, Disposition.QUARANTINE)
    )
    assert done.status is ReturnStatus.RECEIVED
    assert stock_at_near(uow_factory, shop, "X") == (before[0] + 2, before[1] + 2)
    with uow_factory(readonly=True) as uow:
        (level,) = uow.inventory.levels(shop, ["X"])
        moves = uow.inventory.movements(
            shop, "X", location_id=level.location_id, after_id=None, limit=100
        )
    assert (moves[-1].kind, moves[-1].quantity) == (MovementKind.RETURN_RESTOCK, 2)
    assert_books_balance(uow_factory, shop)
    after = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
    assert after.lines[0].returned == 3
    assert returns.order_return_status(uow_factory=uow_factory, order=after) is (
        OrderReturnStatus.RETURNED
    )


def test_a_partial_return_of_a_discounted_order_refunds_its_share_and_the_order_owes_nothing(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    add_code(
        uow_factory,
        shop,
        DiscountCode(
            id=UUID(int=0),
            code="SEVEN",
            kind=DiscountKind.FIXED_AMOUNT,
            value=Decimal("7.00"),
            currency="EUR",
        ),
    )
    order = shipped_order(uow_factory, shop, ("X", 3), ("Z", 1), codes=("SEVEN",))
    line = order.line(1)
    assert line.discount > 0
    request = _request(uow_factory, shop, order.id, (1, 1, "defective"))
    _receive(uow_factory, shop, request.id, (1, 1, Disposition.RESTOCK))
    refunded = _refund(uow_factory, shop, request.id)
    share = (line.total("EUR") / 3).quantize(Decimal("0.01"))
    assert refunded.refund_amount == share
    after = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
    refunds = [p for p in after.payments if p.kind is PaymentKind.REFUND]
    assert [(p.amount, p.return_id, p.outcome) for p in refunds] == [
        (share, request.id, PaymentOutcome.SUCCEEDED)
    ]
    assert after.refund_due() == 0
    assert after.payment_secured(LATER)
    assert not after.open_holds


def test_a_full_return_refunds_the_whole_capture_once(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 1), ("Y", 2))
    captured = sum(p.amount for p in order.payments if p.kind is PaymentKind.CAPTURE)
    first = _request(uow_factory, shop, order.id, (2, 1, "damaged"))
    second = _request(uow_factory, shop, order.id, (1, 1, "damaged"), (2, 1, "damaged"))
    _receive(uow_factory, shop, first.id, (2, 1, Disposition.DISPOSE))
    _receive(uow_factory, shop, second.id, (1, 1, Disposition.RESTOCK), (2, 1, Disposition.RESTOCK))
    amounts = [
        _refund(uow_factory, shop, r.id, key=f"k-{r.id}").refund_amount for r in (first, second)
    ]
    assert sum(a or 0 for a in amounts) == captured == order.total
    again = _refund(uow_factory, shop, second.id, key=f"k-{second.id}")
    assert again.refund_amount == amounts[1]
    with pytest.raises(IllegalTransition, match="refunded already"):
        _refund(uow_factory, shop, second.id, key="another key")
    after = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
    assert after.payment_status.value == "refunded"
    assert_books_balance(uow_factory, shop)


def test_a_return_is_refunded_only_after_receipt_and_a_fee_is_kept(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    returns.put_policy(
        uow_factory=uow_factory,
        tenant_id=shop,
        policy=ReturnPolicy(restocking_fee_percent=Decimal(10)),
    )
    order = shipped_order(uow_factory, shop, ("Z", 2))
    request = _request(uow_factory, shop, order.id, (1, 1, "changed_mind"))
    returns.approve_return(
        uow_factory=uow_factory, tenant_id=shop, return_id=request.id, actor=TESTER, at=LATER
    )
    with pytest.raises(IllegalTransition, match="once its units are received"):
        _refund(uow_factory, shop, request.id)
    _receive(uow_factory, shop, request.id, (1, 1, Disposition.RESTOCK))
    refunded = _refund(uow_factory, shop, request.id)
    assert (refunded.refund_amount, refunded.restocking_fee) == (Decimal("27.00"), Decimal("3.00"))


def test_a_rejected_return_frees_its_units_for_another_request(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 1))
    request = _request(uow_factory, shop, order.id, (1, 1, "changed_mind"))
    rejected = returns.reject_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=request.id,
        actor=TESTER,
        note="worn",
        at=LATER,
    )
    assert rejected.status is ReturnStatus.REJECTED
    assert _request(uow_factory, shop, order.id, (1, 1, "defective")).status is (
        ReturnStatus.APPROVED
    )


def test_a_repeated_request_with_its_key_makes_no_second_return(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 2))
    first = _request(uow_factory, shop, order.id, (1, 1, "changed_mind"), key="rma-1")
    again = _request(uow_factory, shop, order.id, (1, 1, "changed_mind"), key="rma-1")
    assert again.id == first.id


def test_ten_refunds_of_one_return_at_once_make_one_refund(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, returns_engine: Engine
) -> None:
    if returns_engine.dialect.name != "postgresql":
        pytest.skip("a race needs PostgreSQL's concurrent writers")
    order = shipped_order(uow_factory, shop, ("Z", 2))
    request = _request(uow_factory, shop, order.id, (1, 1, "defective"))
    _receive(uow_factory, shop, request.id, (1, 1, Disposition.RESTOCK))
    start = Barrier(10)

    def refund(n: int) -> str:
        start.wait()
        try:
            _refund(uow_factory, shop, request.id, key=f"client-{n}")
        except IllegalTransition:
            return "refused"
        return "refunded"

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(refund, range(10)))
    assert sorted(outcomes) == ["refunded"] + ["refused"] * 9
    after = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
    refunds = [p for p in after.payments if p.kind is PaymentKind.REFUND]
    assert [p.amount for p in refunds] == [Decimal("30.00")]


@pytest.mark.parametrize(
    ("overpayment", "refunded", "flagged"),
    [
        ("refund", Decimal("20.00"), []),
        ("review", Decimal(0), ["refund_due"]),
    ],
)
def test_a_cancelled_paid_order_is_refunded_or_flagged_never_kept_silently(
    uow_factory: SqlUnitOfWorkFactory,
    shop: UUID,
    overpayment: str,
    refunded: Decimal,
    flagged: list[str],
) -> None:
    update_policies(uow_factory=uow_factory, tenant_id=shop, raw={"overpayment": overpayment})
    placed = place(uow_factory, shop, replace(order_of(("X", 2)), shipping_address=COLOGNE))
    assert placed.order.payment_status.value == "paid"
    cancelled = cancel_order(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=placed.order.id,
        actor=TESTER,
        gateways=gateway_named,
        at=LATER,
    )
    refunds = sum(
        (
            p.amount
            for p in cancelled.payments
            if p.kind is PaymentKind.REFUND and p.outcome is PaymentOutcome.SUCCEEDED
        ),
        Decimal(0),
    )
    assert refunds == refunded
    assert [h.reason.value for h in cancelled.open_holds] == flagged


def _exchange(
    uow_factory: SqlUnitOfWorkFactory,
    shop: UUID,
    order_id: UUID,
    line: tuple[int, int, str],
    *wanted: tuple[str, int],
) -> returns.ReturnRequest:
    found, _ = returns.request_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        order_id=order_id,
        command=returns.NewReturn(
            (WantedLine(*line),),
            Resolution.EXCHANGE,
            exchange_lines=tuple(returns.ExchangeLine(s, q) for s, q in wanted),
        ),
        actor=TESTER,
        at=LATER,
        gateways=gateway_named,
    )
    return found


def test_an_exchange_in_stock_is_reserved_at_once_and_the_difference_refunded(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("Y", 1))  # 15.00, exchanged for X at 10.00
    before = stock_at_near(uow_factory, shop, "X")
    request = _exchange(uow_factory, shop, order.id, (1, 1, "wrong_size"), ("X", 1))
    assert request.exchange_order_id is not None
    assert request.exchange_credit == Decimal("10.00")
    replacement = get_order(
        uow_factory=uow_factory, tenant_id=shop, order_id=request.exchange_order_id
    )
    assert (replacement.lines[0].sku, replacement.lines[0].allocated) == ("X", 1)
    assert replacement.payment_status.value == "paid"
    assert stock_at_near(uow_factory, shop, "X")[1] == before[1] - 1
    returns.approve_return(
        uow_factory=uow_factory, tenant_id=shop, return_id=request.id, actor=TESTER, at=LATER
    )
    _receive(uow_factory, shop, request.id, (1, 1, Disposition.RESTOCK))
    assert _refund(uow_factory, shop, request.id).refund_amount == Decimal("5.00")
    assert_books_balance(uow_factory, shop)


def test_an_exchange_costing_more_leaves_the_difference_to_pay(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 1))  # 10.00, exchanged for Z at 30.00
    request = _exchange(uow_factory, shop, order.id, (1, 1, "wrong_size"), ("Z", 1))
    assert request.exchange_order_id is not None
    replacement = get_order(
        uow_factory=uow_factory, tenant_id=shop, order_id=request.exchange_order_id
    )
    assert replacement.payment_status.value == "partially_paid"
    assert [h.reason.value for h in replacement.open_holds] == ["payment_pending"]


@pytest.mark.parametrize("policy", ["refuse", "backorder"])
def test_an_exchange_for_a_size_out_of_stock_is_refused_or_backordered_by_policy(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, policy: str
) -> None:
    returns.put_policy(
        uow_factory=uow_factory,
        tenant_id=shop,
        policy=ReturnPolicy.from_dict({"exchange_out_of_stock": policy}),
    )
    order = shipped_order(uow_factory, shop, ("X", 1))
    with uow_factory() as uow:
        (level,) = uow.inventory.levels(shop, ["Z"])
    set_stock(uow_factory, shop, "Z", "NEAR", level.reserved)
    if policy == "refuse":
        with pytest.raises(ExchangeRefused, match=r"out of stock: Z \(0 available\)"):
            _exchange(uow_factory, shop, order.id, (1, 1, "wrong_size"), ("Z", 1))
        assert (
            returns.list_returns(
                uow_factory=uow_factory,
                tenant_id=shop,
                filters=ReturnFilter(order_id=order.id),
                before_id=None,
                limit=5,
            )
            == []
        )
    else:
        request = _exchange(uow_factory, shop, order.id, (1, 1, "wrong_size"), ("Z", 1))
        assert request.exchange_order_id is not None
        replacement = get_order(
            uow_factory=uow_factory, tenant_id=shop, order_id=request.exchange_order_id
        )
        assert replacement.lines[0].backordered == 1


def test_rejecting_an_exchange_cancels_its_replacement_and_frees_the_stock(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 1))
    before = stock_at_near(uow_factory, shop, "Y")
    request = _exchange(uow_factory, shop, order.id, (1, 1, "changed_mind"), ("Y", 1))
    returns.reject_return(
        uow_factory=uow_factory,
        tenant_id=shop,
        return_id=request.id,
        actor=TESTER,
        note="worn",
        at=LATER,
        gateways=gateway_named,
    )
    assert request.exchange_order_id is not None
    replacement = get_order(
        uow_factory=uow_factory, tenant_id=shop, order_id=request.exchange_order_id
    )
    assert replacement.status.value == "cancelled"
    assert stock_at_near(uow_factory, shop, "Y") == before
    assert_books_balance(uow_factory, shop)


@pytest.mark.parametrize("customer_pays", [False, True])
def test_a_return_label_is_bought_once_and_comes_off_the_refund_when_the_customer_pays(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, customer_pays: bool
) -> None:
    returns.put_policy(
        uow_factory=uow_factory,
        tenant_id=shop,
        policy=ReturnPolicy(customer_pays_label=customer_pays),
    )
    order = shipped_order(uow_factory, shop, ("Z", 1))
    request = _request(uow_factory, shop, order.id, (1, 1, "defective"))
    labelled = buy_return_label(
        uow_factory=uow_factory,
        carriers=CARRIERS,
        tenant_id=shop,
        return_id=request.id,
        location="NEAR",
        actor=TESTER,
        at=LATER,
    )
    again = buy_return_label(
        uow_factory=uow_factory,
        carriers=CARRIERS,
        tenant_id=shop,
        return_id=request.id,
        location="NEAR",
        actor=TESTER,
        at=LATER,
    )
    assert labelled.label is not None
    assert again.label == labelled.label
    assert labelled.label.carrier == "acme"
    assert labelled.label.cost > 0
    _receive(uow_factory, shop, request.id, (1, 1, Disposition.RESTOCK))
    refunded = _refund(uow_factory, shop, request.id)
    expected = Decimal("30.00") - (labelled.label.cost if customer_pays else 0)
    assert refunded.refund_amount == expected


def test_a_lost_parcel_is_reshipped_at_no_charge_and_its_units_cannot_be_returned(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    order = shipped_order(uow_factory, shop, ("X", 2))
    claim = open_claim(
        uow_factory=uow_factory,
        gateways=gateway_named,
        tenant_id=shop,
        order_id=order.id,
        units=[ClaimedUnits(1, 2)],
        damaged=False,
        resolution=Resolution.RESHIP,
        actor=TESTER,
        at=LATER,
    )
    assert claim.is_claim
    assert claim.exchange_order_id is not None
    reship = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=claim.exchange_order_id)
    assert (reship.total, reship.lines[0].sku, reship.lines[0].allocated) == (Decimal(0), "X", 2)
    assert reship.released_at is not None
    with pytest.raises(InvalidRequest):
        _request(uow_factory, shop, order.id, (1, 1, "changed_mind"))
    with pytest.raises(IllegalTransition, match="reshipment"):
        _refund(uow_factory, shop, claim.id)


def test_a_damaged_parcel_is_refunded_at_once_without_a_fee_and_once_per_key(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    returns.put_policy(
        uow_factory=uow_factory,
        tenant_id=shop,
        policy=ReturnPolicy(restocking_fee_percent=Decimal(20)),
    )
    order = shipped_order(uow_factory, shop, ("Z", 1), ("X", 1))

    def claim() -> returns.ReturnRequest:
        return open_claim(
            uow_factory=uow_factory,
            gateways=gateway_named,
            tenant_id=shop,
            order_id=order.id,
            units=[ClaimedUnits(1, 1)],
            damaged=True,
            resolution=Resolution.REFUND,
            actor=TESTER,
            at=LATER,
            idempotency_key="claim-1",
        )

    first, again = claim(), claim()
    assert again.id == first.id
    assert (first.status, first.refund_amount, first.restocking_fee) == (
        ReturnStatus.REFUNDED,
        Decimal("30.00"),
        Decimal("0.00"),
    )
    after = get_order(uow_factory=uow_factory, tenant_id=shop, order_id=order.id)
    assert [p.amount for p in after.payments if p.kind is PaymentKind.REFUND] == [Decimal("30.00")]
    assert after.refund_due() == 0
