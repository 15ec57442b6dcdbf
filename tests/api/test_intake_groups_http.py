"""POST /v1/orders under concurrency: orders go in groups, and each caller gets its own answer."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api import app as app_module
from oms.api.app import create_app
from oms.services.intake_group import Outcome, Submission
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    create_location,
    create_product,
    new_tenant,
    order_body,
    set_on_hand,
    stock_of,
)


def test_concurrent_orders_are_grouped_and_answered_one_by_one(
    client: TestClient, tenant: ApiTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_location(client, tenant, "WH")
    create_product(client, tenant, "TEE")
    create_product(client, tenant, "MUG")
    set_on_hand(client, tenant, "TEE", "WH", 5)
    set_on_hand(client, tenant, "MUG", "WH", 100)
    groups: list[int] = []
    real = app_module.place_group

    def recording(**kwargs: Any) -> list[Outcome]:
        submissions: Sequence[Submission] = kwargs["submissions"]
        groups.append(len(submissions))
        return real(**kwargs)

    monkeypatch.setattr(app_module, "place_group", recording)
    bodies = [
        *(order_body(("TEE", 1), allow_backorder=False, external_id=f"t-{n}") for n in range(12)),
        *(order_body(("MUG", 1), external_id="same") for _ in range(3)),
        order_body(("NOPE", 1)),
    ]

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://oms") as http:
            return list(
                await asyncio.gather(
                    *(http.post("/v1/orders", headers=tenant.headers, json=b) for b in bodies)
                )
            )

    answers = asyncio.run(send_all())

    tees, copies, invalid = answers[:12], answers[12:15], answers[15]
    assert Counter(a.status_code for a in tees) == Counter({201: 5, 409: 7})
    for refused in (a for a in tees if a.status_code == 409):
        assert refused.headers["content-type"] == "application/problem+json"
        assert [s["sku"] for s in refused.json()["shortages"]] == ["TEE"]
    assert sorted(a.status_code for a in copies) == [200, 200, 201]
    assert len({a.json()["id"] for a in copies}) == 1
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert stock_of(client, tenant, "TEE")["reserved"] == 5
    assert stock_of(client, tenant, "MUG")["reserved"] == 1
    # Sixteen requests, fewer groups: they went together.
    assert sum(groups) == len(bodies)
    assert len(groups) < len(bodies)


@pytest.mark.parametrize("workers", [1, 2])
def test_two_copies_for_the_last_unit_answer_201_and_200_with_one_order(
    engine: Engine, workers: int, request: pytest.FixtureRequest
) -> None:
    """The same order sent twice at once (to one worker, or to two), for the last unit and
    refusing backorders: one copy creates it, the other answers it; neither answers 409."""
    settings = api_settings_for(engine.url.render_as_string(hide_password=False))
    tenant = new_tenant(SqlUnitOfWorkFactory(engine), "twins")
    rounds = 10 if "postgres" in request.node.callspec.id else 3
    with ExitStack() as stack:
        clients = [
            stack.enter_context(TestClient(create_app(settings, engine=engine)))
            for _ in range(workers)
        ]
        first = clients[0]
        create_location(first, tenant, "WH")
        for client in clients:  # the key is cached: the orders take the intake lane
            assert client.get("/v1/orders", headers=tenant.headers).status_code == 200
        for round_no in range(rounds):
            sku = f"LAST-{round_no}"
            create_product(first, tenant, sku)
            set_on_hand(first, tenant, sku, "WH", 1)
            body = order_body((sku, 1), allow_backorder=False, external_id=f"twin-{round_no}")

            async def send_twins(body: dict[str, Any] = body) -> list[httpx.Response]:
                async with (
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=clients[0].app), base_url="http://a"
                    ) as one,
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=clients[-1].app), base_url="http://b"
                    ) as other,
                ):
                    return list(
                        await asyncio.gather(
                            one.post("/v1/orders", headers=tenant.headers, json=body),
                            other.post("/v1/orders", headers=tenant.headers, json=body),
                        )
                    )

            answers = asyncio.run(send_twins())

            assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
            assert len({a.json()["id"] for a in answers}) == 1
            stock = stock_of(first, tenant, sku)
            assert (stock["reserved"], stock["available"]) == (1, 0)
