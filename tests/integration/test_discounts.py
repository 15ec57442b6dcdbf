"""Discount codes at intake: totals, refusals that name the code, and limits under races."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from threading import Barrier
from typing import NamedTuple
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from oms.domain.errors import AlreadyExists, InvalidRequest
from oms.domain.ids import new_id
from oms.domain.pricing import DiscountCode, DiscountKind
from oms.services.discounts import create_discount_code, get_discount_code
from tests.builders import add_location, add_product, order_of, place, set_stock


def _code(uow: SqlUnitOfWorkFactory, tenant_id: UUID, code: str, **fields: object) -> UUID:
    definition = DiscountCode(
        id=UUID(int=0), code=code, kind=DiscountKind.PERCENTAGE, value=Decimal(10)
    )
    created = create_discount_code(
        uow_factory=uow, tenant_id=tenant_id, code=replace(definition, **fields)
    )
    return created.id


@pytest.fixture
def shop(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    add_location(uow_factory, tenant_id, "A")
    add_product(uow_factory, tenant_id, "X", price="19.99")
    set_stock(uow_factory, tenant_id, "X", "A", 1000)
    return tenant_id


def test_a_percentage_code_lowers_the_total_and_is_spread_over_the_lines(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    _code(uow_factory, shop, "TEN")
    order = place(uow_factory, shop, order_of(("X", 3), discount_codes=("ten",))).order
    assert order.totals is not None
    assert (order.totals.subtotal, order.totals.discount_total, order.totals.total) == (
        Decimal("59.97"),
        Decimal("6.00"),
        Decimal("53.97"),
    )
    assert order.lines[0].discount == Decimal("6.00")
    assert [c.code for c in order.discount_codes] == ["TEN"]


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"active": False}, "not active"),
        ({"ends_at": datetime(2020, 1, 1, tzinfo=UTC)}, "expired"),
        ({"min_subtotal": Decimal(500), "currency": "EUR"}, "below the minimum"),
        ({"kind": DiscountKind.FIXED_AMOUNT, "value": Decimal(5), "currency": "USD"}, "only for"),
    ],
)
def test_a_code_that_does_not_apply_is_refused_naming_it_and_nothing_is_written(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID, fields: dict[str, object], why: str
) -> None:
    _code(uow_factory, shop, "NOPE", **fields)
    with pytest.raises(InvalidRequest) as refused:
        place(uow_factory, shop, order_of(("X", 1), discount_codes=("NOPE",)))
    assert refused.value.errors[0].pointer == "#/discount_codes/0"
    assert "NOPE" in refused.value.detail
    assert why in refused.value.errors[0].detail


def test_an_unknown_code_and_a_duplicate_definition_are_refused(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        place(uow_factory, shop, order_of(("X", 1), discount_codes=("GHOST",)))
    assert "GHOST" in refused.value.errors[0].detail
    _code(uow_factory, shop, "ONCE")
    with pytest.raises(AlreadyExists):
        _code(uow_factory, shop, "once")


def _race(uow: SqlUnitOfWorkFactory, tenant_id: UUID, code: str, emails: list[str]) -> int:
    barrier = Barrier(len(emails))

    def one(email: str) -> bool:
        barrier.wait()
        try:
            place(uow, tenant_id, order_of(("X", 1), discount_codes=(code,), email=email))
        except InvalidRequest:
            return False
        return True

    with ThreadPoolExecutor(max_workers=len(emails)) as pool:
        return sum(pool.map(one, emails))


def test_fifty_concurrent_orders_get_a_code_limited_to_ten_uses_exactly_ten_times(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    code_id = _code(uow_factory, shop, "TENUSES", usage_limit=10)
    discounted = _race(uow_factory, shop, "TENUSES", [f"c{i}@example.com" for i in range(50)])
    assert discounted == 10
    code = get_discount_code(uow_factory=uow_factory, tenant_id=shop, code_id=code_id)
    assert code.times_used == 10


def test_ten_concurrent_orders_from_one_customer_use_a_once_per_customer_code_once(
    uow_factory: SqlUnitOfWorkFactory, shop: UUID
) -> None:
    _code(uow_factory, shop, "FIRSTONLY", per_customer_limit=1)
    assert _race(uow_factory, shop, "FIRSTONLY", ["same@example.com"] * 10) == 1
    assert _race(uow_factory, shop, "FIRSTONLY", ["other@example.com"]) == 1


def test_a_code_window_is_respected(uow_factory: SqlUnitOfWorkFactory, shop: UUID) -> None:
    placed_at = datetime(2031, 5, 6, 12, 0, tzinfo=UTC)
    _code(uow_factory, shop, "LATER", starts_at=placed_at + timedelta(days=1))
    with pytest.raises(InvalidRequest) as refused:
        place(uow_factory, shop, order_of(("X", 1), discount_codes=("LATER",)), at=placed_at)
    assert "not started" in refused.value.errors[0].detail


# --- the usage limits, one suite for both places they are written ---------------------------
#
# The total limit is checked twice: on the code as the order read it (``refusal``), and by
# the conditional UPDATE that counts the use (``redeem``), which alone decides when another
# order used the code after this one read it. Both are run against the same cases; the
# database's is given the code as read before the others' uses, as a race would give it.


class UsageCase(NamedTuple):
    usage_limit: int | None
    times_used: int
    usable: bool


USAGE_CASES = {
    "no limit": UsageCase(None, 7, True),
    "the first of one": UsageCase(1, 0, True),
    "the last of ten": UsageCase(10, 9, True),
    "one past ten": UsageCase(10, 10, False),
    "the only one, used": UsageCase(1, 1, False),
}
NOW = datetime(2030, 1, 1, tzinfo=UTC)
Usable = Callable[[SqlUnitOfWork, UUID, DiscountCode, int], bool]


def _checked_on_the_read(
    uow: SqlUnitOfWork, tenant_id: UUID, code: DiscountCode, used: int
) -> bool:
    read = replace(code, times_used=used)
    return read.refusal(subtotal=Decimal(100), currency="EUR", at=NOW) is None


def _redeemed_in_the_database(
    uow: SqlUnitOfWork, tenant_id: UUID, code: DiscountCode, used: int
) -> bool:
    assert uow.discounts.add(tenant_id, replace(code, times_used=used), NOW)
    why = uow.discounts.redeem(tenant_id, code, customer_email=None)  # read before those uses
    stored = uow.discounts.get(tenant_id, code.id)
    assert stored is not None
    assert stored.times_used == used + (why is None)
    return why is None


USAGE_RULES: dict[str, Usable] = {
    "checked on the read": _checked_on_the_read,
    "redeemed in the database": _redeemed_in_the_database,
}


@pytest.mark.parametrize("usable", USAGE_RULES.values(), ids=USAGE_RULES.keys())
@pytest.mark.parametrize("case", USAGE_CASES.values(), ids=USAGE_CASES.keys())
def test_a_code_is_usable_only_below_its_usage_limit(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, case: UsageCase, usable: Usable
) -> None:
    code = DiscountCode(
        id=new_id(),
        code="LIMITED",
        kind=DiscountKind.PERCENTAGE,
        value=Decimal(10),
        usage_limit=case.usage_limit,
    )
    with uow_factory() as uow:  # not committed
        assert usable(uow, tenant_id, code, case.times_used) is case.usable


@pytest.mark.parametrize(
    ("limit", "uses", "usable"), [(1, 0, True), (1, 1, False), (3, 2, True), (3, 3, False)]
)
def test_a_code_is_usable_by_one_customer_only_below_its_per_customer_limit(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID, limit: int, uses: int, usable: bool
) -> None:
    code = DiscountCode(
        id=new_id(),
        code="PERSONAL",
        kind=DiscountKind.PERCENTAGE,
        value=Decimal(10),
        per_customer_limit=limit,
    )
    with uow_factory() as uow:  # not committed
        assert uow.discounts.add(tenant_id, code, NOW)
        for _ in range(uses):
            assert uow.discounts.redeem(tenant_id, code, customer_email="ann@example.com") is None

        why = uow.discounts.redeem(tenant_id, code, customer_email="ann@example.com")
        other = uow.discounts.redeem(tenant_id, code, customer_email="bob@example.com")

    assert (why is None) is usable
    assert why is None or why == "already used by this customer"
    assert other is None
