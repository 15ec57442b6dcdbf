"""Discount codes on the in-memory unit of work: defining them, and redeeming them inside
an order's transaction within the code's and each customer's limits."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.adapters.memory.uow import MemoryUnitOfWorkFactory
from oms.domain.errors import AlreadyExists, InvalidRequest
from oms.domain.ids import new_id
from oms.domain.pricing import DiscountCode, DiscountKind
from oms.services.discounts import (
    apply_codes,
    create_discount_code,
    get_discount_code,
    list_discount_codes,
)
from oms.services.tenants import create_tenant

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _world() -> tuple[MemoryUnitOfWorkFactory, UUID]:
    factory = MemoryUnitOfWorkFactory()
    tenant, _ = create_tenant(uow_factory=factory, name="Shop", at=NOW)
    return factory, tenant.id


def _define(
    factory: MemoryUnitOfWorkFactory, tenant_id: UUID, code: str, **fields: Any
) -> DiscountCode:
    given = {"kind": DiscountKind.PERCENTAGE, "value": Decimal(10), **fields}
    return create_discount_code(
        uow_factory=factory,
        tenant_id=tenant_id,
        code=DiscountCode(id=new_id(), code=code, **given),
        at=NOW,
    )


def _order_uses(
    factory: MemoryUnitOfWorkFactory,
    tenant_id: UUID,
    codes: list[str],
    *,
    email: str | None = "ann@example.com",
    subtotal: str = "50.00",
) -> list[str]:
    """Apply ``codes`` as an order's intake does, in its own transaction: the codes used."""
    with factory() as uow:
        used = apply_codes(
            uow,
            tenant_id=tenant_id,
            codes=codes,
            subtotal=Decimal(subtotal),
            currency="EUR",
            customer_email=email,
            at=NOW,
        )
        uow.commit()
    return [c.code for c in used]


def test_a_code_is_stored_upper_case_once_per_tenant() -> None:
    factory, tenant_id = _world()
    made = _define(factory, tenant_id, " spring ")
    assert made.code == "SPRING"
    assert get_discount_code(uow_factory=factory, tenant_id=tenant_id, code_id=made.id) == made
    with pytest.raises(AlreadyExists):
        _define(factory, tenant_id, "Spring")


@pytest.mark.parametrize(
    "fields",
    [
        {"value": Decimal(0)},
        {"value": Decimal(101)},
        {"kind": DiscountKind.FIXED_AMOUNT, "value": Decimal(5)},  # no currency
        {"kind": DiscountKind.FREE_SHIPPING, "value": Decimal(1)},
        {"min_subtotal": Decimal(20)},  # a minimum needs its currency
    ],
)
def test_an_inconsistent_definition_is_refused_and_not_kept(fields: dict[str, Any]) -> None:
    factory, tenant_id = _world()
    with pytest.raises(InvalidRequest):
        _define(factory, tenant_id, "BAD", **fields)
    assert (
        list_discount_codes(uow_factory=factory, tenant_id=tenant_id, after_code=None, limit=5)
        == []
    )


def test_codes_are_listed_in_code_order_page_by_page() -> None:
    factory, tenant_id = _world()
    for code in ["WINTER", "AUTUMN", "SPRING"]:
        _define(factory, tenant_id, code)

    def page(after: str | None) -> list[str]:
        found = list_discount_codes(
            uow_factory=factory, tenant_id=tenant_id, after_code=after, limit=2
        )
        return [c.code for c in found]

    assert (page(None), page("SPRING")) == (["AUTUMN", "SPRING"], ["WINTER"])


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"starts_at": NOW + timedelta(days=1)}, "not started yet"),
        ({"ends_at": NOW}, "expired"),
        ({"active": False}, "not active"),
        ({"currency": "EUR", "min_subtotal": Decimal("60.00")}, "below the minimum"),
    ],
)
def test_a_code_outside_its_terms_is_refused_naming_why(fields: dict[str, Any], why: str) -> None:
    factory, tenant_id = _world()
    _define(factory, tenant_id, "TERMS", **fields)
    with pytest.raises(InvalidRequest) as refused:
        _order_uses(factory, tenant_id, ["terms"])
    assert why in str(refused.value.errors)


def test_a_refused_code_leaves_the_other_codes_of_the_order_unused() -> None:
    factory, tenant_id = _world()
    good = _define(factory, tenant_id, "GOOD", usage_limit=5)
    _define(factory, tenant_id, "DONE", usage_limit=1)
    _order_uses(factory, tenant_id, ["DONE"])
    with pytest.raises(InvalidRequest):
        _order_uses(factory, tenant_id, ["GOOD", "DONE"])
    stored = get_discount_code(uow_factory=factory, tenant_id=tenant_id, code_id=good.id)
    assert stored.times_used == 0


# Each order: which customer (None: no email) uses the code.
_customers = st.lists(st.sampled_from(["a@x.de", "b@x.de", "c@x.de", None]), max_size=12)


@settings(max_examples=40)
@given(
    _customers,
    st.one_of(st.none(), st.integers(1, 6)),
    st.one_of(st.none(), st.integers(1, 3)),
)
def test_redemptions_never_pass_the_codes_or_a_customers_limit(
    customers: list[str | None], usage_limit: int | None, per_customer: int | None
) -> None:
    factory, tenant_id = _world()
    code = _define(
        factory, tenant_id, "LIMITED", usage_limit=usage_limit, per_customer_limit=per_customer
    )
    used: Counter[str | None] = Counter()
    for email in customers:
        try:
            _order_uses(factory, tenant_id, ["LIMITED"], email=email)
        except InvalidRequest:
            continue
        used[email] += 1
    stored = get_discount_code(uow_factory=factory, tenant_id=tenant_id, code_id=code.id)
    assert stored.times_used == sum(used.values())
    assert usage_limit is None or stored.times_used <= usage_limit
    if per_customer is not None:
        assert used[None] == 0
        assert all(count <= per_customer for count in used.values())
    # Every refusal had a cause: with room left, the order would have been served.
    expected_total = 0
    seen: Counter[str | None] = Counter()
    for email in customers:
        if usage_limit is not None and expected_total >= usage_limit:
            continue
        if per_customer is not None and (email is None or seen[email] >= per_customer):
            continue
        seen[email] += 1
        expected_total += 1
    assert stored.times_used == expected_total
