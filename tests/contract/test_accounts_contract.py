"""Tenants and their API keys, order numbers and policies; customers, discount codes, risk
rules, idempotency keys and cart reservations: the same answers from every
implementation."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from oms.domain.carts import CartLine, CartReservation, CartStatus
from oms.domain.ids import new_id
from oms.domain.policies import TenantPolicies
from oms.domain.pricing import DiscountCode, DiscountKind
from oms.domain.risk import RiskRule, RiskRuleKind
from oms.domain.tenancy import ApiKeyScope, Principal, Tenant
from oms.services.ports import ApiKeyRecord, CustomerTally, IdempotencyRecord, UnitOfWorkFactory
from tests.contract.conftest import T0, stocked, unique

LATER = T0 + timedelta(hours=1)


def test_a_taken_slug_adds_no_tenant(uow_factory: UnitOfWorkFactory) -> None:
    slug = unique("shop")
    first = Tenant(id=new_id(), name="Shop", created_at=T0, slug=slug)
    with uow_factory() as uow:
        assert uow.tenants.add(first)
        assert not uow.tenants.add(Tenant(id=new_id(), name="Other", created_at=T0, slug=slug))
        assert uow.tenants.add(Tenant(id=new_id(), name="Two", created_at=T0, slug=f"{slug}-2"))
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.tenants.get(first.id) == first
        assert uow.tenants.by_slug(slug) == first
        assert uow.tenants.slugs_like(slug) == {slug, f"{slug}-2"}
        assert first.id in uow.tenants.list_ids()
        assert first in uow.tenants.all()


def test_an_api_key_finds_its_principal_until_revoked(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    key_hash = new_id().hex * 2
    record = ApiKeyRecord(new_id(), tenant_id, ApiKeyScope.TENANT, "ci", "oms_ab12", key_hash, T0)
    with uow_factory() as uow:
        uow.tenants.add_api_key(record)
        uow.commit()
    with uow_factory() as uow:
        assert uow.tenants.principal_for_key(key_hash) == Principal(
            key_id=record.id, scope=ApiKeyScope.TENANT, tenant_id=tenant_id
        )
        (view,) = uow.tenants.api_keys(tenant_id)
        assert (view.id, view.prefix, view.revoked_at) == (record.id, "oms_ab12", None)
        assert uow.tenants.revoke_api_key(record.id, LATER)
        assert not uow.tenants.revoke_api_key(record.id, LATER)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.tenants.principal_for_key(key_hash) is None
        assert uow.tenants.api_keys(tenant_id)[0].revoked_at == LATER


def test_order_numbers_start_at_1001_and_increase(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with uow_factory() as uow:
        assert uow.tenants.next_order_number(tenant_id) == 1001
        assert uow.tenants.next_order_numbers(tenant_id, 3) == [1002, 1003, 1004]
        assert uow.tenants.next_order_numbers(tenant_id, 0) == []
        uow.commit()
    with uow_factory() as uow:
        assert uow.tenants.next_order_number(tenant_id) == 1005
        uow.commit()


def test_policies_read_back_as_set_and_default_until_then(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    chosen = TenantPolicies(authorization_ttl_hours=48, nightly_hour=4)
    with uow_factory() as uow:
        assert uow.tenants.policies(tenant_id) == TenantPolicies()
        uow.tenants.set_policies(tenant_id, chosen)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.tenants.policies(tenant_id) == chosen
        settings = uow.tenants.intake_settings(tenant_id, T0)
        assert (settings.policies, settings.carts_due) == (chosen, False)


def test_a_customer_is_counted_per_email_and_keeps_its_first_order(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    with uow_factory() as uow:
        new = uow.customers.record_order(
            tenant_id, email="ann@example.com", name="Ann", phone=None, at=T0
        )
        assert (new.orders_count, new.first_order_at) == (0, None)
        again = uow.customers.record_order(
            tenant_id, email="ann@example.com", name=None, phone="+49 1", at=LATER
        )
        assert (again.id, again.orders_count, again.first_order_at) == (new.id, 1, T0)
        ids = uow.customers.record_orders(
            tenant_id,
            [
                CustomerTally(new_id(), "bob@example.com", "Bob", None, 2, T0, LATER),
                CustomerTally(new_id(), "ann@example.com", "Anna", None, 3, LATER, LATER),
            ],
        )
        assert ids["ann@example.com"] == new.id
        uow.commit()
    with uow_factory(readonly=True) as uow:
        ann = uow.customers.get(tenant_id, new.id)
        assert ann is not None
        assert (ann.name, ann.phone, ann.orders_count, ann.first_order_at) == (
            "Anna",
            "+49 1",
            5,
            T0,
        )
        assert set(uow.customers.by_emails(tenant_id, ["bob@example.com", "x@y.z"])) == {
            "bob@example.com"
        }
        everyone = uow.customers.page(tenant_id, email=None, after_id=None, limit=9)
        assert [c.id for c in everyone] == sorted(ids.values())
        rest = uow.customers.page(tenant_id, email=None, after_id=everyone[0].id, limit=9)
        assert rest == everyone[1:]


def _code(code: str, **limits: int | None) -> DiscountCode:
    return DiscountCode(
        id=new_id(), code=code, kind=DiscountKind.PERCENTAGE, value=Decimal("10.00"), **limits
    )


def test_discount_codes_are_unique_per_tenant_and_page_by_code(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    spring = replace(_code("SPRING"), currency="EUR", starts_at=T0, ends_at=LATER)
    with uow_factory() as uow:
        assert uow.discounts.add(tenant_id, spring, T0)
        assert not uow.discounts.add(tenant_id, _code("SPRING"), T0)
        assert uow.discounts.add(tenant_id, _code("AUTUMN"), T0)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.discounts.get(tenant_id, spring.id) == spring
        assert uow.discounts.by_codes(tenant_id, ["SPRING", "NONE"]) == {"SPRING": spring}
        page = uow.discounts.page(tenant_id, after_code="AUTUMN", limit=5)
        assert [c.code for c in page] == ["SPRING"]


def test_redeeming_counts_within_the_code_and_customer_limits(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    code = _code("ONCE", usage_limit=3, per_customer_limit=1)
    with uow_factory() as uow:
        uow.discounts.add(tenant_id, code, T0)
        assert uow.discounts.redeem(tenant_id, code, customer_email="a@x.de") is None
        assert uow.discounts.redeem(tenant_id, code, customer_email=None) is not None
        assert uow.discounts.redeem(tenant_id, code, customer_email="a@x.de") == (
            "already used by this customer"
        )
        assert uow.discounts.redeem(tenant_id, code, customer_email="b@x.de") == "used up"
        uow.rollback()  # as a use case does when a redemption is refused
        uow.discounts.add(tenant_id, code, T0)
        assert uow.discounts.redeem(tenant_id, code, customer_email="a@x.de") is None
        uow.commit()
    with uow_factory(readonly=True) as uow:
        stored = uow.discounts.get(tenant_id, code.id)
        assert stored is not None
        assert stored.times_used == 1


def test_risk_rules_list_by_id_and_deactivate_once(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    rules = sorted(
        [
            RiskRule(new_id(), RiskRuleKind.ORDER_VALUE_ABOVE, {"amount": "500.00"}),
            RiskRule(new_id(), RiskRuleKind.BLOCKED_DOMAIN, {"domains": ["spam.test"]}),
        ],
        key=lambda r: r.id,
    )
    with uow_factory() as uow:
        for rule in reversed(rules):
            uow.risk_rules.add(tenant_id, rule, T0)
        uow.commit()
    with uow_factory() as uow:
        assert uow.risk_rules.all(tenant_id) == rules
        assert uow.risk_rules.deactivate(tenant_id, rules[0].id)
        assert not uow.risk_rules.deactivate(tenant_id, rules[0].id)
        assert not uow.risk_rules.deactivate(tenant_id, new_id())
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.risk_rules.active(tenant_id) == rules[1:]
        assert uow.risk_rules.all(tenant_id) == [replace(rules[0], active=False), rules[1]]


def test_an_idempotency_key_is_claimed_once_and_names_its_resource(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    resource = new_id()
    with uow_factory() as uow:
        assert uow.idempotency.claim(tenant_id, "k-1", operation="order", fingerprint="f", at=T0)
        assert not uow.idempotency.claim(
            tenant_id, "k-1", operation="order", fingerprint="g", at=T0
        )
        uow.idempotency.attach(tenant_id, "k-1", resource)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        assert uow.idempotency.get(tenant_id, "k-1") == IdempotencyRecord(
            "k-1", "order", "f", resource
        )
        assert uow.idempotency.get(tenant_id, "k-2") is None


def test_cart_reservations_fall_due_in_expiry_order_and_close_once(
    uow_factory: UnitOfWorkFactory, tenant_id: UUID
) -> None:
    (place,) = stocked(uow_factory, tenant_id, ["A"], ["WH1"])
    early, late = (
        CartReservation(
            new_id(), CartStatus.ACTIVE, T0 + timedelta(minutes=m), T0, [CartLine(1, "A", place, 2)]
        )
        for m in (5, 10)
    )
    with uow_factory() as uow:
        uow.carts.add(tenant_id, late)
        uow.carts.add(tenant_id, early)
        uow.commit()
    with uow_factory() as uow:
        assert not uow.carts.any_due(tenant_id, T0)
        assert uow.tenants.intake_settings(tenant_id, LATER).carts_due
        assert uow.carts.due(tenant_id, LATER, limit=5) == [early, late]
        uow.carts.close(tenant_id, early.id, CartStatus.EXPIRED, LATER)
        with pytest.raises(RuntimeError):
            uow.carts.close(tenant_id, early.id, CartStatus.EXPIRED, LATER)
        uow.commit()
    with uow_factory(readonly=True) as uow:
        closed = uow.carts.get(tenant_id, early.id)
        assert closed == replace(early, status=CartStatus.EXPIRED, closed_at=LATER)
    with uow_factory() as uow:  # ``due`` claims them (locks on PostgreSQL): not read-only
        assert uow.carts.due(tenant_id, LATER, limit=5) == [late]
