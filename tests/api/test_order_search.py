"""The order search (``OrderRepository.search``) on both databases: a part of the customer's
name (case aside, ``%`` and ``_`` taken literally), an external id without its channel
(exactly), an email, a number; only the tenant's orders. On PostgreSQL every alternative of
the search is one an index answers (migration 0021: a trigram index on the name): with
sequential and plain index scans forbidden the plan still exists and reads that index."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from oms.adapters.db.repositories.order_search import search_statement
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.services.order_overview import find_orders
from oms.services.ports import OrderSearch
from tests.api.order_support import clean_order, stock_shop
from tests.api.support import ApiTenant, TestClient


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


def _numbers(uow: SqlUnitOfWorkFactory, tenant: ApiTenant, q: str) -> set[int]:
    found = find_orders(
        uow_factory=uow, tenant_id=tenant.id, search=OrderSearch(text=q), before_id=None, limit=50
    )
    return {order.number for order in found}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("hopp", {"grace"}),
        ("HOPPER", {"grace"}),
        ("ce Ho", {"grace"}),
        ("100%", {"percent"}),
        ("1_0", {"underscore"}),
        ("Ada", {"ada"}),
        ("EXT-42", {"ada"}),
        ("ext-42", set()),
        ("GRACE@example.com", {"grace"}),
        ("nobody", set()),
    ],
)
def test_an_order_is_found_by_part_of_the_name_and_exact_keys(
    client: TestClient,
    shop: ApiTenant,
    other_tenant: ApiTenant,
    api_uow: SqlUnitOfWorkFactory,
    q: str,
    expected: set[str],
) -> None:
    stock_shop(client, other_tenant)
    people = {
        "grace": {"name": "Grace Hopper", "email": "grace@example.com"},
        "ada": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "percent": {"name": "Mr 100% Sure", "email": "p@example.com"},
        "underscore": {"name": "Agent 1_0", "email": "u@example.com"},
        "lookalike": {"name": "Agent 100 Percent", "email": "l@example.com"},
    }
    numbers = {
        key: clean_order(
            client, shop, customer=who, **({"external_id": "EXT-42"} if key == "ada" else {})
        )["number"]
        for key, who in people.items()
    }
    clean_order(client, other_tenant, customer={"name": "Grace Hopper", "email": "g@x.example"})

    assert _numbers(api_uow, shop, q) == {numbers[key] for key in expected}


def test_on_postgresql_the_name_search_can_be_answered_from_the_trigram_index(
    api_engine: Engine, shop: ApiTenant
) -> None:
    if api_engine.dialect.name != "postgresql":
        pytest.skip("the trigram index is PostgreSQL's")
    # Every tenant's (the operator's search): no tenant range to read instead, so with
    # sequential and plain index scans forbidden, only a BitmapOr of every alternative is
    # left, which exists only if each one is indexed.
    statement = search_statement(None, OrderSearch(text="hopper"), None, 51)
    compiled = statement.compile(dialect=api_engine.dialect)

    with api_engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
        found = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        plan = "\n".join(row[0] for row in found)

    assert "ix_orders_customer_name_trgm" in plan, plan
    assert "BitmapOr" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_tenant_filter_keeps_other_tenants_orders_out(
    client: TestClient, shop: ApiTenant, other_tenant: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    stock_shop(client, other_tenant)
    theirs = clean_order(client, other_tenant, customer={"name": "Only Theirs", "email": "t@x.io"})

    assert _numbers(api_uow, shop, "only theirs") == set()
    assert _numbers(api_uow, other_tenant, "only theirs") == {theirs["number"]}
